/**
 * Upload permissions: one random key, signed for a PUT (Authorization header) or a POST form (policy).
 * Seed-compatible shapes follow the fields read by Tencent's Mini Program sample (436/30934); the v1 descriptor
 * carries everything a client sends, so it assembles no strings.
 */
import type { UploadProfile } from "../config/index.js";
import { createPostForm, keyTimeAt, type KeyTime, securityTokenHeaders, signRequest } from "../cos/index.js";
import { objectLocation } from "../cos-api/object-location.js";

export interface UploadTerms {
  readonly key: string;
  /** Exact byte size the upload must have (always declared for a PUT). */
  readonly size?: number;
  /** Media type the object is stored with; signed, so the client must send exactly this. */
  readonly contentType: string;
  /** Without a size: the largest file a POST form takes (default the profile's maxBytes; the ledger may narrow it). */
  readonly maxBytes?: number;
}

export interface PutDescriptor {
  readonly method: "PUT";
  readonly key: string;
  /** Where to send the bytes. */
  readonly url: string;
  /** Headers to set on the PUT. The runtime adds Host and Content-Length itself (both signed when sizes are bound). */
  readonly headers: Readonly<Record<string, string>>;
  readonly objectUrl: string;
  readonly expiresAt: string;
}

export interface PostDescriptor {
  readonly method: "POST";
  readonly key: string;
  /** The form's action. */
  readonly url: string;
  /** Form fields, in order; the file goes after them. */
  readonly fields: Readonly<Record<string, string>>;
  /** Name of the file part (last in the form). */
  readonly fileField: "file";
  readonly objectUrl: string;
  readonly expiresAt: string;
}

/** The header (PUT) or form field (POST) with which COS refuses to replace an existing object (409). */
function forbidOverwrite(profile: UploadProfile): Record<string, string> {
  return profile.forbidOverwrite ? { "x-cos-forbid-overwrite": "true" } : {};
}

function keyTimeFor(profile: UploadProfile, now: Date): KeyTime {
  return keyTimeAt(now, profile.signatureTtlSeconds);
}

export async function putDescriptor(profile: UploadProfile, terms: UploadTerms, now: Date): Promise<PutDescriptor> {
  const location = objectLocation(profile, terms.key);
  const keyTime = keyTimeFor(profile, now);
  const sent: Record<string, string> = { ...forbidOverwrite(profile), "Content-Type": terms.contentType };
  const signed: Record<string, string> = { host: location.host, ...sent };
  if (terms.size !== undefined) signed["content-length"] = String(terms.size);
  const { authorization } = await signRequest(profile.credentials, { method: "PUT", pathname: location.signedPath, headers: signed }, keyTime);
  return {
    method: "PUT",
    key: terms.key,
    url: location.url,
    headers: { Authorization: authorization, ...sent, ...securityTokenHeaders(profile.credentials) },
    objectUrl: location.url,
    expiresAt: new Date(keyTime.end * 1000).toISOString(),
  };
}


export async function postDescriptor(profile: UploadProfile, terms: UploadTerms, now: Date): Promise<PostDescriptor> {
  const location = objectLocation(profile, terms.key);
  const keyTime = keyTimeFor(profile, now);
  const form = await createPostForm(
    profile.credentials,
    {
      bucket: profile.bucket,
      key: terms.key,
      keyTime,
      contentLengthRange: terms.size === undefined ? [0, terms.maxBytes ?? profile.maxBytes] : [terms.size, terms.size],
      contentType: { eq: terms.contentType },
      // A form can be posted again until it expires: bound to forbid-overwrite, a second post is refused (409).
      conditions: Object.entries(forbidOverwrite(profile)).map(([name, value]) => ({ [name]: value })),
    },
    { success_action_status: "200", ...forbidOverwrite(profile) },
  );
  return {
    method: "POST",
    key: terms.key,
    url: `${location.origin}${location.bucketPath}/`,
    fields: form.fields,
    fileField: "file",
    objectUrl: location.url,
    expiresAt: form.policy.expiration,
  };
}

/** `GET /put-sign` in the sample's shape: the client PUTs to `'https://' + cosHost + '/' + cosKey`. */
export async function seedPutSign(profile: UploadProfile, key: string, now: Date) {
  const location = objectLocation(profile, key);
  // The sample sends only Authorization and x-cos-security-token; Host is the one header certain to arrive as signed.
  const { authorization } = await signRequest(
    profile.credentials,
    { method: "PUT", pathname: location.signedPath, headers: { host: location.host } },
    keyTimeFor(profile, now),
  );
  return {
    cosHost: `${location.host}${location.bucketPath}`,
    cosKey: key,
    authorization,
    securityToken: profile.credentials.securityToken ?? "",
  };
}

/** `GET /post-policy` in the sample's shape: it posts key, success_action_status, an EMPTY Content-Type and these. */
export async function seedPostPolicy(profile: UploadProfile, key: string, now: Date) {
  const location = objectLocation(profile, key);
  // No Content-Type rule: the sample sends an empty one, which any rule would refuse.
  const form = await createPostForm(profile.credentials, {
    bucket: profile.bucket,
    key,
    keyTime: keyTimeFor(profile, now),
    contentLengthRange: [0, profile.maxBytes],
  });
  const signature = form.signature;
  return {
    cosHost: `${location.host}${location.bucketPath}`,
    cosKey: key,
    policy: signature.policy,
    qSignAlgorithm: "sha1",
    qAk: profile.credentials.secretId,
    qKeyTime: signature.keyTime,
    qSignature: signature.signature,
    securityToken: profile.credentials.securityToken ?? "",
  };
}
