/**
 * After the upload: what COS holds under a caller's own key, as a signed receipt the app's backend can trust without
 * COS keys, and presigned GET URLs of it for private buckets.
 */
import { sign } from "hono/jwt";
import type { UploadProfile } from "../config/index.js";
import { keyTimeAt, presignUrl } from "../cos/index.js";
import { callCos } from "../cos-api/client.js";
import { objectLocation } from "../cos-api/object-location.js";
import { InvalidRequestError, SignerError } from "../http/errors.js";
import { hmacKey } from "../auth/hmac-keys.js";

/** How long a receipt is valid: long enough for the app's backend to receive and check it. */
export const RECEIPT_TTL_SECONDS = 600;
export const RECEIPT_AUDIENCE = "cos-edge-signer/receipt";

/**
 * The key, if it is one the signer gave this caller in this profile: `<prefix>/<YYYY>/<MM>/<DD>/<32 hex>.<ext>`
 * under the caller's own prefix — 400 for anything else, 403 for a key of another caller.
 */
export function ownKey(value: unknown, prefix: string): string {
  const shape = /^(.*)\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.[a-z0-9]{1,10}$|^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.[a-z0-9]{1,10}$/;
  const match = typeof value === "string" && value.length <= 512 ? shape.exec(value) : null;
  if (!match) throw new InvalidRequestError("key_invalid", "key must be an object key the signer gave, such as uploads/2026/11/29/<32 hex>.jpg");
  if ((match[1] ?? "") !== prefix) throw new SignerError("key_not_allowed", "this key is not in your own uploads");
  return value as string;
}

export interface ObjectFacts {
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
  readonly etag: string;
  /** CRC-64/ECMA-182 as COS computed it (x-cos-hash-crc64ecma), when COS has one. */
  readonly crc64: string | null;
  readonly lastModified: string | null;
  readonly profile: string;
  /** The uploader's key segment; null when anyone may sign (AUTH_MODE=none). */
  readonly user: string | null;
}

/** What COS holds under the key (a signed HEAD); 404 object_not_found when nothing. */
export async function objectFacts(profile: UploadProfile, key: string, user: string): Promise<ObjectFacts> {
  const head = await callCos(profile, { method: "HEAD", key });
  const lastModified = head.headers.get("last-modified");
  return {
    key,
    size: Number(head.headers.get("content-length")),
    contentType: head.headers.get("content-type") ?? "application/octet-stream",
    etag: head.headers.get("etag") ?? "",
    crc64: head.headers.get("x-cos-hash-crc64ecma"),
    lastModified: lastModified ? new Date(lastModified).toISOString() : null,
    profile: profile.name,
    user: user || null,
  };
}

/** DeleteObject of one of the caller's keys; an object COS no longer has counts as deleted. */
export async function deleteObject(profile: UploadProfile, key: string): Promise<void> {
  try {
    await callCos(profile, { method: "DELETE", key });
  } catch (error) {
    if (!(error instanceof SignerError && error.code === "object_not_found")) throw error;
  }
}

/** The receipt: an HS256 JWS over the facts, with RECEIPT_SECRET, valid RECEIPT_TTL_SECONDS. */
export async function receiptFor(facts: ObjectFacts, secret: string, now: Date): Promise<{ receipt: string; expiresAt: string }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + RECEIPT_TTL_SECONDS;
  const claims = { ...facts, iss: "cos-edge-signer", aud: RECEIPT_AUDIENCE, ...(facts.user ? { sub: facts.user } : {}), iat, exp };
  return { receipt: await sign(claims, await hmacKey(secret), "HS256"), expiresAt: new Date(exp * 1000).toISOString() };
}

/** POSTs the receipt to the app's backend, three tries with backoff; failures are logged, never thrown. */
export function deliverReceipt(url: string, receipt: string, requestId: string): Promise<void> {
  return deliverToWebhook(url, { receipt }, requestId);
}

/** POSTs one signed event (`{receipt}`, `{event, moderation}`) to the receipt webhook, retried like receipts. */
export async function deliverToWebhook(url: string, body: Record<string, string>, requestId: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Request-Id": requestId },
        body: JSON.stringify(body),
        // A redirect is a failed delivery: the receipt goes to the configured URL or nowhere.
        redirect: "manual",
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return;
      if (response.status < 500 && response.status !== 429) break;
    } catch {
      // network error or timeout: try again
    }
    if (attempt < 3) await new Promise((done) => setTimeout(done, 500 * 2 ** (attempt - 1)));
  }
  console.warn(JSON.stringify({ level: "warn", requestId, code: "receipt_webhook_failed", message: `the receipt webhook did not accept the ${body.event ?? "receipt"} after 3 tries` }));
}

/** Image processing a read URL may carry (Cloud Infinite, done by COS on the way out), by name. */
export const IMAGE_PROCESSING: Readonly<Record<string, string>> = {
  thumbnail: "imageMogr2/thumbnail/480x480",
  small: "imageMogr2/thumbnail/160x160",
  webp: "imageMogr2/format/webp",
};

export const MAX_READ_SECONDS = 3600;

/** A presigned GET of one object, its query (the processing step) signed too, valid `expiresIn` seconds. */
export async function readUrl(profile: UploadProfile, key: string, expiresIn: number, process: string | undefined, now: Date): Promise<{ url: string; expiresAt: string }> {
  const location = objectLocation(profile, key);
  const keyTime = keyTimeAt(now, expiresIn);
  const url = process === undefined ? location.url : `${location.url}?${IMAGE_PROCESSING[process]}`;
  const { url: signed } = await presignUrl(profile.readCredentials, { method: "GET", url, keyTime });
  return { url: signed, expiresAt: new Date(keyTime.end * 1000).toISOString() };
}

/** Refuses read URLs for a profile that gives none. */
export function checkReads(profile: UploadProfile): void {
  if (profile.read !== "owner") throw new SignerError("read_not_allowed", `profile "${profile.name}" gives no read URLs (set read = "owner")`);
}
