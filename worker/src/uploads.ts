/**
 * Upload permissions: one random key, signed for a PUT (Authorization header) or a POST form (policy).
 * Seed-compatible shapes follow the fields read by Tencent's Mini Program sample (436/30934); the v1 descriptor
 * carries everything a client sends, so it assembles no strings.
 */
import type { SignerConfig } from "./config.js";
import { createPostForm, keyTimeAt, type KeyTime, securityTokenHeaders, signRequest } from "./cos/index.js";
import { objectLocation } from "./cos-target.js";

export interface UploadTerms {
  readonly key: string;
  /** Exact byte size the upload must have, if the client declared it. */
  readonly size?: number;
  /** Media type the object is stored with; signed, so the client must send exactly this. */
  readonly contentType?: string;
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

function keyTimeFor(config: SignerConfig, now: Date): KeyTime {
  return keyTimeAt(now, config.signatureTtlSeconds);
}

export async function putDescriptor(config: SignerConfig, terms: UploadTerms, now: Date): Promise<PutDescriptor> {
  const location = objectLocation(config, terms.key);
  const keyTime = keyTimeFor(config, now);
  const sent: Record<string, string> = { "x-cos-forbid-overwrite": "true" };
  if (terms.contentType) sent["Content-Type"] = terms.contentType;
  const signed: Record<string, string> = { host: location.host, ...sent };
  if (terms.size !== undefined) signed["content-length"] = String(terms.size);
  const { authorization } = await signRequest(config.credentials, { method: "PUT", pathname: location.signedPath, headers: signed }, keyTime);
  return {
    method: "PUT",
    key: terms.key,
    url: location.url,
    headers: { Authorization: authorization, ...sent, ...securityTokenHeaders(config.credentials) },
    objectUrl: location.url,
    expiresAt: new Date(keyTime.end * 1000).toISOString(),
  };
}

export async function postDescriptor(config: SignerConfig, terms: UploadTerms, now: Date): Promise<PostDescriptor> {
  const location = objectLocation(config, terms.key);
  const keyTime = keyTimeFor(config, now);
  const form = await createPostForm(
    config.credentials,
    {
      bucket: config.bucket,
      key: terms.key,
      keyTime,
      contentLengthRange: terms.size === undefined ? [0, config.maxBytes] : [terms.size, terms.size],
      ...(terms.contentType ? { contentType: { eq: terms.contentType } } : {}),
    },
    { success_action_status: "200" },
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
export async function seedPutSign(config: SignerConfig, key: string, now: Date) {
  const location = objectLocation(config, key);
  // The sample sends only Authorization and x-cos-security-token; Host is the one header certain to arrive as signed.
  const { authorization } = await signRequest(
    config.credentials,
    { method: "PUT", pathname: location.signedPath, headers: { host: location.host } },
    keyTimeFor(config, now),
  );
  return {
    cosHost: `${location.host}${location.bucketPath}`,
    cosKey: key,
    authorization,
    securityToken: config.credentials.securityToken ?? "",
  };
}

/** `GET /post-policy` in the sample's shape: it posts key, success_action_status, an EMPTY Content-Type and these. */
export async function seedPostPolicy(config: SignerConfig, key: string, now: Date) {
  const location = objectLocation(config, key);
  // No Content-Type rule: the sample sends an empty one, which any rule would refuse.
  const form = await createPostForm(config.credentials, {
    bucket: config.bucket,
    key,
    keyTime: keyTimeFor(config, now),
    contentLengthRange: [0, config.maxBytes],
  });
  const signature = form.signature;
  return {
    cosHost: `${location.host}${location.bucketPath}`,
    cosKey: key,
    policy: signature.policy,
    qSignAlgorithm: "sha1",
    qAk: config.credentials.secretId,
    qKeyTime: signature.keyTime,
    qSignature: signature.signature,
    securityToken: config.credentials.securityToken ?? "",
  };
}
