/**
 * cos-edge-signer's signing core: Tencent COS XML-API q-sign signatures with WebCrypto only.
 * Pure functions — no clock, no environment, no framework — usable in Workers, browsers' workers, Deno and Node ≥ 20.
 */
export { type Credentials, SECURITY_TOKEN_FIELD, securityTokenHeaders } from "./credentials.js";
export { cosUrlEncode, toBase64, toHex } from "./encoding.js";
export { hmacSha1Hex, sha1Hex, signKeyFor } from "./digest.js";
export { formatKeyTime, type KeyTime, keyTimeAt } from "./key-time.js";
export {
  buildPostPolicy,
  type ContentTypeRule,
  createPostForm,
  type PolicyCondition,
  type PostForm,
  type PostPolicyDocument,
  type PostPolicyOptions,
  type PostPolicySignature,
  signPostPolicy,
} from "./post-policy.js";
export { type PresignedUrl, type PresignOptions, presignUrl } from "./presigned-url.js";
export { canonicalize, type RequestSignature, type RequestToSign, signRequest } from "./request-signature.js";
