/**
 * The uploader's openid, which mediaCheckAsync needs, kept encrypted (AES-256-GCM) wherever it rests — in the session
 * token and in the ledger — so that it never shows in an answer, a log line or a webhook: only the signer, which holds
 * the key, can open it. The key is derived from SESSION_SECRET for this one purpose; the user's key segment is the
 * additional data, so a sealed openid cannot be moved to another user's books.
 */
const UTF8 = new TextEncoder();
const LABEL = "cos-edge-signer/openid/v1";
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const hmac = await crypto.subtle.importKey("raw", UTF8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const raw = await crypto.subtle.sign("HMAC", hmac, UTF8.encode(LABEL));
      return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    })();
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (char) => char.charCodeAt(0));

/** base64url(12-byte IV ‖ ciphertext ‖ tag). */
export async function sealOpenid(secret: string, user: string, openid: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: UTF8.encode(user) }, await keyFor(secret), UTF8.encode(openid)));
  const out = new Uint8Array(12 + sealed.length);
  out.set(iv);
  out.set(sealed, 12);
  return base64url(out);
}

/** The openid, or undefined when `sealed` was not sealed by this secret for this user. */
export async function openOpenid(secret: string, user: string, sealed: string): Promise<string | undefined> {
  try {
    const bytes = fromBase64url(sealed);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: UTF8.encode(user) }, await keyFor(secret), bytes.subarray(12));
    return new TextDecoder().decode(plain);
  } catch {
    return undefined;
  }
}
