/**
 * Every setting of the signer, described once: its variable (a wrangler.toml var or a secret), its field in
 * UPLOAD_PROFILES where a profile may set it, its default, and the valibot schema that turns the value as found (a
 * string from the environment, or any TOML/JSON value of a profile) into the typed value — its issues' messages are
 * the rule a misconfiguration reports. config.ts reads the environment through these; a test keeps
 * docs/configuration.md's tables and wrangler.toml's [vars] equal to them.
 */
import * as v from "valibot";
import { lazily } from "../schemas/lazily.js";

export interface Setting<T = unknown> {
  /** The environment variable: a [vars] entry of wrangler.toml, or a secret. */
  readonly variable?: string;
  /** Its field in a profile of UPLOAD_PROFILES, which takes the variable's value when unset. */
  readonly field?: string;
  readonly secret?: boolean;
  /** The value when unset (undefined, null or empty). */
  readonly default?: T;
  /** The value as found → the typed value, undefined when unset (an absent value is not run through it). */
  readonly schema: v.GenericSchema<unknown, T | undefined>;
}

/** A setting whose schema is built on its first use (lazily.ts). */
function setting<const M extends Omit<Setting, "schema">, T>(meta: M, build: () => v.GenericSchema<unknown, T | undefined>): M & { readonly schema: v.GenericSchema<unknown, T | undefined> } {
  const schema = lazily(build);
  return {
    ...meta,
    get schema() {
      return schema();
    },
  };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SINGLE = "must be a single value, not a list or table";
const WHITESPACE = "contains whitespace: paste it without spaces or line breaks";

/** A variable or field that holds one value, as trimmed text; unset (absent, null, empty) is undefined. */
const scalar = <T>(value: v.GenericSchema<string, T>) =>
  v.pipe(
    v.unknown(),
    v.check((found) => found === null || typeof found !== "object", SINGLE),
    v.transform((found) => (found === undefined || found === null ? "" : String(found).trim()) || undefined),
    v.optional(value),
  );

const text = (pattern: RegExp, rule: string, maxLength = Infinity) => scalar(v.pipe(v.string(), v.maxLength(maxLength, rule), v.regex(pattern, rule)));

const oneOf = <const T extends readonly [string, ...string[]]>(options: T, rule: string) => scalar(v.picklist(options, rule));

const boolean = () => scalar(v.pipe(v.picklist(["true", "false"], 'must be "true" or "false"'), v.transform((found) => found === "true")));

const integer = (min: number, max: number) => {
  const range = `must be between ${min} and ${max}`;
  return scalar(v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.minValue(min, range), v.maxValue(max, range)));
};

function parseUrl(found: string): URL | undefined {
  try {
    return new URL(found);
  } catch {
    return undefined;
  }
}

/** Nothing but scheme, host and port (a trailing `/` allowed). */
const isOrigin = (url: URL | undefined) =>
  url !== undefined && !url.username && !url.password && !url.search && !url.hash && (url.pathname === "/" || url.pathname === "") && url.origin !== "null";

/** An origin of an https (or, for a local emulator, http) server. */
const origin = () =>
  scalar(
    v.pipe(
      v.string(),
      v.transform(parseUrl),
      v.check((url) => url !== undefined, "must be an origin such as https://static.example.com"),
      v.check((url) => url?.protocol === "https:" || url?.protocol === "http:", "must use https:// (or http:// for a local emulator)"),
      v.check(isOrigin, "must be an origin only: scheme, host and optional port, no path, query or credentials"),
      v.transform((url) => url!.origin),
    ),
  );

/** An https URL (http only on this machine), without credentials. */
const url = () =>
  scalar(
    v.pipe(
      v.string(),
      v.transform(parseUrl),
      v.check((url) => url !== undefined, "must be a URL such as https://api.example.com/cos-receipts"),
      v.check(
        (url) => url?.protocol === "https:" || (url?.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost")),
        "must use https:// (http:// only for 127.0.0.1)",
      ),
      v.check((url) => !url?.username && !url?.password, "must not carry credentials"),
      v.transform((url) => url!.href),
    ),
  );

/** A list's item: one matching `pattern`, one of the options, or an origin (kept as its URL's origin). */
function item(kind: RegExp | readonly [string, ...string[]] | "origin", rule: string): v.GenericSchema<string, string> {
  if (kind instanceof RegExp) return v.pipe(v.string(), v.regex(kind, rule));
  if (kind === "origin") return v.pipe(v.string(), v.transform(parseUrl), v.check(isOrigin, rule), v.transform((url) => url!.origin));
  return v.picklist(kind, rule);
}

/**
 * A list: a TOML/JSON array, or a comma-separated string; items trimmed and lowercased, empty ones dropped. An empty
 * string is unset, an empty array an empty list.
 */
const list = <const T extends string>(kind: RegExp | readonly [T, ...T[]] | "origin", rule: string, minItems = 0) =>
  v.pipe(
    v.unknown(),
    v.check((found) => found === undefined || found === null || Array.isArray(found) || typeof found === "string", "must be a list"),
    v.transform((found) => {
      if (found === undefined || found === null) return undefined;
      const items = (Array.isArray(found) ? found.map(String) : (found as string).split(",")).map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== "");
      return items.length === 0 && typeof found === "string" ? undefined : items;
    }),
    v.optional(v.pipe(v.array(item(kind, rule) as v.GenericSchema<string, T>, rule), v.minLength(minItems, rule))),
  );

