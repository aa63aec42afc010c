/**
 * Tencent's SDKs (cos-wx-sdk-v5, cos-js-sdk-v5, cos-nodejs-sdk-v5) ask for each request's signature through
 * `getAuthorization(options, callback)`. This decides whether to sign exactly the request described — one an uploader
 * needs, on the caller's own key — and signs it, so that the signature is good for that one request only.
 */
import type { UploadProfile } from "../config/index.js";
import { keyTimeAt, signRequest } from "../cos/index.js";
import { objectLocation } from "../cos-api/object-location.js";
import { InvalidRequestError, SignerError } from "../http/errors.js";
import { listParts, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from "../multipart/index.js";
import { normalizeExtension } from "../uploads/object-key.js";
import { ownKey } from "../objects/objects.js";
import type { SdkAuthorizationBody } from "../schemas/requests.js";
import { parseContentType } from "../uploads/request.js";

/** The COS operations an uploader's SDK performs; each is signed only in its own shape. */
export type SdkOperation =
  | "PutObject"
  | "InitiateMultipartUpload"
  | "UploadPart"
  | "ListParts"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "HeadObject"
  | "GetObject"
  | "ListMultipartUploads";

/** What `getAuthorization` receives (cos-wx-sdk-v5 src/base.js getAuthorizationAsync), checked by its schema. */
export type SdkRequest = Omit<SdkAuthorizationBody, "profile">;

export interface SdkTerms {
  readonly operation: SdkOperation;
  readonly method: string;
  readonly pathname: string;
  /** The object key ("" for the bucket). */
  readonly key: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
}

/** Operation → [method, the query parameter that names it (or none), the other query parameters it may carry]. */
const OPERATIONS: ReadonlyArray<readonly [SdkOperation, string, string, readonly string[]]> = [
  ["UploadPart", "PUT", "partnumber", ["uploadid"]],
  ["PutObject", "PUT", "", []],
  ["InitiateMultipartUpload", "POST", "uploads", []],
  ["CompleteMultipartUpload", "POST", "uploadid", []],
  ["ListParts", "GET", "uploadid", ["max-parts", "part-number-marker", "encoding-type"]],
  ["AbortMultipartUpload", "DELETE", "uploadid", []],
  ["HeadObject", "HEAD", "", []],
  ["GetObject", "GET", "", []],
];
/** COS's UploadIds are letters and digits (e.g. a timestamp and a hex digest); never empty. */
const UPLOAD_ID = /^[0-9A-Za-z]{16,128}$/;
const PART_NUMBER = /^(?:[1-9]\d{0,3}|10000)$/;
const LIST_UPLOADS_QUERY = new Set(["uploads", "prefix", "encoding-type", "max-uploads", "key-marker", "upload-id-marker"]);

/**
 * Headers that may be signed (and so sent): object metadata and conditions. Never ACLs or grants (a public object),
 * nor a copy source (which would read another key): those are refused by name.
 */
const SIGNABLE_HEADER =
  /^(host|user-agent|content-(length|md5|type|disposition|encoding|language)|cache-control|expires|expect|range|if-(match|none-match|modified-since|unmodified-since)|x-cos-(meta-[\w.-]+|storage-class|forbid-overwrite|traffic-limit|tagging|sdk-retry|server-side-encryption[\w-]*))$/;

/** Names lowercased, values as text; a name given twice (in two letter cases) is a 400. */
function stringMap(value: Readonly<Record<string, string | number>> = {}, field: "Query" | "Headers"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (Object.hasOwn(out, lower)) throw new InvalidRequestError(field === "Query" ? "query_invalid" : "header_invalid", `${field}.${name.slice(0, 40)} is given twice`);
    out[lower] = String(raw);
  }
  return out;
}

/** The host the SDK sends to, which must be this profile's: its endpoint, or COS's bucket or regional domain. */
function addressing(profile: UploadProfile, host: string | undefined): "virtual" | "path" {
  if (host === undefined) {
    throw new InvalidRequestError("host_required", "sign the Host header: cos-wx-sdk-v5 does so by default (leave ForceSignHost unset)");
  }
  const { host: profileHost } = objectLocation(profile, "");
  if (profile.endpoint !== undefined) {
    if (host === profileHost) return profile.pathStyle ? "path" : "virtual";
  } else if (host === `${profile.bucket}.cos.${profile.region}.myqcloud.com`) {
    return "virtual";
  } else if (host === `cos.${profile.region}.myqcloud.com`) {
    return "path";
  }
  throw new SignerError("bucket_not_allowed", `Host ${host.slice(0, 100)} is not where profile "${profile.name}" uploads (${profileHost})`);
}

