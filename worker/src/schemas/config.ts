/**
 * Every setting of the signer, described once in JSON Schema like the request bodies: its variable (a wrangler.toml
 * var or a secret), its field in UPLOAD_PROFILES where a profile may set it, its type, range and default, and the rule
 * in words that a misconfiguration reports (`description`; integers and booleans state theirs from their range).
 * config.ts reads the environment through these; a test keeps docs/configuration.md's tables and wrangler.toml's
 * [vars] equal to them.
 */
import type { Schema } from "./json-schema.js";

export interface Setting extends Schema {
  /** The environment variable: a [vars] entry of wrangler.toml, or a secret. */
  readonly variable?: string;
  /** Its field in a profile of UPLOAD_PROFILES, which takes the variable's value when unset. */
  readonly field?: string;
  readonly secret?: boolean;
  /** `origin`: scheme, host and port only; `url`: an https URL (http only on 127.0.0.1). */
  readonly format?: "origin" | "url";
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SECRET_RULE = { type: "string", secret: true, pattern: "^\\S+$" } as const;
const LONG_SECRET = { ...SECRET_RULE, minLength: 32, description: "must be at least 32 characters (e.g. openssl rand -base64 48)" } as const;

export const SETTINGS = {
  secretId: { ...SECRET_RULE, variable: "COS_SECRET_ID" },
  secretKey: { ...SECRET_RULE, variable: "COS_SECRET_KEY" },
  securityToken: { ...SECRET_RULE, variable: "COS_SECURITY_TOKEN" },
  /** Default: the write pair (COS_SECRET_ID / COS_SECRET_KEY). */
  readSecretId: { ...SECRET_RULE, variable: "COS_READ_SECRET_ID" },
  readSecretKey: { ...SECRET_RULE, variable: "COS_READ_SECRET_KEY" },
  bucket: {
    variable: "COS_BUCKET",
    field: "bucket",
    type: "string",
    maxLength: 50,
    pattern: "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\\d{1,20}$",
    description: "must be BucketName-APPID (lowercase letters, digits and '-', e.g. examplebucket-1250000000)",
  },
  region: { variable: "COS_REGION", field: "region", type: "string", pattern: "^[a-z]{2,}(?:-[a-z0-9]+)+$", description: "must be a COS region such as ap-guangzhou" },
  pathStyle: { variable: "COS_PATH_STYLE", field: "pathStyle", type: "boolean", default: true },
  endpoint: { variable: "COS_ENDPOINT", field: "endpoint", type: "string", format: "origin" },
  extensions: {
    variable: "UPLOAD_ALLOWED_EXTENSIONS",
    field: "extensions",
    type: "array",
    items: { type: "string", pattern: "^[a-z0-9]{1,10}$" },
    minItems: 1,
    default: ["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"],
    description: "must list 1–10 letters or digits per suffix, e.g. jpg,png,mp4",
  },
  contentTypes: {
    field: "contentTypes",
    type: "array",
    items: { type: "string", pattern: "^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\\/(?:\\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,63})$" },
    default: [],
    description: "must list media types such as image/jpeg or image/*",
  },
  maxBytes: { variable: "UPLOAD_MAX_BYTES", field: "maxBytes", type: "integer", minimum: 1, maximum: 5 * GiB, default: 100 * MiB },
  signatureTtlSeconds: { variable: "UPLOAD_SIGNATURE_TTL_SECONDS", field: "signatureTtlSeconds", type: "integer", minimum: 10, maximum: 3600, default: 600 },
  keyPrefix: {
    variable: "UPLOAD_KEY_PREFIX",
    field: "keyPrefix",
    type: "string",
    pattern: "^(?:[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*)?$",
    default: "uploads",
    description: "must be path segments of letters, digits, '.', '_' and '-', separated by '/' (no '..' or empty segments)",
  },
  methods: { field: "methods", type: "array", items: { type: "string", enum: ["put", "post"] }, minItems: 1, default: ["put", "post"], description: 'must list "put", "post" or both' },
  forbidOverwrite: { field: "forbidOverwrite", type: "boolean", default: true },
  credentials: { field: "credentials", type: "string", pattern: "^[A-Za-z0-9_]{1,32}$", description: "must be a credential name of letters, digits and '_'" },
  multipart: { variable: "UPLOAD_MULTIPART", field: "multipart", type: "boolean", default: true },
  multipartThreshold: { variable: "UPLOAD_MULTIPART_THRESHOLD", field: "multipartThreshold", type: "integer", minimum: MiB, maximum: 5 * GiB, default: 20 * MiB },
  /** Default: the profile's maxBytes. Up to COS's 10,000 parts of 5 GB. */
  multipartMaxBytes: { variable: "UPLOAD_MULTIPART_MAX_BYTES", field: "multipartMaxBytes", type: "integer", minimum: 1, maximum: 10_000 * 5 * GiB },
  /** Unset: no limit. Counted by the ledger (Workers: the LEDGER Durable Object; Node/SCF: Redis). */
  quotaBytes: { variable: "UPLOAD_QUOTA_BYTES", field: "quotaBytes", type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  /** Unset: no limit. Bytes signed per user and UTC day. */
  dailyBytes: { variable: "UPLOAD_DAILY_BYTES", field: "dailyBytes", type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  /** Content moderation of the objects uploaded (docs/moderation.md): nothing is served before it passed. */
  moderation: {
    variable: "UPLOAD_MODERATION",
    field: "moderation",
    type: "string",
    enum: ["off", "wechat", "cos"],
    default: "off",
    description: 'must be "off", "wechat" (images and audio through WeChat\'s mediaCheckAsync, the rest through COS) or "cos" (everything through COS moderation)',
  },
  /** mediaCheckAsync's scene: 1 profile, 2 comment, 3 forum, 4 social log. */
  moderationScene: { variable: "UPLOAD_MODERATION_SCENE", field: "moderationScene", type: "integer", minimum: 1, maximum: 4, default: 4 },
  /** While an object is pending, its uploader may still get read URLs of it. */
  moderationOwnerRead: { variable: "UPLOAD_MODERATION_OWNER_READ", field: "moderationOwnerRead", type: "boolean", default: false },
  read: {
    variable: "UPLOAD_READ",
    field: "read",
    type: "string",
    enum: ["owner", "none"],
    default: "none",
    description: 'must be "owner" (uploaders may read their own objects) or "none"',
  },
  authMode: { variable: "AUTH_MODE", type: "string", enum: ["wechat", "none"], default: "wechat", description: 'must be "wechat" (production) or "none" (local development only)' },
  wxAppId: { variable: "WX_APPID", type: "string", pattern: "^wx[0-9a-f]{16}$", description: "must be the Mini Program's AppID (wx followed by 16 hex digits)" },
  wxAppSecret: { ...SECRET_RULE, variable: "WX_APPSECRET" },
  sessionSecret: { ...LONG_SECRET, variable: "SESSION_SECRET" },
  /** Default: SESSION_SECRET. */
  userSegmentSecret: { ...LONG_SECRET, variable: "USER_SEGMENT_SECRET" },
  sessionTtlSeconds: { variable: "SESSION_TTL_SECONDS", type: "integer", minimum: 60, maximum: 86_400, default: 3600 },
  wxApiOrigin: { variable: "WX_API_ORIGIN", type: "string", format: "origin", default: "https://api.weixin.qq.com" },
  corsOrigins: { variable: "CORS_ORIGINS", type: "array", items: { type: "string" }, format: "origin", default: [], description: "must be a comma-separated list of origins such as https://app.example.com" },
  /** Default: on with AUTH_MODE=none, off with wechat. */
  seedRoutes: { variable: "SEED_ROUTES", type: "boolean" },
  /** Off unless set: /v1/cos/* sign what an SDK describes, which binds less than /v1/uploads (docs/security.md). */
  sdkRoutes: { variable: "SDK_ROUTES", type: "boolean", default: false },
  receiptSecret: { ...LONG_SECRET, variable: "RECEIPT_SECRET" },
  receiptWebhookUrl: { variable: "RECEIPT_WEBHOOK_URL", type: "string", format: "url" },
  /** The Token of the Mini Program's message push (3–32 letters and digits). */
  wxPushToken: { ...SECRET_RULE, variable: "WX_PUSH_TOKEN", description: "must be the push Token of the WeChat console: 3–32 letters and digits" },
  /** The EncodingAESKey of the message push; set: safe mode only. */
  wxPushAesKey: { ...SECRET_RULE, variable: "WX_PUSH_AES_KEY", description: "must be the EncodingAESKey of the WeChat console: 43 letters and digits" },
  /** Where COS sends its moderation jobs' callbacks: this signer's POST /v1/moderation/cos-callback. */
  moderationCallbackUrl: { variable: "MODERATION_CALLBACK_URL", type: "string", format: "url" },
  stsEndpoint: { variable: "STS_ENDPOINT", type: "string", format: "origin", default: "https://sts.tencentcloudapi.com" },
  stsDurationSeconds: { variable: "STS_DURATION_SECONDS", type: "integer", minimum: 300, maximum: 7200, default: 900 },
} as const satisfies Record<string, Setting>;
