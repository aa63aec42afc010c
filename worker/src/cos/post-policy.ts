/**
 * POST Object form uploads ("POST Object", https://cloud.tencent.com/document/product/436/14690, "Signature
 * protection" steps 1–7): a policy that binds bucket, key, size and type, signed with the SecretKey.
 */
import { type Credentials, SECURITY_TOKEN_FIELD } from "./credentials.js";
import { hmacSha1Hex, sha1Hex, signKeyFor } from "./digest.js";
import { toBase64, utf8 } from "./encoding.js";
import { formatKeyTime, type KeyTime } from "./key-time.js";

/** One policy condition: exact match object, `eq` / `starts-with` on a form field, or a size range. */
export type PolicyCondition =
  | Readonly<Record<string, string>>
  | readonly ["eq" | "starts-with", `$${string}`, string]
  | readonly ["content-length-range", number, number];

export interface PostPolicyDocument {
  readonly expiration: string;
  readonly conditions: readonly PolicyCondition[];
}

/** A Content-Type rule: the exact type, or a prefix such as `image/`. */
export type ContentTypeRule = { readonly eq: string } | { readonly startsWith: string };

export interface PostPolicyOptions {
  /** BucketName-APPID. */
  readonly bucket: string;
  /** The exact object key the form may write. */
  readonly key: string;
  readonly keyTime: KeyTime;
  /** When the policy stops being valid. Default: the end of `keyTime`. */
  readonly expiration?: Date;
  /** Inclusive byte range of the file. */
  readonly contentLengthRange?: readonly [min: number, max: number];
  readonly contentType?: ContentTypeRule;
  /** Further conditions, appended as given. */
  readonly conditions?: readonly PolicyCondition[];
}

/** Step 3: the policy document. q-sign-algorithm, q-ak and q-sign-time are required conditions. */
export function buildPostPolicy(secretId: string, options: PostPolicyOptions): PostPolicyDocument {
  const keyTime = formatKeyTime(options.keyTime);
  const conditions: PolicyCondition[] = [
    { "q-sign-algorithm": "sha1" },
    { "q-ak": secretId },
    { "q-sign-time": keyTime },
    { bucket: options.bucket },
    { key: options.key },
  ];
  if (options.contentLengthRange) {
    const [min, max] = options.contentLengthRange;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
      throw new RangeError(`content-length-range must be two whole byte counts with 0 <= min <= max, got [${min}, ${max}]`);
    }
    conditions.push(["content-length-range", min, max]);
  }
  if (options.contentType) {
    conditions.push(
      "eq" in options.contentType
        ? ["eq", "$Content-Type", options.contentType.eq]
        : ["starts-with", "$Content-Type", options.contentType.startsWith],
    );
  }
  conditions.push(...(options.conditions ?? []));
  const expiration = options.expiration ?? new Date(options.keyTime.end * 1000);
  return { expiration: expiration.toISOString(), conditions };
}

export interface PostPolicySignature {
  /** Base64 of exactly the bytes that were hashed (the `policy` form field). */
  readonly policy: string;
  readonly keyTime: string;
  readonly signKey: string;
  /** SHA1 of the policy text. */
  readonly stringToSign: string;
  readonly signature: string;
  /** The signature form fields, in the order the doc lists them. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Steps 4–7 for a policy text as given (whitespace and all: the exact bytes are hashed and Base64-encoded). */
export async function signPostPolicy(credentials: Credentials, policyText: string, keyTime: KeyTime): Promise<PostPolicySignature> {
  const qKeyTime = formatKeyTime(keyTime);
  const bytes = utf8(policyText);
  const signKey = await signKeyFor(credentials.secretKey, qKeyTime);
  const stringToSign = await sha1Hex(bytes);
  const signature = await hmacSha1Hex(signKey, stringToSign);
  const policy = toBase64(bytes);
  const fields: Record<string, string> = {
    policy,
    "q-sign-algorithm": "sha1",
    "q-ak": credentials.secretId,
    "q-key-time": qKeyTime,
    "q-signature": signature,
  };
  if (credentials.securityToken) fields[SECURITY_TOKEN_FIELD] = credentials.securityToken;
  return { policy, keyTime: qKeyTime, signKey, stringToSign, signature, fields };
}

export interface PostForm {
  readonly policy: PostPolicyDocument;
  readonly signature: PostPolicySignature;
  /**
   * Every form field the client sends, in order; the file goes after them, in a field named `file`
   * ("the signature form fields need to be before the file form field").
   */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * A complete, signed POST form: `key`, the Content-Type an `eq` rule binds, `extraFields` (e.g.
 * `success_action_status`), then the signature fields.
 */
export async function createPostForm(
  credentials: Credentials,
  options: PostPolicyOptions,
  extraFields: Readonly<Record<string, string>> = {},
): Promise<PostForm> {
  const policy = buildPostPolicy(credentials.secretId, options);
  const signature = await signPostPolicy(credentials, JSON.stringify(policy), options.keyTime);
  const fields: Record<string, string> = { key: options.key };
  // An `eq` rule fixes the value; for a `starts-with` rule the client sends the file's own type.
  if (options.contentType && "eq" in options.contentType) fields["Content-Type"] = options.contentType.eq;
  Object.assign(fields, extraFields, signature.fields);
  return { policy, signature, fields };
}
