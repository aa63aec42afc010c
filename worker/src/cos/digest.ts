/**
 * SHA-1 and HMAC-SHA1 through WebCrypto, as lowercase hex: the only primitives q-sign needs.
 * Imported HMAC keys are kept (a few dozen at most): a Worker signs many times with one SecretKey, and with one
 * SignKey for every signature of the same KeyTime, so importing each once saves most of the cost of a signature.
 */
import { toHex, utf8 } from "./encoding.js";

const KEPT_KEYS = 64;

/** The cached promise for `id`, made by `create` on a miss; the oldest entry goes past KEPT_KEYS, a failure at once. */
function kept<T>(cache: Map<string, Promise<T>>, id: string, create: () => Promise<T>): Promise<T> {
  let value = cache.get(id);
  if (!value) {
    value = create();
    value.catch(() => cache.delete(id));
    if (cache.size >= KEPT_KEYS) cache.delete(cache.keys().next().value!);
    cache.set(id, value);
  }
  return value;
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  return kept(importedKeys, secret, () => crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]));
}

export async function sha1Hex(message: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const data = typeof message === "string" ? utf8(message) : message;
  return toHex(await crypto.subtle.digest("SHA-1", data));
}

export async function hmacSha1Hex(key: string, message: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(key), utf8(message)));
}

const signKeys = new Map<string, Promise<string>>();

/**
 * SignKey = HMAC-SHA1(SecretKey, KeyTime) ("Request Signature" step 2, "POST Object" step 4), kept per KeyTime:
 * every signature issued within the same second shares it.
 */
export function signKeyFor(secretKey: string, keyTime: string): Promise<string> {
  return kept(signKeys, `${keyTime}\n${secretKey}`, () => hmacSha1Hex(secretKey, keyTime));
}
