/** Upload failures, typed: a stable `code`, a human message, and whether a retry can help (advice texts: advice.ts). */

export type UploadErrorSource = "signer" | "cos" | "network" | "client";


export class UploadError extends Error {
  override readonly name = "UploadError";

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
  }

  /** Network failures, 429 and 5xx may pass on a later try; 4xx and a misconfigured signer will not. */
  get retryable(): boolean {
    if (this.source === "network") return this.code !== "aborted";
    return (this.status! >= 500 || this.status === 429) && this.code !== "config_invalid";
  }
}

/** A COS XML error body (`<Error><Code>…</Code><Message>…</Message>`) → UploadError. */
export function cosError(status: number, body: unknown): UploadError {
  const text = typeof body === "string" ? body : "";
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `http_${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `HTTP ${status}`;
  return new UploadError(code, message, "cos", status);
}

/** A wx.* `fail` callback → UploadError. */
export function networkError(errMsg: string): UploadError {
  const code = /abort/i.test(errMsg) ? "aborted" : /time ?out/i.test(errMsg) ? "timeout" : "network_error";
  return new UploadError(code, errMsg, "network");
}