/**
 * The request the SDK describes, if an uploader may make it on `prefix` (the caller's own space): which operation,
 * on which key, with a Content-Length within the profile's limits. Throws the reason otherwise.
 */
export function checkSdkRequest(profile: UploadProfile, request: SdkRequest, prefix: string): SdkTerms {
  if (request.Bucket !== profile.bucket || request.Region !== profile.region) {
    throw new SignerError("bucket_not_allowed", `profile "${profile.name}" uploads to ${profile.bucket} in ${profile.region} only`);
  }
  const method = request.Method.toUpperCase();
  const query = stringMap(request.Query, "Query");
  const headers = stringMap(request.Headers, "Headers");
  const refused = Object.keys(headers).find((name) => !SIGNABLE_HEADER.test(name));
  if (refused !== undefined) throw new SignerError("header_not_allowed", `the header ${refused.slice(0, 60)} is not signed for uploaders (ACLs, grants and copies are refused)`);
  const bucketPath = addressing(profile, headers.host) === "path" ? `/${profile.bucket}` : "";
  const pathname = typeof request.Pathname === "string" ? request.Pathname : typeof request.Key === "string" ? `${bucketPath}/${request.Key}` : undefined;
  if (pathname === undefined || !pathname.startsWith(`${bucketPath}/`)) {
    throw new InvalidRequestError("key_invalid", `Pathname must be the decoded path ${bucketPath}/<key>`);
  }
  const key = pathname.slice(bucketPath.length + 1);
  const names = Object.keys(query);
  const deny = (what: string) => new SignerError("operation_not_allowed", `${what} is not signed for uploaders`);

  if (key === "") {
    // The only bucket-level request an uploader makes: the SDK's look for its own unfinished uploads before resuming.
    if (method !== "GET" || !("uploads" in query) || !names.every((name) => LIST_UPLOADS_QUERY.has(name))) {
      throw deny(method === "POST" ? "a POST form signed by the SDK (it binds no key and no size; use putObject, or temporary credentials)" : `${method} on the bucket`);
    }
    if (!profile.multipart) throw deny("ListMultipartUploads in a profile without multipart uploads");
    if (!(query.prefix ?? "").startsWith(prefix === "" ? "" : `${prefix}/`)) throw new SignerError("key_not_allowed", "list only your own uploads: prefix must be inside your own space");
    return { operation: "ListMultipartUploads", method, pathname, key, query, headers };
  }

  ownKey(key, prefix);
  const ext = normalizeExtension(key.slice(key.lastIndexOf(".") + 1), profile.allowedExtensions);
  const found = OPERATIONS.find(([, opMethod, marker]) => opMethod === method && (marker === "" ? names.length === 0 : marker in query));
  if (!found || !names.every((name) => name === found[2] || found[3].includes(name))) {
    throw deny(method === "DELETE" ? "Deleting an object" : `${method} with ${names.join(", ") || "no query"}`);
  }
  const operation = found[0];
  if (operation === "GetObject" && profile.read !== "owner") throw deny(`Reading objects in profile "${profile.name}" (read = "none")`);
  if (operation !== "PutObject" && operation !== "HeadObject" && operation !== "GetObject" && !profile.multipart) {
    throw deny(`${operation} in a profile without multipart uploads`);
  }
  if (operation === "PutObject" && !profile.methods.has("put")) throw deny(`PutObject in profile "${profile.name}" (methods: ${[...profile.methods].join(", ")})`);
  // A signed empty uploadId or partNumber is a request without them: an Abort would be a DELETE, a ListParts a GET.
  if ("uploadid" in query && !UPLOAD_ID.test(query.uploadid!)) throw new InvalidRequestError("query_invalid", "uploadId must be the UploadId COS gave (16–128 letters and digits)");
  if (operation === "UploadPart" && !("uploadid" in query)) throw new InvalidRequestError("query_invalid", "UploadPart needs uploadId");
  // Every part but the last is at least 1 MiB (436/7742), so an upload within the profile's limit has no more parts.
  const lastPart = Math.min(MAX_PARTS, Math.floor(profile.multipartMaxBytes / MIN_PART_SIZE) + 1);
  if (operation === "UploadPart" && !(PART_NUMBER.test(query.partnumber!) && Number(query.partnumber) <= lastPart)) {
    throw new InvalidRequestError("query_invalid", `partNumber must be 1 to ${lastPart} in profile "${profile.name}"`);
  }
  if (operation === "PutObject" || operation === "UploadPart") {
    // Without a signed Content-Length the request could carry up to COS's 5 GB whatever the profile's limit; an empty
    // PutObject is also the shape of PUT Object - Copy (436/10881).
    const length = headers["content-length"];
    if (length === undefined || !/^\d{1,15}$/.test(length)) {
      throw new InvalidRequestError("size_required", `${operation} signs the body's exact size: the SDK must pass Content-Length in Headers`);
    }
    if (Number(length) < 1) throw new InvalidRequestError("size_invalid", `${operation} takes at least 1 byte (an empty PUT signature could be sent as a copy)`);
    const limit = operation === "PutObject" ? profile.maxBytes : Math.min(MAX_PART_SIZE, profile.multipartMaxBytes);
    if (Number(length) > limit) throw new InvalidRequestError("file_too_large", `Content-Length ${length} is over the limit of ${limit} bytes`);
  }
  if (operation === "PutObject" || operation === "InitiateMultipartUpload") {
    if (profile.forbidOverwrite && headers["x-cos-forbid-overwrite"] !== "true") {
      // Signed, so COS refuses the write over an existing key (at Complete, from what Initiate stored).
      throw new InvalidRequestError("overwrite_protection_required", `profile "${profile.name}" forbids overwrites: pass Headers: {"x-cos-forbid-overwrite": "true"} to the SDK call`);
    }
    if (headers["content-type"] !== undefined) {
      // Checked, and signed as sent (the signature must match the header byte for byte).
      parseContentType(headers["content-type"], ext, profile, "put");
    } else if (profile.contentTypes.length > 0) {
      // The SDKs leave Content-Type out of what they pass to getAuthorization: a profile's type rules cannot hold.
      throw new SignerError("content_type_unbound", `profile "${profile.name}" allows only ${profile.contentTypes.join(", ")}, which a signature from the SDK cannot bind: use POST /v1/uploads`);
    }
  }
  return { operation, method, pathname, key, query, headers };
}

