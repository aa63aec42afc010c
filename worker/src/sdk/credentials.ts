/**
 * Temporary COS keys for an SDK (one call per upload session instead of one per request): STS GetFederationToken
 * with a policy that allows only an uploader's actions, only on the caller's own space (or one key), with the
 * profile's size limit on every request that carries a body. Kept per caller until shortly before they expire.
 */
import type { UploadProfile } from "../config.js";
import { SignerError } from "../errors.js";
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
  /** The keys they may write: `<prefix>/*`, or one key. */
  readonly Prefix: string;
}

const cos = (action: string) => `name/cos:${action}`;

/**
 * The CAM policy (version 2.0). Resources are `qcs::cos:<region>:uid/<appid>:<bucket>/<key pattern>`; the APPID is
 * the bucket name's last part. A content-length condition applies per request: it bounds each PUT, POST and part,
 * not the sum of a multipart upload's parts.
 */
export function uploaderPolicy(profile: UploadProfile, scope: string): object {
  const bucketResource = `qcs::cos:${profile.region}:uid/${profile.bucket.slice(profile.bucket.lastIndexOf("-") + 1)}:${profile.bucket}/`;
  // A space (`…/*`) only with the profile's suffixes: one resource per suffix.
  const resource = scope.endsWith("*") ? [...profile.allowedExtensions].map((ext) => `${bucketResource}${scope}.${ext}`) : [`${bucketResource}${scope}`];
  const atMost = (bytes: number) => ({ numeric_less_than_equal: { "cos:content-length": bytes } });
  const statement: object[] = [
    { effect: "allow", action: [cos("PutObject"), cos("PostObject")], resource, condition: atMost(profile.maxBytes) },
    { effect: "allow", action: [cos("HeadObject"), ...(profile.read === "owner" ? [cos("GetObject")] : [])], resource },
  ];
  if (profile.multipart) {
    statement.push(
      { effect: "allow", action: [cos("UploadPart")], resource, condition: atMost(Math.min(MAX_PART_SIZE, profile.multipartMaxBytes)) },
      {
        effect: "allow",
        action: [cos("InitiateMultipartUpload"), cos("ListParts"), cos("CompleteMultipartUpload"), cos("AbortMultipartUpload")],
        resource,
      },
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

/** Temporary keys for `scope` (`<prefix>/*` or one key), from the cache while more than a third of them is left. */
export function credentialsFor(profile: UploadProfile, sts: StsSettings, user: string, scope: string, now: Date): Promise<SdkCredentials> {
  if (profile.credentials.securityToken) {
    throw new SignerError(404, "credentials_off", `profile "${profile.name}" signs with temporary keys itself, which STS does not accept: use /v1/cos/authorization`);
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
