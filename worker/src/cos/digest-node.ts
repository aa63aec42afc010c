/**
 * The same primitives as digest.ts — SHA-1 and HMAC-SHA1 as lowercase hex, SignKey kept per KeyTime — with
 * node:crypto, for the Node and SCF builds (an esbuild alias puts this file in place of digest.ts): in Node a
 * WebCrypto call costs several times a node:crypto one, and signing there must keep up with a plain Node server.
 */
import { createHash, createHmac } from "node:crypto";

const KEPT_KEYS = 64;
const signKeys = new Map<string, Promise<string>>();

export async function sha1Hex(message: string | Uint8Array<ArrayBuffer>): Promise<string> {
  return createHash("sha1").update(message).digest("hex");
}

export async function hmacSha1Hex(key: string, message: string): Promise<string> {
  return createHmac("sha1", key).update(message).digest("hex");
}

/** SignKey = HMAC-SHA1(SecretKey, KeyTime) ("Request Signature" step 2), kept per KeyTime. */
export function signKeyFor(secretKey: string, keyTime: string): Promise<string> {
  const id = `${keyTime}\n${secretKey}`;
  let signKey = signKeys.get(id);
  if (!signKey) {
    if (signKeys.size >= KEPT_KEYS) signKeys.delete(signKeys.keys().next().value!);
    signKey = hmacSha1Hex(secretKey, keyTime);
    signKeys.set(id, signKey);
  }
  return signKey;
}
