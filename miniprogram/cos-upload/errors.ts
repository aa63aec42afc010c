/** Upload failures, typed: a stable `code`, a human message, advice on what to do, and whether a retry can help. */

export type UploadErrorSource = "signer" | "cos" | "network" | "client";

const ADVICE: Record<string, string> = {
  SignatureDoesNotMatch: "The upload does not match what the signer signed (wrong SecretKey, or a header or size changed).",
  RequestTimeTooSkewed: "The phone's clock is wrong: set date and time to automatic, then retry.",
  EntityTooLarge: "The file is larger than this upload allows.",
  EntityTooSmall: "The file is smaller than this upload allows.",
  AccessDenied: "COS refused the upload: the permission expired (retry) or the key may not write here.",
  PathStyleDomainForbidden:
    "This bucket was created after 2024-01-01 and refuses regional-domain uploads: set COS_PATH_STYLE=false on the signer and whitelist the bucket domain.",
  FileAlreadyExists: "An object with this key already exists; upload again to get a new key.",
  InvalidAccessKeyId: "The signer's SecretId is not a valid COS key.",
  timeout: "The network is slow or unreachable: retry on a better connection.",
  network_error: "The network failed: check the connection and the Mini Program's domain whitelist.",
};

export class UploadError extends Error {
  override readonly name = "UploadError";
  readonly advice: string;

  constructor(
    /** COS error code (SignatureDoesNotMatch, …), signer code (ext_not_allowed, …), or timeout / network_error / aborted. */
    readonly code: string,
    message: string,
    readonly source: UploadErrorSource,
    /** HTTP status, when there was a response. */
    readonly status?: number,
    /** Seconds to wait before trying again, from the answer's Retry-After (429). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.advice = ADVICE[code] ?? message;
  }

  /** Network failures, 429 and 5xx may pass on a later try; 4xx and a misconfigured signer will not. */
  get retryable(): boolean {
    if (this.source === "network") return this.code !== "aborted";
    return this.status !== undefined && (this.status >= 500 || this.status === 429) && this.code !== "config_invalid";
  }
}

/** A COS XML error body (`<Error><Code>…</Code><Message>…</Message>`) → UploadError. */
export function cosError(status: number, body: unknown): UploadError {
  const text = typeof body === "string" ? body : "";
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `http_${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `COS answered HTTP ${status}`;
  return new UploadError(code, message, "cos", status);
}

/** A wx.* `fail` callback → UploadError. */
export function networkError(errMsg: string): UploadError {
  const code = /abort/i.test(errMsg) ? "aborted" : /time ?out/i.test(errMsg) ? "timeout" : "network_error";
  return new UploadError(code, errMsg, "network");
}
