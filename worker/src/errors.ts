/**
 * Every error the signer answers with: an HTTP status, a stable machine-readable `code` and a human message.
 * `app.onError` turns them into `{ error: { code, message } }` in one place.
 */

export type ErrorCode =
  | "bad_request"
  | "ext_invalid"
  | "ext_not_allowed"
  | "content_type_invalid"
  | "content_type_mismatch"
  | "size_invalid"
  | "file_too_large"
  | "method_invalid"
  | "body_invalid"
  | "unsupported_media_type"
  | "body_too_large"
  | "not_found"
  | "method_not_allowed"
  | "config_invalid"
  | "internal_error";

export class SignerError extends Error {
  override readonly name: string = "SignerError";

  constructor(
    readonly status: 400 | 404 | 405 | 413 | 415 | 500,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A request the client can fix. */
export class InvalidRequestError extends SignerError {
  override readonly name = "InvalidRequestError";
  constructor(code: Exclude<ErrorCode, "not_found" | "method_not_allowed" | "config_invalid" | "internal_error" | "unsupported_media_type" | "body_too_large">, message: string) {
    super(400, code, message);
  }
}

/** The deployment is misconfigured. The message names the variable, never its value. */
export class ConfigError extends SignerError {
  override readonly name = "ConfigError";
  constructor(readonly variable: string, problem: string) {
    super(500, "config_invalid", `${variable} ${problem}`);
  }
}
