/**
 * Temporary COS keys for an SDK (one call per upload session instead of one per request): STS GetFederationToken
 * with a policy that allows only an uploader's actions, only on the caller's own space, with the
 * profile's size limit on every request that carries a body. Kept per caller until shortly before they expire.
 */
import type { UploadProfile } from "../config/index.js";
import { SignerError } from "../http/errors.js";
import { mediaTypesOf } from "../uploads/media-types.js";
import { MAX_PART_SIZE } from "../multipart/parts.js";
import { getFederationToken, type TemporaryCredentials } from "../sts/federation-token.js";

export interface StsSettings {
  readonly endpoint: string;
  readonly durationSeconds: number;
}

/** What cos-wx-sdk-v5's getAuthorization callback takes for temporary keys, plus where they may write. */
export interface SdkCredentials {
  readonly TmpSecretId: string;
  readonly TmpSecretKey: string;
  readonly SecurityToken: string;
  /** Unix seconds (10 digits, as the SDK requires). */
  readonly StartTime: number;
  readonly ExpiredTime: number;
  readonly Bucket: string;
  readonly Region: string;
  /** The keys they may write: `<prefix>/*`. */
  readonly Prefix: string;
}

const cos = (action: string) => `name/cos:${action}`;

/** Types that run as a page or script on the bucket's domain (media-types.ts ACTIVE_MEDIA_TYPE), as CAM patterns. */
const ACTIVE_TYPE_PATTERNS = ["text/html*", "text/xml*", "text/xsl*", "*xml*", "*javascript*", "*ecmascript*", "application/x-shockwave-flash*"];

/**
 * The CAM policy (version 2.0). Resources are `qcs::cos:<region>:uid/<appid>:<bucket>/<key pattern>`; the APPID is
 * the bucket name's last part. A content-length condition applies per request: it bounds each PUT, POST and part,
 * not the sum of a multipart upload's parts. The `cos:content-type` condition (436/46205) binds the type of every
 * PutObject, PostObject and InitiateMultipartUpload to its suffix's usual types; a suffix without listed types may
 * take any type but active content. No GetObject: reads are signed by the read key pair, which never asks STS.
 */
export function uploaderPolicy(profile: UploadProfile, scope: string): object {
  const bucketResource = `qcs::cos:${profile.region}:uid/${profile.bucket.slice(profile.bucket.lastIndexOf("-") + 1)}:${profile.bucket}/`;
  // The caller's space (`…/*`) only with the profile's suffixes: one resource per suffix.
  const suffixes = [...profile.allowedExtensions].map((ext) => ({ ext, resource: `${bucketResource}${scope}.${ext}` }));
  const resource = suffixes.map((suffix) => suffix.resource);
  const atMost = (bytes: number) => ({ "cos:content-length": bytes });
  // The profile's methods: PutObject for "put", PostObject for "post".
  const singles = [...(profile.methods.has("put") ? [cos("PutObject")] : []), ...(profile.methods.has("post") ? [cos("PostObject")] : [])];
  const starts = profile.multipart ? [...singles, cos("InitiateMultipartUpload")] : singles;
  const statement: object[] = suffixes.flatMap(({ ext, resource: one }) => {
    const types = mediaTypesOf(ext);
    const typed = types.length > 0 ? { string_equal: { "cos:content-type": types } } : {};
    return [
      { effect: "allow", action: singles, resource: [one], condition: { numeric_less_than_equal: atMost(profile.maxBytes), ...typed } },
      // Initiate has no body to bound: only its type, which the object keeps.
      ...(profile.multipart ? [{ effect: "allow", action: [cos("InitiateMultipartUpload")], resource: [one], ...(types.length > 0 ? { condition: typed } : {}) }] : []),
    ];
  });
  if (suffixes.some(({ ext }) => mediaTypesOf(ext).length === 0)) {
    statement.push({ effect: "deny", action: starts, resource, condition: { string_like: { "cos:content-type": ACTIVE_TYPE_PATTERNS } } });
  }
  statement.push({ effect: "allow", action: [cos("HeadObject")], resource });
  if (profile.multipart) {
    statement.push(
      { effect: "allow", action: [cos("UploadPart")], resource, condition: { numeric_less_than_equal: atMost(Math.min(MAX_PART_SIZE, profile.multipartMaxBytes)) } },
      { effect: "allow", action: [cos("ListParts"), cos("CompleteMultipartUpload"), cos("AbortMultipartUpload")], resource },
      // The SDK lists unfinished uploads under the key before it resumes one: the listing is bound to the same scope.
      { effect: "allow", action: [cos("ListMultipartUploads")], resource: [bucketResource], condition: { string_like: { "cos:prefix": scope } } },
    );
  }
  return { version: "2.0", statement };
}

/**
 * Credentials handed out, per key pair, STS endpoint, profile, caller and scope: a burst of calls costs one STS
 * request. `expiredTime` is known once STS has answered; until then every caller shares the request in flight.
 */
const issued = new Map<string, { readonly pending: Promise<SdkCredentials>; expiredTime?: number }>();
const KEPT = 1000;

/**
 * Temporary keys for `scope` (the caller's space, `<prefix>/*`), from the cache while more than a third of them is
 * left: one STS request per key pair, profile and caller per lifetime, however often and for whichever key asked.
 */
export function credentialsFor(profile: UploadProfile, sts: StsSettings, user: string, scope: string, now: Date): Promise<SdkCredentials> {
  if (profile.credentials.securityToken) {
    throw new SignerError("credentials_off", `profile "${profile.name}" signs with temporary keys itself, which STS does not accept: use /v1/cos/authorization`);
  }
  if (profile.forbidOverwrite) {
    // CAM has no condition on x-cos-forbid-overwrite: temporary keys could overwrite any key of the caller's space.
    throw new SignerError("overwrite_unbound", `profile "${profile.name}" forbids overwrites, which temporary keys cannot bind: set forbidOverwrite = false to accept that, or use /v1/cos/authorization`);
  }
  if (profile.contentTypes.length > 0) {
    throw new SignerError("content_type_unbound", `profile "${profile.name}" allows only ${profile.contentTypes.join(", ")}: temporary keys bind each suffix's usual types, not a profile's own rules; use POST /v1/uploads`);
  }
  const id = `${sts.endpoint}\n${profile.credentials.secretId}\n${profile.name}\n${user}\n${scope}`;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const cached = issued.get(id);
  if (cached && (cached.expiredTime === undefined || cached.expiredTime - nowSeconds > sts.durationSeconds / 3)) return cached.pending;

  const entry: { pending: Promise<SdkCredentials>; expiredTime?: number } = {
    pending: getFederationToken(
      sts.endpoint,
      profile.credentials,
      // STS limits Name to 32 characters of [\w+=,.@-].
      { name: `cos-edge-signer-${user.slice(0, 16) || "anyone"}`, policy: uploaderPolicy(profile, scope), durationSeconds: sts.durationSeconds, region: profile.region },
      now,
    ).then((keys: TemporaryCredentials) => {
      entry.expiredTime = keys.expiredTime;
      return {
        TmpSecretId: keys.tmpSecretId,
        TmpSecretKey: keys.tmpSecretKey,
        SecurityToken: keys.sessionToken,
        StartTime: nowSeconds,
        ExpiredTime: keys.expiredTime,
        Bucket: profile.bucket,
        Region: profile.region,
        Prefix: scope,
      };
    }),
  };
  entry.pending.catch(() => {
    if (issued.get(id) === entry) issued.delete(id);
  });
  if (!cached && issued.size >= KEPT) issued.delete(issued.keys().next().value!);
  issued.set(id, entry);
  return entry.pending;
}
