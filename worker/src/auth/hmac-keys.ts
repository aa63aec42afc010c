/**
 * HMAC-SHA256 keys for the JWTs the signer issues (sessions, upload tokens, receipts), imported once per isolate and
 * kept (a few dozen at most): importing a key costs about as much as using it.
 */
const UTF8 = new TextEncoder();
const KEPT_KEYS = 64;
const kept = new Map<string, Promise<CryptoKey>>();

function keep(id: string, create: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = kept.get(id);
  if (!key) {
    if (kept.size >= KEPT_KEYS) kept.delete(kept.keys().next().value!);
    key = create();
    key.catch(() => kept.delete(id));
    kept.set(id, key);
  }
  return key;
}

const importRaw = (raw: BufferSource) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);

/** The secret itself as the key. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return keep(`raw\n${secret}`, () => importRaw(UTF8.encode(secret)));
}

/** HMAC-SHA256(secret, label) as the key: one secret gives keys for separate purposes, none of them the secret. */
export function derivedHmacKey(secret: string, label: string): Promise<CryptoKey> {
  return keep(`${label}\n${secret}`, async () => importRaw(await crypto.subtle.sign("HMAC", await hmacKey(secret), UTF8.encode(label))));
}
