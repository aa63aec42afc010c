/**
 * Multipart uploads (COS 436/7746 Initiate, 7750 UploadPart, 7747 ListParts, 7742 Complete, 7740 Abort), kept
 * stateless: the Worker initiates, lists, completes and aborts itself; the client only sends parts, each signed for
 * its number, the upload, the host and its exact length. What the upload may be lives in the upload token.
 */
import type { UploadProfile } from "../config/index.js";
import { keyTimeAt, securityTokenHeaders, signRequest } from "../cos/index.js";
import { callCos, cosError, queryString, xmlBlocks, xmlText } from "../cos-api/client.js";
import { objectLocation } from "../cos-api/object-location.js";
import { InvalidRequestError, SignerError } from "../http/errors.js";
import { type PartPlan, partLength } from "./parts.js";
import type { UploadClaims } from "./token.js";

/** Parts signed per request at most. */
export const MAX_PARTS_PER_CALL = 100;
/** Part signatures last an hour: a batch of 100 parts of 5 MiB must fit in it at 140 KB/s. */
export const PART_SIGNATURE_TTL_SECONDS = 3600;

/** InitiateMultipartUpload for a key the signer chose; the type and overwrite protection are stored with it. */
export async function initiateUpload(profile: UploadProfile, key: string, contentType: string): Promise<string> {
  const headers: Record<string, string> = { "content-type": contentType, ...(profile.forbidOverwrite ? { "x-cos-forbid-overwrite": "true" } : {}) };
  const response = await callCos(profile, { method: "POST", key, query: { uploads: "" }, headers });
  const uploadId = xmlText(await response.text(), "UploadId");
  if (!uploadId) throw new SignerError("cos_unavailable", "COS answered InitiateMultipartUpload without an UploadId");
  return uploadId;
}

export interface SignedPart {
  readonly partNumber: number;
  readonly url: string;
  /** Headers to send with the part's PUT; the runtime adds Host and Content-Length (both signed). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Whole part numbers within 1..partCount, each once, at most MAX_PARTS_PER_CALL. */
export function checkPartNumbers(value: readonly number[], plan: PartPlan): readonly number[] {
  const bad = value.find((n) => !Number.isSafeInteger(n) || n < 1 || n > plan.partCount);
  if (bad !== undefined) throw new InvalidRequestError("part_numbers_invalid", `part numbers run from 1 to ${plan.partCount}; got ${String(bad).slice(0, 20)}`);
  if (new Set(value).size !== value.length) throw new InvalidRequestError("part_numbers_invalid", "partNumbers lists a part twice");
  return value;
}

/**
 * One signed UploadPart per number, binding partNumber and uploadId (query), host and the part's exact
 * content-length (headers), and its Content-MD5 when the client gives one.
 */
export async function signParts(
  profile: UploadProfile,
  claims: UploadClaims,
  partNumbers: readonly number[],
  md5s: Readonly<Record<string, string>> = {},
  now: Date,
): Promise<SignedPart[]> {
  const location = objectLocation(profile, claims.key);
  const keyTime = keyTimeAt(now, PART_SIGNATURE_TTL_SECONDS);
  return Promise.all(
    partNumbers.map(async (partNumber) => {
      const md5 = (md5s as Record<string, string>)[String(partNumber)];
      const query = { partNumber: String(partNumber), uploadId: claims.uploadId };
      const { authorization } = await signRequest(
        profile.credentials,
        {
          method: "PUT",
          pathname: location.signedPath,
          query,
          headers: { host: location.host, "content-length": String(partLength(claims, partNumber)), ...(md5 ? { "content-md5": md5 } : {}) },
        },
        keyTime,
      );
      return {
        partNumber,
        url: `${location.url}${queryString(query)}`,
        headers: { Authorization: authorization, ...(md5 ? { "Content-MD5": md5 } : {}), ...securityTokenHeaders(profile.credentials) },
      };
    }),
  );
}

export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
}

/** Every part COS holds, all pages of ListParts. */
export async function listParts(profile: UploadProfile, claims: Pick<UploadClaims, "key" | "uploadId">): Promise<StoredPart[]> {
  const parts: StoredPart[] = [];
  let marker = "0";
  for (;;) {
    const query = { uploadId: claims.uploadId, "max-parts": "1000", "part-number-marker": marker };
    const xml = await (await callCos(profile, { method: "GET", key: claims.key, query })).text();
    for (const block of xmlBlocks(xml, "Part")) {
      parts.push({ partNumber: Number(xmlText(block, "PartNumber")), size: Number(xmlText(block, "Size")), etag: xmlText(block, "ETag") ?? "" });
    }
    const next = xmlText(xml, "NextPartNumberMarker");
    if (xmlText(xml, "IsTruncated") !== "true" || !next || next === marker) return parts;
    marker = next;
  }
}