/**
 * A Complete is signed only if the parts COS holds add up to at most the profile's multipart limit (the SDK's body
 * is not signed, so this is checked when asked, with the Worker's own ListParts).
 */
async function checkCompleteTotal(profile: UploadProfile, terms: SdkTerms, reservedBytes: number | undefined): Promise<void> {
  const parts = await listParts(profile, { key: terms.key, uploadId: terms.query.uploadid! });
  const total = parts.reduce((sum, part) => sum + part.size, 0);
  if (total > profile.multipartMaxBytes) {
    throw new InvalidRequestError("file_too_large", `the upload's parts add up to ${total} bytes, over the limit of ${profile.multipartMaxBytes} bytes`);
  }
  // The Initiate reserved only what fitted the user's quotas: more parts than that would pass them.
  if (reservedBytes !== undefined && total > reservedBytes) {
    throw new SignerError("quota_exceeded", `the upload's parts add up to ${total} bytes, over the ${reservedBytes} bytes its InitiateMultipartUpload reserved within the quotas of profile "${profile.name}"`);
  }
}

/**
 * The Authorization for exactly that request (every query parameter and header given is signed), with the key pair
 * of its kind: reads (HEAD, GET) with the profile's read pair, everything else with its write pair. A Complete's parts
 * must fit `reservedBytes`, what the ledger holds for the key (undefined: no limit beyond the profile's).
 */
export async function authorizeSdkRequest(profile: UploadProfile, terms: SdkTerms, now: Date, reservedBytes?: number): Promise<{ Authorization: string; SecurityToken?: string; ExpiredTime: number }> {
  if (terms.operation === "CompleteMultipartUpload") await checkCompleteTotal(profile, terms, reservedBytes);
  const credentials = terms.operation === "HeadObject" || terms.operation === "GetObject" ? profile.readCredentials : profile.credentials;
  const keyTime = keyTimeAt(now, profile.signatureTtlSeconds);
  const { authorization } = await signRequest(credentials, terms, keyTime);
  const token = credentials.securityToken;
  return { Authorization: authorization, ...(token ? { SecurityToken: token } : {}), ExpiredTime: keyTime.end };
}
