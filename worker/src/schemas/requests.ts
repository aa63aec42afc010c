/**
 * The request bodies, described once in JSON Schema: the routes validate with these (json-schema.ts), and the
 * OpenAPI document (GET /openapi.json) is generated from them. Shape rules live here; rules that depend on the
 * profile (its suffixes, size limits, media types) stay with the routes.
 */
import { MAX_PARTS_PER_CALL } from "../multipart/index.js";
import { IMAGE_PROCESSING, MAX_READ_SECONDS } from "../objects/objects.js";
import type { BodySchema, Schema } from "./json-schema.js";

export { parseBody } from "./json-schema.js";

const KEY_RULE = "key must be an object key the signer gave, such as uploads/2026/11/29/<32 hex>.jpg";
const SIZE_RULE = "size must be the file's size in bytes: a whole number, 0 or more";
const PART_SIZE_RULE = "partSize must be a whole number of bytes from 1048576 (1 MiB, COS's smallest part) to 5368709120 (5 GiB)";
const PART_NUMBERS_RULE = `partNumbers must list 1 to ${MAX_PARTS_PER_CALL} part numbers`;

const profile: Schema = { type: "string", description: "profile must be a name", "x-code": "unknown_profile", default: "default" };
const ext: Schema = {
  type: "string",
  pattern: "^\\.?[A-Za-z0-9]{1,10}$",
  description: "ext must be 1 to 10 letters or digits, such as jpg",
  "x-code": "ext_invalid",
  "x-missing": ["ext_invalid", "ext is required: the file suffix, such as jpg"],
  examples: ["jpg"],
};
const size: Schema = { type: "integer", minimum: 0, description: SIZE_RULE, "x-code": "size_invalid" };
const contentType: Schema = {
  type: "string",
  description: "contentType must be a media type such as image/jpeg (or image/* for a POST), without parameters",
  "x-code": "content_type_invalid",
};
const token: Schema = { type: "string", description: "token must be the upload token from POST /v1/multipart", "x-code": "body_invalid" };
const key: Schema = { type: "string", maxLength: 512, description: KEY_RULE, "x-code": "key_invalid" };

/** An object of the given fields, no others. */
function body<T>(properties: Readonly<Record<keyof T & string, Schema>>, required: readonly (keyof T & string)[], code?: Schema["x-code"]): BodySchema<T> {
  return { type: "object", properties, required, additionalProperties: false, ...(code ? { "x-code": code } : {}) };
}

export const SessionRequest = body<{ code: string }>(
  { code: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$", description: 'send {"code": "<the code from wx.login()>"}', "x-code": "code_invalid" } },
  ["code"],
  "code_invalid",
);

export const UploadRequest = body<{ profile: string; ext: string; method: "put" | "post"; size?: number; contentType?: string }>(
  {
    profile,
    ext,
    method: { type: "string", enum: ["put", "post"], default: "put", description: 'method must be "put" (wx.request) or "post" (wx.uploadFile)', "x-code": "method_invalid" },
    size,
    contentType,
  },
  ["ext"],
);

export const MultipartRequest = body<{ profile: string; ext: string; size: number; contentType?: string; partSize?: number }>(
  {
    profile,
    ext,
    size: { ...size, "x-missing": ["size_required", "a multipart upload is planned from the file's size: send size (bytes)"] },
    contentType,
    partSize: { type: "integer", minimum: 1024 * 1024, maximum: 5 * 1024 ** 3, description: PART_SIZE_RULE, "x-code": "part_size_invalid" },
  },
  ["ext", "size"],
);

export const UploadTokenRequest = body<{ token: string }>({ token }, ["token"]);

export const PartsRequest = body<{ token: string; partNumbers: number[]; contentMd5?: Record<string, string> }>(
  {
    token,
    partNumbers: { type: "array", items: { type: "integer" }, minItems: 1, maxItems: MAX_PARTS_PER_CALL, description: PART_NUMBERS_RULE, "x-code": "part_numbers_invalid" },
    contentMd5: {
      type: "object",
      additionalProperties: { type: "string", pattern: "^[A-Za-z0-9+/]{22}==$" },
      description: 'contentMd5 must map part numbers to Base64 MD5 digests, e.g. {"1": "1B2M2Y8AsgTpgAmY7PhCfg=="}',
    },
  },
  ["token", "partNumbers"],
);

export const ObjectRequest = body<{ key: string; profile: string }>({ key, profile }, ["key"]);

export const ReadUrlRequest = body<{ key: string; profile: string; expiresIn: number; process?: string }>(
  {
    key,
    profile,
    expiresIn: { type: "integer", minimum: 10, maximum: MAX_READ_SECONDS, default: 300, description: `expiresIn must be whole seconds from 10 to ${MAX_READ_SECONDS}`, "x-code": "expires_in_invalid" },
    process: { type: "string", enum: Object.keys(IMAGE_PROCESSING), description: `process must be one of ${Object.keys(IMAGE_PROCESSING).join(", ")}`, "x-code": "process_invalid" },
  },
  ["key"],
);

/** A page cursor as the ledger writes it: creation time (13 digits), `:`, the key. */
export const LIST_CURSOR = "^\\d{13}:[\\x21-\\x7e]{1,512}$";
export const MAX_LIST_LIMIT = 100;

export const ListObjectsRequest = body<{ profile: string; cursor?: string; limit: number }>(
  {
    profile,
    cursor: { type: "string", pattern: LIST_CURSOR, description: "cursor must be the cursor of the previous page", "x-code": "cursor_invalid" },
    limit: { type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT, default: 50, description: `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`, "x-code": "limit_invalid" },
  },
  [],
);

export const KeysRequest = body<{ ext: string; profile: string }>({ ext, profile }, ["ext"]);

export const CredentialsRequest = body<{ profile: string; key?: string }>({ profile, key }, []);

const stringMap = (field: "Query" | "Headers"): Schema => ({
  type: "object",
  additionalProperties: { type: ["string", "number"] },
  description: `${field} must be an object of names and string or number values`,
  "x-code": field === "Query" ? "query_invalid" : "header_invalid",
});

/** What an SDK's getAuthorization received; other fields the SDK adds (Scope, SystemClockOffset, …) are ignored. */
export type SdkAuthorizationBody = {
  profile: string;
  Bucket: string;
  Region: string;
  Method: string;
  Key?: string;
  Pathname?: string;
  Query?: Record<string, string | number>;
  Headers?: Record<string, string | number>;
};

export const SdkAuthorizationRequest: BodySchema<SdkAuthorizationBody> = {
  type: "object",
  properties: {
    profile,
    Bucket: { type: "string", description: "Bucket must be the bucket's name, BucketName-APPID" },
    Region: { type: "string", description: "Region must be the bucket's region" },
    Method: { type: "string", description: "Method must be the request's HTTP method" },
    Key: { type: "string", description: "Key must be the object key" },
    Pathname: { type: "string", description: "Pathname must be the decoded path that is signed" },
    Query: stringMap("Query"),
    Headers: stringMap("Headers"),
  },
  required: ["Bucket", "Region", "Method"],
};
