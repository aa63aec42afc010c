/**
 * The request bodies, described once as valibot schemas: the routes validate with these (parseBody), their types
 * are the schemas' output, and the OpenAPI document (GET /openapi.json) is converted from them. Shape rules live
 * here; rules that depend on the profile (its suffixes, size limits, media types) stay with the routes. Each is
 * built on its first use (`lazily`), not at the Worker's startup.
 */
import * as v from "valibot";
import { MAX_PARTS_PER_CALL } from "../multipart/index.js";
import { IMAGE_PROCESSING, MAX_READ_SECONDS } from "../objects/objects.js";
import { map, rule, whenMissing, type FieldCodes } from "./body.js";
import { lazily } from "./lazily.js";

export { parseBody, type BodySchema } from "./body.js";

const KEY_RULE = "key must be an object key the signer gave, such as uploads/2026/11/29/<32 hex>.jpg";
const SIZE_RULE = "size must be the file's size in bytes: a whole number, 0 or more";
const PART_SIZE_RULE = "partSize must be a whole number of bytes from 1048576 (1 MiB, COS's smallest part) to 5368709120 (5 GiB)";
const PART_NUMBERS_RULE = `partNumbers must list 1 to ${MAX_PARTS_PER_CALL} part numbers`;
const PROCESSING = Object.keys(IMAGE_PROCESSING) as [string, ...string[]];

/** A JSON number that is a whole number JavaScript holds exactly. */
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => v.pipe(v.number(), v.safeInteger(), v.minValue(min), v.maxValue(max));

/** The fields several bodies share. */
const fields = lazily(() => {
  const profile = v.optional(rule(v.string(), "unknown_profile", "profile must be a name"), "default");
  const ext = whenMissing(
    rule(v.pipe(v.string(), v.regex(/^\.?[A-Za-z0-9]{1,10}$/), v.examples(["jpg"])), "ext_invalid", "ext must be 1 to 10 letters or digits, such as jpg"),
    "ext_invalid",
    "ext is required: the file suffix, such as jpg",
  );
  const size = rule(integer(0), "size_invalid", SIZE_RULE);
  const contentType = v.optional(rule(v.string(), "content_type_invalid", "contentType must be a media type such as image/jpeg (or image/* for a POST), without parameters"));
  const token = rule(v.string(), "body_invalid", "token must be the upload token from POST /v1/multipart");
  const key = rule(v.pipe(v.string(), v.maxLength(512)), "key_invalid", KEY_RULE);
  return { profile, ext, size, contentType, token, key };
});

export const SessionRequest = lazily(() =>
  v.pipe(
    v.strictObject({ code: rule(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,128}$/)), "code_invalid", 'send {"code": "<the code from wx.login()>"}') }),
    // A body that is not an object is answered as a wrong code, too.
    v.metadata({ "x-code": "code_invalid" } satisfies FieldCodes),
  ),
);

export const UploadRequest = lazily(() => {
  const { profile, ext, size, contentType } = fields();
  return v.strictObject({
    profile,
    ext,
    method: v.optional(rule(v.picklist(["put", "post"]), "method_invalid", 'method must be "put" (wx.request) or "post" (wx.uploadFile)'), "put"),
    size: v.optional(size),
    contentType,
  });
});

export const MultipartRequest = lazily(() => {
  const { profile, ext, size, contentType } = fields();
  return v.strictObject({
    profile,
    ext,
    size: whenMissing(size, "size_required", "a multipart upload is planned from the file's size: send size (bytes)"),
    contentType,
    partSize: v.optional(rule(integer(1024 * 1024, 5 * 1024 ** 3), "part_size_invalid", PART_SIZE_RULE)),
  });
});

export const UploadTokenRequest = lazily(() => {
  const { token } = fields();
  return v.strictObject({ token });
});

export const PartsRequest = lazily(() => {
  const { token } = fields();
  return v.strictObject({
    token,
    partNumbers: rule(v.pipe(v.array(v.pipe(v.number(), v.safeInteger())), v.minLength(1), v.maxLength(MAX_PARTS_PER_CALL)), "part_numbers_invalid", PART_NUMBERS_RULE),
    contentMd5: v.optional(
      rule(
        map(v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]{22}==$/))),
        "body_invalid",
        'contentMd5 must map part numbers to Base64 MD5 digests, e.g. {"1": "1B2M2Y8AsgTpgAmY7PhCfg=="}',
      ),
    ),
  });
});

export const ObjectRequest = lazily(() => {
  const { profile, key } = fields();
  return v.strictObject({ key, profile });
});

export const ReadUrlRequest = lazily(() => {
  const { profile, key } = fields();
  return v.strictObject({
    key,
    profile,
    expiresIn: v.optional(rule(integer(10, MAX_READ_SECONDS), "expires_in_invalid", `expiresIn must be whole seconds from 10 to ${MAX_READ_SECONDS}`), 300),
    process: v.optional(rule(v.picklist(PROCESSING), "process_invalid", `process must be one of ${PROCESSING.join(", ")}`)),
  });
});

/** A page cursor as either ledger writes it: a row's id (Durable Object), or creation time (13 digits), `:`, the key (Redis). */
export const LIST_CURSOR = "^(\\d{1,16}|\\d{13}:[\\x21-\\x7e]{1,512})$";
export const MAX_LIST_LIMIT = 100;

export const ListObjectsRequest = lazily(() => {
  const { profile } = fields();
  return v.strictObject({
    profile,
    cursor: v.optional(rule(v.pipe(v.string(), v.regex(new RegExp(LIST_CURSOR))), "cursor_invalid", "cursor must be the cursor of the previous page")),
    limit: v.optional(rule(integer(1, MAX_LIST_LIMIT), "limit_invalid", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`), 50),
  });
});

export const KeysRequest = lazily(() => {
  const { profile, ext } = fields();
  return v.strictObject({ ext, profile });
});

export const CredentialsRequest = lazily(() => {
  const { profile, key } = fields();
  return v.strictObject({ profile, key: v.optional(key) });
});

const stringMap = (field: "Query" | "Headers") =>
  v.optional(
    rule(map(v.union([v.string(), v.number()])), field === "Query" ? "query_invalid" : "header_invalid", `${field} must be an object of names and string or number values`),
  );
const text = (message: string) => v.pipe(v.string(), v.description(message));

/** What an SDK's getAuthorization received; other fields the SDK adds (Scope, SystemClockOffset, …) are ignored. */
export const SdkAuthorizationRequest = lazily(() => {
  const { profile } = fields();
  return v.object({
    profile,
    Bucket: text("Bucket must be the bucket's name, BucketName-APPID"),
    Region: text("Region must be the bucket's region"),
    Method: text("Method must be the request's HTTP method"),
    Key: v.optional(text("Key must be the object key")),
    Pathname: v.optional(text("Pathname must be the decoded path that is signed")),
    Query: stringMap("Query"),
    Headers: stringMap("Headers"),
  });
});

export type SdkAuthorizationBody = v.InferOutput<ReturnType<typeof SdkAuthorizationRequest>>;
