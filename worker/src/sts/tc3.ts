/**
 * Tencent Cloud API 3.0 request signature, TC3-HMAC-SHA256 ("Signature v3", cloud.tencent.com/document/api/213/30654),
 * for a JSON POST: every step exposed, the time an input. WebCrypto only.
 */
import { toHex, utf8 } from "../cos/encoding.js";

/** The Content-Type that is sent and signed; the doc's example and Tencent's SDKs use exactly this string. */
export const TC3_CONTENT_TYPE = "application/json; charset=utf-8";

export interface Tc3Request {
  /** API host, e.g. `sts.tencentcloudapi.com`; signed without a port, as Tencent's SDKs sign the URL's hostname. */
  readonly host: string;
  /** Product name, the first label of the official host: `sts`, `cvm`. */
  readonly service: string;
  /** The exact body bytes that will be sent, as text. */
  readonly payload: string;
  /** Unix seconds; its UTC date is the scope's date. */
  readonly timestamp: number;
}

export interface Tc3Signature {
  readonly hashedPayload: string;
  readonly canonicalRequest: string;
  readonly credentialScope: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** The `Authorization` header. */
  readonly authorization: string;
}

const sha256Hex = async (text: string) => toHex(await crypto.subtle.digest("SHA-256", utf8(text)));

async function hmacSha256(key: BufferSource, message: string): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", imported, utf8(message));
}

/** `yyyy-mm-dd` of a Unix time, in UTC (the doc's warning: a local date fails around midnight). */
export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export async function signTc3(credentials: { readonly secretId: string; readonly secretKey: string }, request: Tc3Request): Promise<Tc3Signature> {
  // Step 1: CanonicalRequest; POST, URI "/", empty query, the two required headers, the hex SHA-256 of the body.
  const hashedPayload = await sha256Hex(request.payload);
  const canonicalRequest = `POST\n/\n\ncontent-type:${TC3_CONTENT_TYPE}\nhost:${request.host.toLowerCase()}\n\ncontent-type;host\n${hashedPayload}`;
  // Step 2: StringToSign over the scope `<UTC date>/<service>/tc3_request`.
  const date = utcDate(request.timestamp);
  const credentialScope = `${date}/${request.service}/tc3_request`;
  const stringToSign = `TC3-HMAC-SHA256\n${request.timestamp}\n${credentialScope}\n${await sha256Hex(canonicalRequest)}`;
  // Step 3: the derived key, each HMAC keyed with the raw bytes of the previous one; only the result is hex.
  const secretDate = await hmacSha256(utf8(`TC3${credentials.secretKey}`), date);
  const secretService = await hmacSha256(secretDate, request.service);
  const secretSigning = await hmacSha256(secretService, "tc3_request");
  const signature = toHex(await hmacSha256(secretSigning, stringToSign));
  // Step 4: the Authorization header.
  const authorization = `TC3-HMAC-SHA256 Credential=${credentials.secretId}/${credentialScope}, SignedHeaders=content-type;host, Signature=${signature}`;
  return { hashedPayload, canonicalRequest, credentialScope, stringToSign, signature, authorization };
}
