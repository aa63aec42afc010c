/**
 * The OpenAPI 3.1 document of the signer: its request bodies converted from the valibot schemas the routes validate
 * with (schemas/requests.ts, by @valibot/to-json-schema), and the answers the routes give. Not part of the Worker's
 * bundle: `npm run openapi` writes it to public/openapi.json, which Workers serves as a static asset (no Worker CPU)
 * and the other hosts serve from their bundle; a test keeps the file equal to this module's output and checks real
 * answers against it.
 */
import { type JsonSchema, toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import { type ErrorCode, ERROR_STATUS } from "../http/errors.js";
import {
  CredentialsRequest,
  KeysRequest,
  ListObjectsRequest,
  MultipartRequest,
  ObjectRequest,
  PartsRequest,
  ReadUrlRequest,
  SdkAuthorizationRequest,
  SessionRequest,
  UploadRequest,
  UploadTokenRequest,
} from "../schemas/requests.js";

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of an answer or a query parameter. */
type Schema = JsonSchema;

const string: Schema = { type: "string" };
const integer: Schema = { type: "integer" };
const isoTime: Schema = { type: "string", description: "ISO 8601 time" };
const headerMap: Schema = { type: "object", additionalProperties: string, description: "headers to send exactly as given" };
/** Signed UploadParts: the URL and the headers to PUT each part with (Host and Content-Length are signed too). */
/** An object's state in the ledger; pending, review and blocked are content moderation's (docs/moderation.md). */
const OBJECT_STATE: Schema = { type: "string", enum: ["reserved", "stored", "pending", "blocked", "review"] };
const MODERATION: Schema = { type: "string", enum: ["stored", "pending", "blocked", "review"], description: "the object's moderation state (moderated profiles only)" };
const SIGNED_PARTS: Schema = { type: "array", items: answer({ partNumber: integer, url: string, headers: headerMap }) };

/** An object with exactly these fields, all present. */
function answer(properties: Readonly<Record<string, Schema>>, optional: readonly string[] = []): Schema {
  return { type: "object", properties, required: Object.keys(properties).filter((name) => !optional.includes(name)), additionalProperties: false };
}

const PutDescriptor = answer({ method: { type: "string", enum: ["PUT"] }, key: string, url: string, headers: headerMap, objectUrl: string, expiresAt: isoTime });
const PostDescriptor = answer({
  method: { type: "string", enum: ["POST"] },
  key: string,
  url: string,
  fields: { type: "object", additionalProperties: string, description: "form fields, sent before the file" },
  fileField: { type: "string", enum: ["file"] },
  objectUrl: string,
  expiresAt: isoTime,
});
const nullableString: Schema = { type: ["string", "null"] };
const ObjectFacts: Readonly<Record<string, Schema>> = {
  key: string,
  size: integer,
  contentType: string,
  etag: string,
  crc64: nullableString,
  lastModified: nullableString,
  profile: string,
  user: nullableString,
};

/** The errors every route can answer, besides its own. */
const COMMON_ERRORS: readonly ErrorCode[] = ["config_invalid", "internal_error", "not_found", "method_not_allowed"];
const JSON_BODY: readonly ErrorCode[] = ["body_invalid", "body_too_large", "unsupported_media_type"];
const SESSION: readonly ErrorCode[] = ["unauthorized", "token_invalid", "token_expired"];
const LIMITED: readonly ErrorCode[] = ["rate_limited"];
const PROFILE: readonly ErrorCode[] = ["unknown_profile"];
const COS_CALL: readonly ErrorCode[] = ["cos_refused", "cos_unavailable"];
const UPLOAD_TOKEN: readonly ErrorCode[] = ["upload_token_invalid", "upload_token_expired", "upload_token_foreign", "upload_not_found"];
const CONTENT_TYPE: readonly ErrorCode[] = ["content_type_invalid", "content_type_mismatch", "content_type_not_allowed"];

export interface RouteDoc {
  readonly method: "get" | "post";
  readonly path: string;
  readonly summary: string;
  /** Needs a session token with AUTH_MODE=wechat. */
  readonly session: boolean;
  readonly query?: Readonly<Record<string, { readonly schema: Schema; readonly required: boolean }>>;
  /** The request body's valibot schema (built on first use): the one the route validates with. */
  readonly body?: () => GenericSchema;
  readonly response: Schema;
  readonly errors: readonly ErrorCode[];
  /** The answer is text/plain (what WeChat and COS expect of a push receiver), not JSON. */
  readonly textAnswer?: boolean;
}

export const ROUTES: readonly RouteDoc[] = [
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document (on Workers a static asset)",
    session: false,
    response: { type: "object", description: "OpenAPI 3.1" },
    errors: [],
  },
  { method: "get", path: "/healthz", summary: "The configuration is valid", session: false, response: answer({ status: { type: "string", enum: ["ok"] } }), errors: [] },
  {
    method: "post",
    path: "/v1/session",
    summary: "Log in with the code of wx.login() (AUTH_MODE=wechat)",
    session: false,
    body: SessionRequest,
    response: answer({ token: string, expiresAt: isoTime, expiresIn: integer }),
    errors: [...JSON_BODY, "code_invalid", "wechat_code_invalid", "wechat_user_blocked", "wechat_rate_limited", "wechat_unavailable", ...LIMITED],
  },
  {
    method: "get",
    path: "/put-sign",
    summary: "Tencent's sample: a PUT signature for a new key (SEED_ROUTES)",
    session: true,
    query: { ext: { schema: string, required: true }, profile: { schema: string, required: false } },
    response: answer({ cosHost: string, cosKey: string, authorization: string, securityToken: string }),
    errors: ["seed_routes_off", ...SESSION, ...LIMITED, ...PROFILE, "ext_invalid", "ext_not_allowed", "method_invalid", "quota_exceeded"],
  },
  {
    method: "get",
    path: "/post-policy",
    summary: "Tencent's sample: a POST policy for a new key (SEED_ROUTES)",
    session: true,
    query: { ext: { schema: string, required: true }, profile: { schema: string, required: false } },
    response: answer({ cosHost: string, cosKey: string, policy: string, qSignAlgorithm: string, qAk: string, qKeyTime: string, qSignature: string, securityToken: string }),
    errors: ["seed_routes_off", ...SESSION, ...LIMITED, ...PROFILE, "ext_invalid", "ext_not_allowed", "method_invalid", "quota_exceeded"],
  },
  {
    method: "get",
    path: "/v1/profiles",
    summary: "The profiles a client may choose, and their rules",
    session: false,
    response: answer({
      profiles: {
        type: "array",
        items: answer({
          name: string,
          extensions: { type: "array", items: string },
          contentTypes: { type: "array", items: string },
          maxBytes: integer,
          methods: { type: "array", items: { type: "string", enum: ["put", "post"] } },
        }),
      },
    }),
    errors: [],
  },
  {
    method: "post",
    path: "/v1/uploads",
    summary: "Permission to upload one file: a signed PUT or POST form for a new key",
    session: true,
    body: UploadRequest,
    response: { type: "object", oneOf: [PutDescriptor, PostDescriptor] },
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "ext_invalid", "ext_not_allowed", "method_invalid", "size_invalid", "size_required", "file_too_large", "multipart_required", ...CONTENT_TYPE, "quota_exceeded"],
  },
  {
    method: "post",
    path: "/v1/multipart",
    summary: "Start a multipart upload (the Worker initiates it on COS)",
    session: true,
    body: MultipartRequest,
    response: answer({ key: string, uploadId: string, size: integer, partSize: integer, partCount: integer, contentType: string, token: string, objectUrl: string, expiresAt: isoTime, parts: SIGNED_PARTS }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "multipart_off", "ext_invalid", "ext_not_allowed", "size_invalid", "size_required", "file_too_large", "part_size_invalid", ...CONTENT_TYPE, "upload_exists", ...COS_CALL, "quota_exceeded"],
  },
  {
    method: "post",
    path: "/v1/multipart/parts",
    summary: "Sign up to 100 parts",
    session: true,
    body: PartsRequest,
    response: answer({ parts: SIGNED_PARTS }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...UPLOAD_TOKEN, "part_numbers_invalid"],
  },
  {
    method: "post",
    path: "/v1/multipart/list",
    summary: "The parts COS holds",
    session: true,
    body: UploadTokenRequest,
    response: answer({ key: string, size: integer, partSize: integer, partCount: integer, parts: { type: "array", items: answer({ partNumber: integer, size: integer, etag: string }) } }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...UPLOAD_TOKEN, ...COS_CALL],
  },
  {
    method: "post",
    path: "/v1/multipart/complete",
    summary: "Check every part and complete the upload",
    session: true,
    body: UploadTokenRequest,
    response: answer({ key: string, url: string, size: integer, etag: string, crc64: nullableString, moderation: MODERATION }, ["moderation"]),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...UPLOAD_TOKEN, "parts_incomplete", "upload_exists", ...COS_CALL, "wechat_unavailable"],
  },
  {
    method: "post",
    path: "/v1/multipart/abort",
    summary: "Abort the upload on COS",
    session: true,
    body: UploadTokenRequest,
    response: answer({ aborted: { type: "boolean" } }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...UPLOAD_TOKEN, ...COS_CALL],
  },
  {
    method: "post",
    path: "/v1/uploads/receipt",
    summary: "What COS holds under one of the caller's keys, with a signed receipt",
    session: true,
    body: ObjectRequest,
    response: answer({ ...ObjectFacts, receipt: string, expiresAt: isoTime, moderation: MODERATION }, ["moderation"]),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "receipts_off", "key_invalid", "key_not_allowed", "object_not_found", ...COS_CALL, "wechat_unavailable"],
  },
  {
    method: "post",
    path: "/v1/objects/url",
    summary: "A presigned GET URL of one of the caller's objects (read = owner)",
    session: true,
    body: ReadUrlRequest,
    response: answer({ key: string, url: string, expiresAt: isoTime }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "read_not_allowed", "key_invalid", "key_not_allowed", "expires_in_invalid", "process_invalid", "moderation_pending", "moderation_review", "moderation_blocked"],
  },
  {
    method: "post",
    path: "/v1/objects/list",
    summary: "The caller's own objects in a profile, newest first (the ledger)",
    session: true,
    body: ListObjectsRequest,
    response: answer(
      {
        objects: {
          type: "array",
          items: answer({ key: string, size: integer, contentType: string, createdAt: isoTime, state: OBJECT_STATE }),
        },
        cursor: { type: "string", description: "send it back for the next page; absent on the last" },
      },
      ["cursor"],
    ),
    errors: [...JSON_BODY, ...SESSION, ...PROFILE, "cursor_invalid", "limit_invalid", "ledger_off"],
  },
  {
    method: "post",
    path: "/v1/objects/delete",
    summary: "Delete one of the caller's objects on COS and free its bytes",
    session: true,
    body: ObjectRequest,
    response: answer({ deleted: { type: "boolean", description: "always true" } }),
    errors: [...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "key_invalid", "key_not_allowed", "object_not_found", "ledger_off", ...COS_CALL],
  },
  {
    method: "get",
    path: "/v1/usage",
    summary: "The caller's bytes and files per profile, and the profile's limits",
    session: true,
    response: answer({
      profiles: {
        type: "array",
        items: answer({
          profile: string,
          usedBytes: integer,
          reservedBytes: integer,
          quotaBytes: { type: ["integer", "null"] },
          dailyUsedBytes: integer,
          dailyBytes: { type: ["integer", "null"] },
          files: integer,
        }),
      },
    }),
    errors: [...SESSION, "ledger_off"],
  },
  {
    method: "post",
    path: "/v1/cos/keys",
    summary: "Tencent's SDKs: a new key in the caller's space",
    session: true,
    body: KeysRequest,
    response: answer({ Bucket: string, Region: string, Key: string }),
    errors: ["sdk_routes_off", ...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "ext_invalid", "ext_not_allowed"],
  },
  {
    method: "post",
    path: "/v1/cos/authorization",
    summary: "Tencent's SDKs: the Authorization of exactly the COS request getAuthorization describes",
    session: true,
    body: SdkAuthorizationRequest,
    response: answer({ Authorization: string, ExpiredTime: integer, SecurityToken: string }, ["SecurityToken"]),
    errors: [
      "sdk_routes_off",
      ...JSON_BODY,
      ...SESSION,
      ...LIMITED,
      ...PROFILE,
      "bucket_not_allowed",
      "host_required",
      "query_invalid",
      "header_invalid",
      "header_not_allowed",
      "operation_not_allowed",
      "key_invalid",
      "key_not_allowed",
      "ext_not_allowed",
      "size_required",
      "size_invalid",
      "file_too_large",
      "overwrite_protection_required",
      "content_type_unbound",
      "upload_exists",
      "upload_not_found",
      "cos_refused",
      "cos_unavailable",
      ...CONTENT_TYPE,
      "quota_exceeded",
      "moderation_pending",
      "moderation_review",
      "moderation_blocked",
    ],
  },
  {
    method: "post",
    path: "/v1/cos/credentials",
    summary: "Tencent's SDKs: temporary keys for the caller's space (STS GetFederationToken)",
    session: true,
    body: CredentialsRequest,
    response: answer({ TmpSecretId: string, TmpSecretKey: string, SecurityToken: string, StartTime: integer, ExpiredTime: integer, Bucket: string, Region: string, Prefix: string }),
    errors: ["sdk_routes_off", ...JSON_BODY, ...SESSION, ...LIMITED, ...PROFILE, "credentials_off", "operation_not_allowed", "overwrite_unbound", "content_type_unbound", "key_invalid", "key_not_allowed", "sts_refused", "sts_unavailable"],
  },
  {
    method: "get",
    path: "/v1/wechat/push",
    summary: "WeChat's check of the message push URL: the echostr, for a signature over WX_PUSH_TOKEN",
    session: false,
    query: {
      signature: { schema: string, required: true },
      timestamp: { schema: string, required: true },
      nonce: { schema: string, required: true },
      echostr: { schema: string, required: true },
    },
    response: { type: "string", description: "the echostr" },
    textAnswer: true,
    errors: ["push_off", "push_invalid", "push_signature_invalid"],
  },
  {
    method: "post",
    path: "/v1/wechat/push",
    summary: "WeChat's message push, its body WeChat's (safe mode: {Encrypt}, encrypt_type=aes, msg_signature): wxa_media_check verdicts",
    session: false,
    query: {
      timestamp: { schema: string, required: true },
      nonce: { schema: string, required: true },
      signature: { schema: string, required: false },
      encrypt_type: { schema: { type: "string", enum: ["aes"] }, required: false },
      msg_signature: { schema: string, required: false },
    },
    response: { type: "string", enum: ["success"] },
    textAnswer: true,
    errors: ["push_off", "push_invalid", "push_signature_invalid", "push_foreign", "body_too_large"],
  },
  {
    method: "post",
    path: "/v1/moderation/cos-callback",
    summary: "A COS moderation job ended (COS's callback body, only its JobId read): the verdict is read back from COS with a signed request",
    session: false,
    query: { kind: { schema: { type: "string", enum: ["image", "video", "audio"] }, required: true } },
    response: { type: "string", enum: ["success"] },
    textAnswer: true,
    errors: ["push_off", "push_invalid", "body_too_large", ...COS_CALL],
  },
];