export interface CompletedUpload {
  readonly key: string;
  readonly url: string;
  readonly size: number;
  readonly etag: string;
  /** CRC-64/ECMA-182 of the object as COS computed it, when COS returned one. */
  readonly crc64: string | null;
}

/**
 * Checks that COS holds parts 1..partCount with their exact sizes, then completes. COS answers 200 at once and keeps
 * the connection open while it merges, so the answer is read to its end: an error can come inside the 200. A second
 * call after success finds no upload, and answers from a HEAD of the object instead.
 */
export async function completeUpload(profile: UploadProfile, claims: UploadClaims): Promise<CompletedUpload> {
  const url = objectLocation(profile, claims.key).url;
  let parts: StoredPart[];
  try {
    parts = await listParts(profile, claims);
  } catch (error) {
    if (!(error instanceof SignerError && error.code === "upload_not_found")) throw error;
    return completedBefore(profile, claims, url, error);
  }
  const byNumber = new Map(parts.map((part) => [part.partNumber, part]));
  const missing: number[] = [];
  const wrong: number[] = [];
  for (let n = 1; n <= claims.partCount; n++) {
    const part = byNumber.get(n);
    if (!part) missing.push(n);
    else if (part.size !== partLength(claims, n)) wrong.push(n);
  }
  if (missing.length > 0 || wrong.length > 0) {
    const list = (numbers: number[]) => `${numbers.slice(0, 20).join(", ")}${numbers.length > 20 ? `, … (${numbers.length})` : ""}`;
    throw new SignerError(
      "parts_incomplete",
      [missing.length > 0 ? `parts missing: ${list(missing)}` : "", wrong.length > 0 ? `parts of the wrong size: ${list(wrong)}` : ""].filter(Boolean).join("; "),
    );
  }
  const body =
    "<CompleteMultipartUpload>" +
    [...byNumber.values()]
      .filter((part) => part.partNumber <= claims.partCount)
      .sort((a, b) => a.partNumber - b.partNumber)
      .map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${part.etag.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</ETag></Part>`)
      .join("") +
    "</CompleteMultipartUpload>";
  let response: Response;
  try {
    response = await callCos(profile, {
      method: "POST",
      key: claims.key,
      query: { uploadId: claims.uploadId },
      headers: { "content-type": "application/xml" },
      body,
      timeoutMs: 10 * 60_000,
    });
  } catch (error) {
    // Completed by another call between our ListParts and this Complete.
    if (!(error instanceof SignerError && error.code === "upload_not_found")) throw error;
    return completedBefore(profile, claims, url, error);
  }
  const xml = await response.text();
  if (/<Error>/.test(xml)) {
    const code = xmlText(xml, "Code");
    // Another call completed it first (a retry, a second tap, the same upload resumed twice): NoSuchUpload once it is
    // done, FileAlreadyExists (x-cos-forbid-overwrite) when both merged. Either way the object answers.
    if (code === "NoSuchUpload" || code === "FileAlreadyExists") return completedBefore(profile, claims, url, cosError(code, 200));
    throw cosError(code, 200);
  }
  return { key: claims.key, url, size: claims.size, etag: xmlText(xml, "ETag") ?? "", crc64: response.headers.get("x-cos-hash-crc64ecma") };
}

/** The object a completed upload left, if it is the one this token describes (its size); else `notFound`. */
async function completedBefore(profile: UploadProfile, claims: UploadClaims, url: string, notFound: SignerError): Promise<CompletedUpload> {
  let head: Response;
  try {
    head = await callCos(profile, { method: "HEAD", key: claims.key });
  } catch (error) {
    if (error instanceof SignerError && error.code === "object_not_found") throw notFound;
    throw error;
  }
  if (Number(head.headers.get("content-length")) !== claims.size) throw notFound;
  return { key: claims.key, url, size: claims.size, etag: head.headers.get("etag") ?? "", crc64: head.headers.get("x-cos-hash-crc64ecma") };
}

/** AbortMultipartUpload; an upload COS no longer has counts as aborted. */
export async function abortUpload(profile: UploadProfile, claims: UploadClaims): Promise<void> {
  try {
    await callCos(profile, { method: "DELETE", key: claims.key, query: { uploadId: claims.uploadId } });
  } catch (error) {
    if (!(error instanceof SignerError && error.code === "upload_not_found")) throw error;
  }
}
