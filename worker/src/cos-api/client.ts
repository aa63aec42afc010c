/**
 * The Worker's own requests to COS (multipart: initiate, list, complete, abort; HEAD), signed with the same core as
 * every upload, with a timeout, retries of network errors and 5xx, and COS's errors mapped to the signer's codes —
 * never echoing COS's body, which can name keys and buckets.
 */
import type { UploadProfile } from "../config/index.js";
import { cosUrlEncode, keyTimeAt, securityTokenHeaders, signRequest } from "../cos/index.js";
import { objectLocation } from "./object-location.js";
import { SignerError } from "../http/errors.js";

export interface CosCall {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  readonly key: string;
  /** Query parameters, all signed ("Request Signature" step 3): an unsigned one could turn the call into another. */
  readonly query?: Readonly<Record<string, string>>;
  /** Headers to send and sign (Host is added). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Per attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** Sign with the read pair although the method writes: moderation's private ACL (no client holds a PUT of that pair). */
  readonly readPair?: boolean;
}

const ATTEMPTS = 3;
const BACKOFF_MS = 200;

/** `?a=1&b` in COS's encoding: a parameter with an empty value is written bare (`?uploads`). */
export function queryString(query: Readonly<Record<string, string>> = {}): string {
  const pairs = Object.entries(query).map(([name, value]) => (value === "" ? cosUrlEncode(name) : `${cosUrlEncode(name)}=${cosUrlEncode(value)}`));
  return pairs.length > 0 ? `?${pairs.join("&")}` : "";
}

/** One tag's text in a COS XML answer (its documents are flat enough for this), entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match ? decodeEntities(match[1]!) : undefined;
}

/** Every `<tag>…</tag>` block's inner XML. */
export function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((match) => match[1]!);
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name]!);
}

/** COS's error code → the signer's error. */
export function cosError(code: string | undefined, status: number): SignerError {
  switch (code) {
    case "NoSuchUpload":
      return new SignerError("upload_not_found", "COS no longer has this upload (completed, aborted or expired): start it again");
    case "FileAlreadyExists":
    case "ObjectAlreadyExists":
      return new SignerError("upload_exists", "an object with this key already exists and the profile forbids overwriting it");
    case "EntityTooSmall":
    case "InvalidPart":
    case "InvalidPartOrder":
      return new SignerError("parts_incomplete", `COS refused the parts (${code}): upload the missing parts again, then complete`);
    case "NoSuchKey":
      return new SignerError("object_not_found", "COS has no object with this key");
    case "AccessDenied":
    case "SignatureDoesNotMatch":
    case "InvalidAccessKeyId":
    case "RequestTimeTooSkewed":
      return new SignerError("cos_refused", `COS refused the signer's own request (${code}): check the key pair's permissions and the bucket`);
    default:
      // A HEAD answers without a body: its 404 is the object's absence.
      if (code === undefined && status === 404) return cosError("NoSuchKey", status);
      return new SignerError("cos_unavailable", `COS answered ${code ?? `HTTP ${status}`}; retry shortly`);
  }
}

/**
 * Sends one signed request to the profile's COS; a 2xx answer, or the mapped error after the retries. A HEAD and a
 * DELETE Object are signed with the profile's read key pair (the one that reads, heads and deletes), the multipart
 * calls (an abort too) with its write pair (docs/security.md). `clock` dates each attempt's signature.
 */
export async function callCos(profile: UploadProfile, call: CosCall, clock: () => Date = () => new Date()): Promise<Response> {
  const objectCall = call.readPair === true || call.method === "HEAD" || (call.method === "DELETE" && call.query === undefined);
  const credentials = objectCall ? profile.readCredentials : profile.credentials;
  const location = objectLocation(profile, call.key);
  const url = `${location.url}${queryString(call.query)}`;
  let failure: SignerError | undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // Signed afresh per attempt: a retry after a slow failure must not carry an old signature.
    const { authorization } = await signRequest(
      credentials,
      { method: call.method, pathname: location.signedPath, query: call.query ?? {}, headers: { host: location.host, ...call.headers } },
      keyTimeAt(clock(), 600),
    );
    let response: Response;
    try {
      response = await fetch(url, {
        method: call.method,
        headers: { Authorization: authorization, ...call.headers, ...securityTokenHeaders(credentials) },
        ...(call.body === undefined ? {} : { body: call.body }),
        signal: AbortSignal.timeout(call.timeoutMs ?? 10_000),
      });
    } catch (error) {
      // The cause (its text can name the host) goes to the log through onError, never into the answer.
      failure =
        error instanceof Error && error.name === "TimeoutError"
          ? new SignerError("cos_unavailable", "COS did not answer in time; retry shortly", {}, { cause: error })
          : new SignerError("cos_unavailable", "COS could not be reached; retry shortly", {}, { cause: error });
      await backoff(attempt);
      continue;
    }
    if (response.ok) return response;
    const text = call.method === "HEAD" ? "" : await response.text();
    failure = cosError(xmlText(text, "Code"), response.status);
    if (response.status < 500) throw failure;
    await backoff(attempt);
  }
  throw failure!;
}

/**
 * The wait before attempt `attempt + 1`: exponential, its upper half jittered, so that instances failing together do not
 * retry together.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = BACKOFF_MS * 2 ** (attempt - 1);
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

function backoff(attempt: number): Promise<void> {
  return attempt < ATTEMPTS ? new Promise((done) => setTimeout(done, backoffMs(attempt))) : Promise.resolve();
}
