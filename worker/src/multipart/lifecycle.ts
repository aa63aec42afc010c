/**
 * A multipart upload from the caller's side: start it (plan, reserve, initiate, token, the first part signatures),
 * sign more parts, list, complete and abort — each step kept in the caller's books.
 */
import type { SignerConfig, UploadProfile } from "../config/index.js";
import { objectLocation } from "../cos-api/object-location.js";
import { keyPrefixFor, newObjectKey } from "../uploads/object-key.js";
import { booksOf, type Caller, reserve } from "../uploads/reserve.js";
import { parseMultipartRequest } from "../uploads/request.js";
import { planParts } from "./parts.js";
import { moderationFor, settleUpload } from "../moderation/index.js";
import { issueUploadToken, type UploadClaims, UPLOAD_TOKEN_TTL_SECONDS } from "./token.js";
import { abortUpload, checkPartNumbers, completeUpload, initiateUpload, listParts, MAX_PARTS_PER_CALL, signParts } from "./upload.js";

/** An upload a request's token names, checked (verifyUploadToken): this signer's, unexpired, the caller's own. */
export interface TokenUpload {
  readonly claims: UploadClaims;
  readonly profile: UploadProfile;
}

/** `POST /v1/multipart`. */
export async function startUpload(caller: Caller, config: SignerConfig, body: unknown, now: Date) {
  const { profile, ext, size, contentType, partSize } = parseMultipartRequest(body, config);
  const key = newObjectKey(keyPrefixFor(profile, caller.user), ext, now);
  const plan = planParts(size, partSize);
  await reserve(caller, profile, { key, bytes: size, contentType, expiresAt: now.getTime() + UPLOAD_TOKEN_TTL_SECONDS * 1000 }, now);
  let uploadId: string;
  try {
    uploadId = await initiateUpload(profile, key, contentType);
  } catch (error) {
    await booksOf(caller, profile)?.release(key);
    throw error;
  }
  const claims = { sub: caller.user, profile: profile.name, key, uploadId, contentType, ...plan };
  const { token, exp } = await issueUploadToken(profile, claims, now);
  // The first batch of part signatures comes with the answer: a fresh upload sends its first byte after one call.
  const first = Array.from({ length: Math.min(plan.partCount, MAX_PARTS_PER_CALL) }, (_, i) => i + 1);
  return {
    key,
    uploadId,
    size,
    partSize: plan.partSize,
    partCount: plan.partCount,
    contentType,
    token,
    objectUrl: objectLocation(profile, key).url,
    expiresAt: new Date(exp * 1000).toISOString(),
    parts: await signParts(profile, { ...claims, exp }, first, {}, now),
  };
}

/** `POST /v1/multipart/parts`. */
export async function signMoreParts({ claims, profile }: TokenUpload, request: { partNumbers: readonly number[]; contentMd5?: Readonly<Record<string, string>> | undefined }, now: Date) {
  const partNumbers = checkPartNumbers(request.partNumbers, claims);
  return { parts: await signParts(profile, claims, partNumbers, request.contentMd5, now) };
}

/** `POST /v1/multipart/list`. */
export async function uploadedParts({ claims, profile }: TokenUpload) {
  const parts = await listParts(profile, claims);
  return { key: claims.key, size: claims.size, partSize: claims.partSize, partCount: claims.partCount, parts };
}

/** `POST /v1/multipart/complete`: the object, committed to the caller's books at its real size. */
export async function finishUpload(caller: Caller, config: SignerConfig, { claims, profile }: TokenUpload) {
  const completed = await completeUpload(profile, claims);
  const object = { key: claims.key, size: completed.size, contentType: claims.contentType };
  const moderation = await settleUpload(moderationFor(caller, config), booksOf(caller, profile), profile, caller.user, object, caller.sealedOpenid);
  return { ...completed, ...(profile.moderation === "off" ? {} : { moderation }) };
}

/** `POST /v1/multipart/abort`: its parts dropped on COS, its reservation released. */
export async function abandonUpload(caller: Caller, { claims, profile }: TokenUpload) {
  await abortUpload(profile, claims);
  await booksOf(caller, profile)?.release(claims.key);
  return { aborted: true };
}