/** A secret: one whitespace-free string; unset (absent, or only whitespace) is undefined. */
const secret = (minLength = 0) =>
  v.pipe(
    v.unknown(),
    v.transform((found) => (typeof found === "string" && found.trim() === "" ? undefined : found)),
    v.optional(v.pipe(v.string(WHITESPACE), v.regex(/^\S+$/, WHITESPACE), v.minLength(minLength, `must be at least ${minLength} characters (e.g. openssl rand -base64 48)`))),
  );

const KEY_PREFIX = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*)?$/;

export const SETTINGS = {
  secretId: setting({ variable: "COS_SECRET_ID", secret: true }, () => secret()),
  secretKey: setting({ variable: "COS_SECRET_KEY", secret: true }, () => secret()),
  securityToken: setting({ variable: "COS_SECURITY_TOKEN", secret: true }, () => secret()),
  /** Default: the write pair (COS_SECRET_ID / COS_SECRET_KEY). */
  readSecretId: setting({ variable: "COS_READ_SECRET_ID", secret: true }, () => secret()),
  readSecretKey: setting({ variable: "COS_READ_SECRET_KEY", secret: true }, () => secret()),
  bucket: setting({ variable: "COS_BUCKET", field: "bucket" }, () =>
    text(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d{1,20}$/, "must be BucketName-APPID (lowercase letters, digits and '-', e.g. examplebucket-1250000000)", 50),
  ),
  region: setting({ variable: "COS_REGION", field: "region" }, () => text(/^[a-z]{2,}(?:-[a-z0-9]+)+$/, "must be a COS region such as ap-guangzhou")),
  pathStyle: setting({ variable: "COS_PATH_STYLE", field: "pathStyle", default: true }, boolean),
  endpoint: setting({ variable: "COS_ENDPOINT", field: "endpoint" }, origin),
  extensions: setting({ variable: "UPLOAD_ALLOWED_EXTENSIONS", field: "extensions", default: ["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"] }, () =>
    list(/^[a-z0-9]{1,10}$/, "must list 1–10 letters or digits per suffix, e.g. jpg,png,mp4", 1),
  ),
  contentTypes: setting({ field: "contentTypes", default: [] }, () =>
    list(/^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,63})$/, "must list media types such as image/jpeg or image/*"),
  ),
  maxBytes: setting({ variable: "UPLOAD_MAX_BYTES", field: "maxBytes", default: 100 * MiB }, () => integer(1, 5 * GiB)),
  signatureTtlSeconds: setting({ variable: "UPLOAD_SIGNATURE_TTL_SECONDS", field: "signatureTtlSeconds", default: 600 }, () => integer(10, 3600)),
  /** Without leading or trailing `/`; set but empty ("" or "/"): no prefix. */
  keyPrefix: setting({ variable: "UPLOAD_KEY_PREFIX", field: "keyPrefix", default: "uploads" }, () =>
    v.pipe(
      v.unknown(),
      v.check((found) => found === null || typeof found !== "object", SINGLE),
      v.transform((found) => (found === undefined ? undefined : String(found ?? "").trim().replace(/^\/+|\/+$/g, ""))),
      v.optional(v.pipe(v.string(), v.regex(KEY_PREFIX, "must be path segments of letters, digits, '.', '_' and '-', separated by '/' (no '..' or empty segments)"))),
    ),
  ),
  methods: setting({ field: "methods", default: ["put", "post"] }, () => list(["put", "post"], 'must list "put", "post" or both', 1)),
  forbidOverwrite: setting({ field: "forbidOverwrite", default: true }, boolean),
  credentials: setting({ field: "credentials" }, () => text(/^[A-Za-z0-9_]{1,32}$/, "must be a credential name of letters, digits and '_'")),
  multipart: setting({ variable: "UPLOAD_MULTIPART", field: "multipart", default: true }, boolean),
  multipartThreshold: setting({ variable: "UPLOAD_MULTIPART_THRESHOLD", field: "multipartThreshold", default: 20 * MiB }, () => integer(MiB, 5 * GiB)),
  /** Default: the profile's maxBytes. Up to COS's 10,000 parts of 5 GB. */
  multipartMaxBytes: setting({ variable: "UPLOAD_MULTIPART_MAX_BYTES", field: "multipartMaxBytes" }, () => integer(1, 10_000 * 5 * GiB)),
  /** Unset: no limit. Counted by the ledger (Workers: the LEDGER Durable Object; Node/SCF: Redis). */
  quotaBytes: setting({ variable: "UPLOAD_QUOTA_BYTES", field: "quotaBytes" }, () => integer(1, Number.MAX_SAFE_INTEGER)),
  /** Unset: no limit. Bytes signed per user and UTC day. */
  dailyBytes: setting({ variable: "UPLOAD_DAILY_BYTES", field: "dailyBytes" }, () => integer(1, Number.MAX_SAFE_INTEGER)),
  /** Content moderation of the objects uploaded (docs/moderation.md): nothing is served before it passed. */
  moderation: setting({ variable: "UPLOAD_MODERATION", field: "moderation", default: "off" }, () =>
    oneOf(["off", "wechat", "cos"], 'must be "off", "wechat" (images and audio through WeChat\'s mediaCheckAsync, the rest through COS) or "cos" (everything through COS moderation)'),
  ),
  /** mediaCheckAsync's scene: 1 profile, 2 comment, 3 forum, 4 social log. */
  moderationScene: setting({ variable: "UPLOAD_MODERATION_SCENE", field: "moderationScene", default: 4 }, () => integer(1, 4)),
  /** While an object is pending, its uploader may still get read URLs of it. */
  moderationOwnerRead: setting({ variable: "UPLOAD_MODERATION_OWNER_READ", field: "moderationOwnerRead", default: false }, boolean),
  read: setting({ variable: "UPLOAD_READ", field: "read", default: "none" }, () => oneOf(["owner", "none"], 'must be "owner" (uploaders may read their own objects) or "none"')),
  authMode: setting({ variable: "AUTH_MODE", default: "wechat" }, () => oneOf(["wechat", "none"], 'must be "wechat" (production) or "none" (local development only)')),
  wxAppId: setting({ variable: "WX_APPID" }, () => text(/^wx[0-9a-f]{16}$/, "must be the Mini Program's AppID (wx followed by 16 hex digits)")),
  wxAppSecret: setting({ variable: "WX_APPSECRET", secret: true }, () => secret()),
  sessionSecret: setting({ variable: "SESSION_SECRET", secret: true }, () => secret(32)),
  /** Default: SESSION_SECRET. */
  userSegmentSecret: setting({ variable: "USER_SEGMENT_SECRET", secret: true }, () => secret(32)),
  sessionTtlSeconds: setting({ variable: "SESSION_TTL_SECONDS", default: 3600 }, () => integer(60, 86_400)),
  wxApiOrigin: setting({ variable: "WX_API_ORIGIN", default: "https://api.weixin.qq.com" }, origin),
  corsOrigins: setting({ variable: "CORS_ORIGINS", default: [] }, () => list("origin", "must be a comma-separated list of origins such as https://app.example.com")),
  /** Default: on with AUTH_MODE=none, off with wechat. */
  seedRoutes: setting({ variable: "SEED_ROUTES" }, boolean),
  /** Off unless set: /v1/cos/* sign what an SDK describes, which binds less than /v1/uploads (docs/security.md). */
  sdkRoutes: setting({ variable: "SDK_ROUTES", default: false }, boolean),
  receiptSecret: setting({ variable: "RECEIPT_SECRET", secret: true }, () => secret(32)),
  receiptWebhookUrl: setting({ variable: "RECEIPT_WEBHOOK_URL" }, url),
  /** The Token of the Mini Program's message push (3–32 letters and digits: checked in moderation/settings.ts). */
  wxPushToken: setting({ variable: "WX_PUSH_TOKEN", secret: true }, () => secret()),
  /** The EncodingAESKey of the message push (43 letters and digits); set: safe mode only. */
  wxPushAesKey: setting({ variable: "WX_PUSH_AES_KEY", secret: true }, () => secret()),
  /** Where COS sends its moderation jobs' callbacks: this signer's POST /v1/moderation/cos-callback. */
  moderationCallbackUrl: setting({ variable: "MODERATION_CALLBACK_URL" }, url),
  stsEndpoint: setting({ variable: "STS_ENDPOINT", default: "https://sts.tencentcloudapi.com" }, origin),
  stsDurationSeconds: setting({ variable: "STS_DURATION_SECONDS", default: 900 }, () => integer(300, 7200)),
} satisfies Record<string, Setting>;

/** The fields a profile may set. */
export const PROFILE_FIELDS: readonly string[] = Object.values(SETTINGS as Record<string, Setting>).flatMap((setting) => (setting.field ? [setting.field] : []));

const isTable = (found: unknown): found is Record<string, unknown> => typeof found === "object" && found !== null && !Array.isArray(found);

export const PROFILES_RULE = "must be a table of profiles ([vars.UPLOAD_PROFILES.<name>] in wrangler.toml) or the same as JSON";

/**
 * UPLOAD_PROFILES' shape: a table of profiles by name, each a table of profile fields (their values are read by
 * the settings above, each falling back to its variable).
 */
export const PROFILES = lazily(() =>
  v.pipe(
    v.custom<Record<string, unknown>>(isTable, PROFILES_RULE),
    v.record(
      v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "is not a valid profile name (lowercase letters, digits, '-', '_'; at most 32)")),
      v.pipe(
        v.custom<Record<string, unknown>>(isTable, "must be a table of fields"),
        v.strictObject(Object.fromEntries(PROFILE_FIELDS.map((field) => [field, v.optional(v.unknown())])), `is not a profile field; fields: ${PROFILE_FIELDS.join(", ")}`),
      ),
    ),
  ),
);
