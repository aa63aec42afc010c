/**
 * What Tencent's SDKs ask the signer for through their getAuthorization hook: a key to upload to, one request's
 * signature, or temporary keys for the caller's own space.
 */
import type { SignerConfig, UploadProfile } from "../config/index.js";
import { SignerError } from "../http/errors.js";
import { UPLOAD_TOKEN_TTL_SECONDS } from "../multipart/index.js";
import { ownKey } from "../objects/objects.js";
import type { SdkAuthorizationBody } from "../schemas/requests.js";
import { keyPrefixFor, newObjectKey, normalizeExtension } from "../uploads/object-key.js";
import { booksOf, type Caller, reserve, signatureExpiry } from "../uploads/reserve.js";
import { resolveProfile } from "../uploads/request.js";
import { authorizeSdkRequest, checkSdkRequest, type SdkTerms } from "./authorization.js";
import { credentialsFor } from "./credentials.js";
import { checkNoTemporaryKeys, checkServable } from "../moderation/index.js";

/** `POST /v1/cos/keys`: a fresh key for the SDK to upload to. */
export function sdkKey(caller: Caller, config: SignerConfig, request: { ext: string; profile?: string | undefined }, now: Date) {
  const profile = resolveProfile(config, request.profile);
  const ext = normalizeExtension(request.ext, profile.allowedExtensions);
  return { Bucket: profile.bucket, Region: profile.region, Key: newObjectKey(keyPrefixFor(profile, caller.user), ext, now) };
}

export interface SdkCall {
  readonly profile: UploadProfile;
  readonly terms: SdkTerms;
}

/** The request an SDK wants signed, checked: one an uploader needs, on the caller's own key. */
export function sdkCall(caller: Caller, config: SignerConfig, body: SdkAuthorizationBody): SdkCall {
  const profile = resolveProfile(config, body.profile);
  return { profile, terms: checkSdkRequest(profile, body, keyPrefixFor(profile, caller.user)) };
}

/** Whether the call starts a new object (so it also counts as a new upload). */
export function startsObject({ terms }: SdkCall): boolean {
  return terms.operation === "PutObject" || terms.operation === "InitiateMultipartUpload";
}

/** `POST /v1/cos/authorization`: a new object's bytes reserved first, then the one request signed. */
export async function authorizeSdkCall(caller: Caller, call: SdkCall, now: Date) {
  const { profile, terms } = call;
  if (startsObject(call)) {
    // The reservation refuses a settled object's key (409 upload_exists): its new bytes would replace what content
    // moderation passed, past the quota, in a profile that allows overwrites.
    // PutObject signs its Content-Length; an SDK's multipart upload names no size, so it holds what fits.
    const put = terms.operation === "PutObject";
    await reserve(
      caller,
      profile,
      {
        key: terms.key,
        bytes: put ? Number(terms.headers["content-length"]) : profile.multipartMaxBytes,
        contentType: terms.headers["content-type"] ?? "application/octet-stream",
        expiresAt: put ? signatureExpiry(profile, now) : now.getTime() + UPLOAD_TOKEN_TTL_SECONDS * 1000,
        shrink: !put,
      },
      now,
    );
  }
  if (terms.operation === "GetObject") await checkServable(booksOf(caller, profile), profile, terms.key);
  let reservedBytes: number | undefined;
  if (terms.operation === "CompleteMultipartUpload") {
    const held = await booksOf(caller, profile)?.get(terms.key);
    if (held?.state === "reserved") reservedBytes = held.size;
  }
  return authorizeSdkRequest(profile, terms, now, reservedBytes);
}

/** `POST /v1/cos/credentials`: temporary keys for the caller's whole space. */
export function temporaryKeys(caller: Caller, config: SignerConfig, request: { profile?: string | undefined; key?: string | undefined }, now: Date) {
  const profile = resolveProfile(config, request.profile);
  checkNoTemporaryKeys(profile);
  if (profile.quotaBytes !== undefined || profile.dailyBytes !== undefined) {
    throw new SignerError("operation_not_allowed", `temporary keys would upload around the byte quotas of profile "${profile.name}": use POST /v1/cos/authorization`);
  }
  const prefix = keyPrefixFor(profile, caller.user);
  // Always the caller's whole space, `key` only checked: a scope per key would let a caller force an STS request per key.
  if (request.key !== undefined) ownKey(request.key, prefix);
  const scope = prefix === "" ? "*" : `${prefix}/*`;
  return credentialsFor(profile, config.sts, caller.user, scope, now);
}
