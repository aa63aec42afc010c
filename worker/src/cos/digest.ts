/** SHA-1 and HMAC-SHA1 through WebCrypto, as lowercase hex: the only primitives q-sign needs. */
import { toHex, utf8 } from "./encoding.js";

export async function sha1Hex(message: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const data = typeof message === "string" ? utf8(message) : message;
  return toHex(await crypto.subtle.digest("SHA-1", data));
}

export async function hmacSha1Hex(key: string, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", utf8(key), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", cryptoKey, utf8(message)));
}