/**
 * A request body's schema as the document states it. The `x-code` (and `x-missing`) metadata stay: they name the
 * code of a 400 about each field, for clients that map codes to their own messages.
 */
function bodySchema(schema: GenericSchema): JsonSchema {
  // "output": a map's pipe checks for an object first (a schema the converter has no form for), then the record.
  const { $schema: _dialect, ...converted } = toJsonSchema(schema, { target: "draft-2020-12", typeMode: "output" });
  return converted;
}

/** An error answer of a route: the codes it can carry at that status, in words; the shape is the shared Error. */
const errorResponse = (codes: readonly ErrorCode[]) => ({
  description: `code: ${codes.join(", ")}`,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

export function openApiDocument(version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES) {
    const codes = [...new Set([...route.errors, ...COMMON_ERRORS])];
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        summary: route.summary,
        operationId: `${route.method}${route.path.replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
        // Open routes say so (an empty list), rather than leaving "no security" to be guessed.
        security: route.session ? [{ session: [] }, {}] : [],
        ...(route.query
          ? { parameters: Object.entries(route.query).map(([name, { required, schema }]) => ({ name, in: "query", required, schema })) }
          : {}),
        ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: bodySchema(route.body()) } } } } : {}),
        responses: {
          "200": { description: "OK", content: { [route.textAnswer ? "text/plain" : "application/json"]: { schema: route.response } } },
          ...Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), errorResponse(list)])),
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "cos-edge-signer",
      version,
      description: "Signs Tencent Cloud COS uploads for WeChat Mini Programs. Every error is JSON {error: {code, message}}; see docs/api.md.",
      license: { name: "MIT", identifier: "MIT" },
    },
    // Relative: the signer's own origin, wherever it runs (the document is served there at /openapi.json).
    servers: [{ url: "/", description: "the signer that serves this document" }],
    components: {
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          additionalProperties: false,
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              additionalProperties: false,
              properties: { code: { type: "string", enum: Object.keys(ERROR_STATUS) }, message: { type: "string", description: "for people; never holds a secret" } },
            },
          },
        },
      },
      securitySchemes: { session: { type: "http", scheme: "bearer", description: "The token of POST /v1/session; needed with AUTH_MODE=wechat (the default)." } },
    },
    paths,
  };
}
