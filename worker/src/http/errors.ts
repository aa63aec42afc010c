/**
 * Every error the signer answers with: an HTTP status, a stable machine-readable `code` and a human message.
 * `app.onError` turns them into `{ error: { code, message } }` in one place.
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
  | "config_invalid"
  | "internal_error";

export class SignerError extends Error {
  override readonly name: string = "SignerError";

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 501 | 502 | 504,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A request the client can fix. */
export class InvalidRequestError extends SignerError {
  override readonly name = "InvalidRequestError";
  constructor(code: InvalidRequestCode, message: string) {
    super(400, code, message);
  }
}

/** No valid session: log in again (`POST /v1/session`). */
export class UnauthorizedError extends SignerError {
  override readonly name = "UnauthorizedError";
  constructor(code: "unauthorized" | "token_invalid" | "token_expired", message: string) {
    super(401, code, message, { "WWW-Authenticate": 'Bearer realm="cos-edge-signer"' });
  }
}

/** Too many requests for this user or address; `Retry-After` says when to come back. */
export class RateLimitedError extends SignerError {
  override readonly name = "RateLimitedError";
  constructor(retryAfterSeconds: number) {
    super(429, "rate_limited", `too many requests; retry in ${retryAfterSeconds} s`, { "Retry-After": String(retryAfterSeconds) });
  }
}

/** The deployment is misconfigured. The message names the variable, never its value. */
export class ConfigError extends SignerError {
  override readonly name = "ConfigError";
  constructor(readonly variable: string, problem: string) {
    super(500, "config_invalid", `${variable} ${problem}`);
  }
}
