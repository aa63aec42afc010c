/**
 * Every error the signer answers with: a stable machine-readable `code`, the error's identity (as in jose and
 * tus-node-server), and a human message. The HTTP status comes from the code through ERROR_STATUS, the one table of
 * statuses: the OpenAPI document and docs/api.md list the same. `app.onError` turns them into
 * `{ error: { code, message } }` in one place.
 */

/** Codes of 400 errors: the request is wrong in a way the client can fix. */
export type InvalidRequestCode =
  | "bad_request"
  | "ext_invalid"
  | "ext_not_allowed"
  | "content_type_invalid"
  | "content_type_mismatch"
  | "content_type_not_allowed"
  | "unknown_profile"
  | "size_invalid"
  | "overwrite_protection_required"
  | "size_required"
  | "multipart_required"
  | "multipart_off"
  | "part_numbers_invalid"
  | "part_size_invalid"
  | "key_invalid"
  | "expires_in_invalid"
  | "process_invalid"
  | "file_too_large"
  | "method_invalid"
  | "body_invalid"
  | "code_invalid"
  | "host_required"
  | "query_invalid"
  | "header_invalid"
  | "cursor_invalid"
  | "limit_invalid";

export type ErrorCode =
  | InvalidRequestCode
  | "unsupported_media_type"
  | "body_too_large"
  | "unauthorized"
  | "token_invalid"
  | "token_expired"
  | "wechat_code_invalid"
  | "wechat_user_blocked"
  | "wechat_rate_limited"
  | "wechat_unavailable"
  | "rate_limited"
  | "not_found"
  | "seed_routes_off"
  | "sdk_routes_off"
  | "upload_token_invalid"
  | "upload_token_expired"
  | "upload_token_foreign"
  | "upload_not_found"
  | "object_not_found"
  | "receipts_off"
  | "key_not_allowed"
  | "read_not_allowed"
  | "parts_incomplete"
  | "upload_exists"
  | "bucket_not_allowed"
  | "header_not_allowed"
  | "content_type_unbound"
  | "overwrite_unbound"
  | "operation_not_allowed"
  | "credentials_off"
  | "sts_refused"
  | "sts_unavailable"
  | "cos_refused"
  | "cos_unavailable"
  | "method_not_allowed"
  | "quota_exceeded"
  | "ledger_off"
  | ModerationCode
  | "config_invalid"
  | "internal_error";

/** Content moderation's codes and their statuses (docs/moderation.md). */
export const MODERATION_STATUSES = {
  /** The object waits for its check: not served (403). */
  moderation_pending: 403,
  /** The check found it risky: never served (403). */
  moderation_blocked: 403,
  /** The check asks for a human's review: not served until then (403). */
  moderation_review: 403,
  /** No message push is configured (WX_PUSH_TOKEN unset). */
  push_off: 404,
  /** A push that is not well formed. */
  push_invalid: 400,
  /** A push whose signature does not match WX_PUSH_TOKEN: nothing changes. */
  push_signature_invalid: 401,
  /** A push sealed for, or naming, another appid. */
  push_foreign: 403,
} as const;
export type ModerationCode = keyof typeof MODERATION_STATUSES;

/** Every error code with its HTTP status (TypeScript makes the list complete). */
export const ERROR_STATUS = {
  ...MODERATION_STATUSES,
  bad_request: 400,
  ext_invalid: 400,
  ext_not_allowed: 400,
  content_type_invalid: 400,
  content_type_mismatch: 400,
  content_type_not_allowed: 400,
  unknown_profile: 400,
  size_invalid: 400,
  overwrite_protection_required: 400,
  size_required: 400,
  multipart_required: 400,
  multipart_off: 400,
  part_numbers_invalid: 400,
  part_size_invalid: 400,
  key_invalid: 400,
  expires_in_invalid: 400,
  process_invalid: 400,
  file_too_large: 400,
  method_invalid: 400,
  body_invalid: 400,
  code_invalid: 400,
  host_required: 400,
  query_invalid: 400,
  header_invalid: 400,
  cursor_invalid: 400,
  limit_invalid: 400,
  wechat_code_invalid: 400,
  unauthorized: 401,
  token_invalid: 401,
  token_expired: 401,
  upload_token_invalid: 401,
  upload_token_expired: 401,
  wechat_user_blocked: 403,
  upload_token_foreign: 403,
  key_not_allowed: 403,
  read_not_allowed: 403,
  bucket_not_allowed: 403,
  header_not_allowed: 403,
  content_type_unbound: 403,
  overwrite_unbound: 403,
  operation_not_allowed: 403,
  quota_exceeded: 403,
  not_found: 404,
  seed_routes_off: 404,
  sdk_routes_off: 404,
  upload_not_found: 404,
  object_not_found: 404,
  receipts_off: 404,
  credentials_off: 404,
  method_not_allowed: 405,
  parts_incomplete: 409,
  upload_exists: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  wechat_rate_limited: 429,
  config_invalid: 500,
  internal_error: 500,
  ledger_off: 501,
  wechat_unavailable: 502,
  cos_refused: 502,
  cos_unavailable: 502,
  sts_refused: 502,
  sts_unavailable: 502,
} as const satisfies Readonly<Record<ErrorCode, number>>;

export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export class SignerError extends Error {
  override readonly name: string = "SignerError";
  /** ERROR_STATUS of the code: a code has one status wherever it is thrown. */
  readonly status: ErrorStatus;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = ERROR_STATUS[code];
  }
}

/** A request the client can fix. */
export class InvalidRequestError extends SignerError {
  override readonly name = "InvalidRequestError";
  constructor(code: InvalidRequestCode, message: string) {
    super(code, message);
  }
}

/** No valid session: log in again (`POST /v1/session`). */
export class UnauthorizedError extends SignerError {
  override readonly name = "UnauthorizedError";
  constructor(code: "unauthorized" | "token_invalid" | "token_expired", message: string) {
    super(code, message, { "WWW-Authenticate": 'Bearer realm="cos-edge-signer"' });
  }
}

/** Too many requests for this user or address; `Retry-After` says when to come back. */
export class RateLimitedError extends SignerError {
  override readonly name = "RateLimitedError";
  constructor(retryAfterSeconds: number) {
    super("rate_limited", `too many requests; retry in ${retryAfterSeconds} s`, { "Retry-After": String(retryAfterSeconds) });
  }
}

/** A moderation refusal, its status from MODERATION_STATUSES. */
export class ModerationError extends SignerError {
  override readonly name = "ModerationError";
  constructor(code: ModerationCode, message: string) {
    super(code, message);
  }
}

/** The deployment is misconfigured. The message names the variable, never its value. */
export class ConfigError extends SignerError {
  override readonly name = "ConfigError";
  constructor(readonly variable: string, problem: string) {
    super("config_invalid", `${variable} ${problem}`);
  }
}
