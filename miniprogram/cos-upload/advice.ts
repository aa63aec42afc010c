/**
 * What to tell a person about an upload failure, by code. Apart from the library's core so that a Mini Program that
 * words its own messages (or speaks another language) does not ship these.
 */
import type { UploadError } from "./errors";

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

/** Advice for this error, or its own message when there is none. */
export function adviceFor(error: UploadError): string {
  return ADVICE[error.code] ?? error.message;
}
