/**
 * The signer's configuration, read from Worker vars and secrets and validated once per `env` object.
 * Errors name the variable (or the profile and field) and the rule, never the value: a secret must not reach a
 * response or a log.
 */
import type { Credentials } from "./cos/index.js";
import { ConfigError } from "./errors.js";
import type { StsSettings } from "./sdk/credentials.js";
import { DEFAULT_STS_ENDPOINT } from "./sts/federation-token.js";
import { MEDIA_FAMILY, MEDIA_TYPE } from "./media-types.js";

export const DEFAULT_ALLOWED_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"] as const;
export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_SIGNATURE_TTL_SECONDS = 600;
export const MAX_SIGNATURE_TTL_SECONDS = 3600;
export const MIN_SIGNATURE_TTL_SECONDS = 10;
export const DEFAULT_KEY_PREFIX = "uploads";
export const DEFAULT_PROFILE = "default";
/** Above this a file goes multipart: one request of it would sit in a phone's memory (wx.request) and restart from 0. */
export const DEFAULT_MULTIPART_THRESHOLD = 20 * 1024 * 1024;
/** COS's limits: parts of at most 5 GB, at most 10,000 of them. */
export const MAX_MULTIPART_BYTES = 10_000 * 5 * 1024 ** 3;
/** SecretIds starting with this are the committed dev placeholders (dev/local.env): never real keys. */
export const DUMMY_SECRET_ID_PREFIX = "AKIDDUMMY";

export type UploadMethod = "put" | "post";

/** One kind of upload: where it goes, what it may be, and with which key pair it is signed. */
export interface UploadProfile {
  readonly name: string;
  readonly credentials: Credentials;
  /** BucketName-APPID. */
  readonly bucket: string;
  readonly region: string;
  /** Regional domain with the bucket as first path segment (true) or the bucket's own domain (false). */
  readonly pathStyle: boolean;
  /** Origin that replaces the COS domain: custom domain, acceleration domain, or a local emulator. */
  readonly endpoint: string | undefined;
  readonly allowedExtensions: ReadonlySet<string>;
  /** Media type rules, `type/subtype` or `type/*`; empty: any type of the suffix's family. */
  readonly contentTypes: readonly string[];
  readonly maxBytes: number;
  readonly signatureTtlSeconds: number;
  /** Key prefix without leading or trailing `/`; may be empty. */
  readonly keyPrefix: string;
  readonly methods: ReadonlySet<UploadMethod>;
  /** PUT signs `x-cos-forbid-overwrite: true`. */
  readonly forbidOverwrite: boolean;
  /** Multipart uploads (POST /v1/multipart) allowed. */
  readonly multipart: boolean;
  /** With multipart on, a single PUT/POST takes files up to this size; larger ones must go multipart. */
  readonly multipartThreshold: number;
  /** The largest file a multipart upload takes. */
  readonly multipartMaxBytes: number;
  /** Who may get a presigned GET URL of an object (POST /v1/objects/url): its uploader ("owner") or nobody. */
  readonly read: "owner" | "none";
}

export interface SignerConfig {
  readonly profiles: ReadonlyMap<string, UploadProfile>;
  /** True when any profile runs on the committed dummy dev credentials. */
  readonly dummyCredentials: boolean;
  readonly auth: AuthConfig;
  /** Origins allowed by CORS (web clients); empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
  /**
   * `GET /put-sign` and `GET /post-policy` answer: their signatures bind only bucket and key (Tencent's sample sends
   * nothing else that could be bound). Default: on with AUTH_MODE=none, off with wechat.
   */
  readonly seedRoutes: boolean;
  /** Upload receipts (POST /v1/uploads/receipt): off without RECEIPT_SECRET. */
  readonly receipts: { readonly secret: string; readonly webhookUrl: string | undefined } | undefined;
  /** Where temporary keys come from (POST /v1/cos/credentials): Tencent STS, or a local emulator's. */
  readonly sts: StsSettings;
}

/**
 * What the signer reads from `env`: the Worker's generated `Env` (wrangler types: the vars of wrangler.toml), every
 * field optional here so that a missing one is reported rather than assumed, plus the secrets, which wrangler.toml
 * cannot list (`[secrets] required` would make `wrangler dev` drop every other key of .dev.vars, the optional
 * secrets and named key pairs included).
 */
export type SignerEnv = Partial<Omit<Env, "UPLOAD_PROFILES">> & {
  COS_SECRET_ID?: string;
  COS_SECRET_KEY?: string;
  COS_SECURITY_TOKEN?: string;
  WX_APPSECRET?: string;
  SESSION_SECRET?: string;
  USER_SEGMENT_SECRET?: string;
  /** Signs upload receipts (HS256); receipts are off without it. */
  RECEIPT_SECRET?: string;
  /** Origin of WeChat's API (code2Session); default https://api.weixin.qq.com. */
  WX_API_ORIGIN?: string;
  /** A TOML table of profiles (wrangler passes it as an object) or the same as a JSON string. */
  UPLOAD_PROFILES?: unknown;
};

/** Who may ask for signatures: anyone (`none`, local development only) or holders of a WeChat login session. */
export type AuthConfig =
  | { readonly mode: "none" }
  | {
      readonly mode: "wechat";
      readonly appId: string;
      readonly appSecret: string;
      /** Where code2Session is called: WeChat's API, or a proxy in front of it (a local stub in tests). */
      readonly wechatApiOrigin: string;
      /** Session tokens are signed with a key derived from it (HS256). */
      readonly sessionSecret: string;
      /** Derives users' key segments: USER_SEGMENT_SECRET, else SESSION_SECRET. Rotating it moves users' folders. */
      readonly userSegmentSecret: string;
      readonly sessionTtlSeconds: number;
    };

export const DEFAULT_SESSION_TTL_SECONDS = 3600;
/** Temporary keys last 15 minutes unless STS_DURATION_SECONDS says otherwise (STS allows up to 7200). */
export const DEFAULT_STS_DURATION_SECONDS = 900;
export const DEFAULT_WECHAT_API_ORIGIN = "https://api.weixin.qq.com";
const MIN_SESSION_SECRET_LENGTH = 32;

// BucketName-APPID: lowercase letters, digits and `-`, then `-` and the numeric APPID; at most 50 characters.
const BUCKET = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d{1,20}$/;
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;
const EXTENSION = /^[a-z0-9]{1,10}$/;
const KEY_PREFIX_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const CREDENTIAL_NAME = /^[A-Za-z0-9_]{1,32}$/;
const PROFILE_FIELDS = new Set([
  "bucket",
  "region",
  "pathStyle",
  "endpoint",
  "keyPrefix",
  "extensions",
  "contentTypes",
  "maxBytes",
  "signatureTtlSeconds",
  "methods",
  "forbidOverwrite",
  "credentials",
  "multipart",
  "multipartThreshold",
  "multipartMaxBytes",
  "read",
]);

const cache = new WeakMap<object, SignerConfig | ConfigError>();

/** The validated configuration for this `env`, parsed on first use; throws `ConfigError` every time it is invalid. */
export function signerConfig(env: SignerEnv): SignerConfig {
  let entry = cache.get(env);
  if (!entry) {
    try {
      entry = parseConfig(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      entry = error;
    }
    cache.set(env, entry);
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}

export function parseConfig(env: SignerEnv): SignerConfig {
  const profiles = parseProfiles(env);
  const auth = parseAuth(env);
  return {
    profiles,
    dummyCredentials: [...profiles.values()].some((profile) => profile.credentials.secretId.startsWith(DUMMY_SECRET_ID_PREFIX)),
    auth,
    corsOrigins: parseCorsOrigins(env),
    seedRoutes: parseBoolean({ value: env.SEED_ROUTES, label: "SEED_ROUTES" }, auth.mode === "none"),
    receipts: parseReceipts(env),
    sts: {
      endpoint: parseEndpoint({ value: env.STS_ENDPOINT, label: "STS_ENDPOINT" }) ?? DEFAULT_STS_ENDPOINT,
      durationSeconds: parseInteger({ value: env.STS_DURATION_SECONDS, label: "STS_DURATION_SECONDS" }, DEFAULT_STS_DURATION_SECONDS, 300, 7200),
    },
  };
}

/** A setting as found: its value and the name to report when it is wrong. */
interface Setting {
  readonly value: unknown;
  readonly label: string;
}

/**
 * Profiles from UPLOAD_PROFILES, each field falling back to the single-bucket variable of the same meaning (bucket
 * excepted). Without a profile named `default`, the single-bucket variables make it, when COS_BUCKET is set.
 */
export function parseProfiles(env: SignerEnv): ReadonlyMap<string, UploadProfile> {
  const declared = declaredProfiles(env.UPLOAD_PROFILES);
  const profiles = new Map<string, UploadProfile>();
  if (!declared.has(DEFAULT_PROFILE) && (declared.size === 0 || text({ value: env.COS_BUCKET, label: "COS_BUCKET" }) !== undefined)) {
    profiles.set(DEFAULT_PROFILE, parseProfile(env, DEFAULT_PROFILE, undefined));
  }
  for (const [name, fields] of declared) profiles.set(name, parseProfile(env, name, fields));
  return profiles;
}

function declaredProfiles(raw: unknown): Map<string, Record<string, unknown>> {
  let value = raw;
  if (typeof value === "string") {
    if (value.trim() === "") return new Map();
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigError("UPLOAD_PROFILES", "must be a table of profiles ([vars.UPLOAD_PROFILES.<name>] in wrangler.toml) or the same as JSON");
    }
  }
  if (value === undefined || value === null) return new Map();
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError("UPLOAD_PROFILES", "must be a table of profiles ([vars.UPLOAD_PROFILES.<name>] in wrangler.toml) or the same as JSON");
  }
  const profiles = new Map<string, Record<string, unknown>>();
  for (const [name, fields] of Object.entries(value)) {
    if (!PROFILE_NAME.test(name)) throw new ConfigError(`UPLOAD_PROFILES.${name.slice(0, 40)}`, "is not a valid profile name (lowercase letters, digits, '-', '_'; at most 32)");
    if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw new ConfigError(`UPLOAD_PROFILES.${name}`, "must be a table of fields");
    const unknown = Object.keys(fields).find((field) => !PROFILE_FIELDS.has(field));
    if (unknown !== undefined) throw new ConfigError(`UPLOAD_PROFILES.${name}.${unknown.slice(0, 40)}`, `is not a profile field; fields: ${[...PROFILE_FIELDS].join(", ")}`);
    profiles.set(name, fields as Record<string, unknown>);
  }
  return profiles;
}

function parseProfile(env: SignerEnv, name: string, fields: Record<string, unknown> | undefined): UploadProfile {
  const setting = (field: string, variable: keyof SignerEnv): Setting =>
    fields && field in fields ? { value: fields[field], label: `UPLOAD_PROFILES.${name}.${field}` } : { value: env[variable], label: variable };
  const own = (field: string): Setting => ({ value: fields?.[field], label: `UPLOAD_PROFILES.${name}.${field}` });

  const bucketSetting = fields ? own("bucket") : setting("bucket", "COS_BUCKET");
  const bucket = required(bucketSetting);
  if (bucket.length > 50 || !BUCKET.test(bucket)) {
    throw new ConfigError(bucketSetting.label, "must be BucketName-APPID (lowercase letters, digits and '-', e.g. examplebucket-1250000000)");
  }
  const regionSetting = setting("region", "COS_REGION");
  const region = required(regionSetting);
  if (!REGION.test(region)) throw new ConfigError(regionSetting.label, "must be a COS region such as ap-guangzhou");
  const maxBytes = parseInteger(setting("maxBytes", "UPLOAD_MAX_BYTES"), DEFAULT_MAX_BYTES, 1, 5 * 1024 ** 3);
  return {
    name,
    credentials: parseCredentials(env, own("credentials")),
    bucket,
    region,
    pathStyle: parseBoolean(setting("pathStyle", "COS_PATH_STYLE"), true),
    endpoint: parseEndpoint(setting("endpoint", "COS_ENDPOINT")),
    allowedExtensions: parseExtensions(setting("extensions", "UPLOAD_ALLOWED_EXTENSIONS")),
    contentTypes: parseContentTypes(own("contentTypes")),
    maxBytes,
    signatureTtlSeconds: parseInteger(
      setting("signatureTtlSeconds", "UPLOAD_SIGNATURE_TTL_SECONDS"),
      DEFAULT_SIGNATURE_TTL_SECONDS,
      MIN_SIGNATURE_TTL_SECONDS,
      MAX_SIGNATURE_TTL_SECONDS,
    ),
    keyPrefix: parseKeyPrefix(setting("keyPrefix", "UPLOAD_KEY_PREFIX")),
    methods: parseMethods(own("methods")),
    forbidOverwrite: parseBoolean(own("forbidOverwrite"), true),
    multipart: parseBoolean(setting("multipart", "UPLOAD_MULTIPART"), true),
    multipartThreshold: parseInteger(setting("multipartThreshold", "UPLOAD_MULTIPART_THRESHOLD"), DEFAULT_MULTIPART_THRESHOLD, 1024 * 1024, 5 * 1024 ** 3),
    multipartMaxBytes: parseInteger(setting("multipartMaxBytes", "UPLOAD_MULTIPART_MAX_BYTES"), maxBytes, 1, MAX_MULTIPART_BYTES),
    read: parseRead(setting("read", "UPLOAD_READ")),
  };
}

/** The default pair (COS_SECRET_ID / COS_SECRET_KEY), or a named one: COS_SECRET_ID_<NAME> / COS_SECRET_KEY_<NAME>. */
function parseCredentials(env: SignerEnv, setting: Setting): Credentials {
  const name = text(setting);
  if (name !== undefined && !CREDENTIAL_NAME.test(name)) throw new ConfigError(setting.label, "must be a credential name of letters, digits and '_'");
  const suffix = name === undefined || name.toLowerCase() === "default" ? "" : `_${name.toUpperCase()}`;
  const secrets = env as Record<string, unknown>;
  const secret = (variable: string) => {
    const value = secrets[variable];
    if (typeof value !== "string" || value.trim() === "") {
      throw new ConfigError(suffix ? setting.label : variable, suffix ? `names a key pair whose secret ${variable} is not set` : `is not set: use \`wrangler secret put ${variable}\` (or .dev.vars locally)`);
    }
    if (/\s/.test(value)) throw new ConfigError(variable, "contains whitespace: paste the key without spaces or line breaks");
    return value;
  };
  const secretId = secret(`COS_SECRET_ID${suffix}`);
  const secretKey = secret(`COS_SECRET_KEY${suffix}`);
  const securityToken = text({ value: secrets[`COS_SECURITY_TOKEN${suffix}`], label: `COS_SECURITY_TOKEN${suffix}` });
  return securityToken ? { secretId, secretKey, securityToken } : { secretId, secretKey };
}

function parseAuth(env: SignerEnv): AuthConfig {
  const mode = text({ value: env.AUTH_MODE, label: "AUTH_MODE" }) ?? "wechat";
  if (mode === "none") return { mode };
  if (mode !== "wechat") throw new ConfigError("AUTH_MODE", 'must be "wechat" (production) or "none" (local development only)');
  const appId = required({ value: env.WX_APPID, label: "WX_APPID" });
  if (!/^wx[0-9a-f]{16}$/.test(appId)) throw new ConfigError("WX_APPID", "must be the Mini Program's AppID (wx followed by 16 hex digits)");
  const appSecret = requiredSecret(env, "WX_APPSECRET");
  const sessionSecret = longSecret(env, "SESSION_SECRET");
  const userSegmentSecret = env.USER_SEGMENT_SECRET === undefined || env.USER_SEGMENT_SECRET.trim() === "" ? sessionSecret : longSecret(env, "USER_SEGMENT_SECRET");
  return {
    mode,
    appId,
    appSecret,
    wechatApiOrigin: parseEndpoint({ value: env.WX_API_ORIGIN, label: "WX_API_ORIGIN" }) ?? DEFAULT_WECHAT_API_ORIGIN,
    sessionSecret,
    userSegmentSecret,
    sessionTtlSeconds: parseInteger({ value: env.SESSION_TTL_SECONDS, label: "SESSION_TTL_SECONDS" }, DEFAULT_SESSION_TTL_SECONDS, 60, 86_400),
  };
}

function parseCorsOrigins(env: SignerEnv): readonly string[] {
  const value = text({ value: env.CORS_ORIGINS, label: "CORS_ORIGINS" });
  if (value === undefined) return [];
  return value.split(",").map((origin) => {
    const trimmed = origin.trim();
    let url: URL | undefined;
    try {
      url = new URL(trimmed);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== trimmed.replace(/\/$/, "")) throw new ConfigError("CORS_ORIGINS", "must be a comma-separated list of origins such as https://app.example.com");
    return url.origin;
  });
}

function text({ value, label }: Setting): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object") throw new ConfigError(label, "must be a single value, not a list or table");
  const trimmed = String(value).trim();
  return trimmed === "" ? undefined : trimmed;
}

function required(setting: Setting): string {
  const value = text(setting);
  if (value === undefined) throw new ConfigError(setting.label, "is not set");
  return value;
}

/** A secret that keys an HMAC: at least MIN_SESSION_SECRET_LENGTH characters. */
function longSecret(env: SignerEnv, name: "SESSION_SECRET" | "USER_SEGMENT_SECRET" | "RECEIPT_SECRET"): string {
  const value = requiredSecret(env, name);
  if (value.length < MIN_SESSION_SECRET_LENGTH) {
    throw new ConfigError(name, `must be at least ${MIN_SESSION_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)`);
  }
  return value;
}

function parseRead(setting: Setting): "owner" | "none" {
  const value = text(setting) ?? "none";
  if (value !== "owner" && value !== "none") throw new ConfigError(setting.label, 'must be "owner" (uploaders may read their own objects) or "none"');
  return value;
}

function parseReceipts(env: SignerEnv): SignerConfig["receipts"] {
  if (env.RECEIPT_SECRET === undefined || env.RECEIPT_SECRET.trim() === "") return undefined;
  return { secret: longSecret(env, "RECEIPT_SECRET"), webhookUrl: parseWebhookUrl({ value: env.RECEIPT_WEBHOOK_URL, label: "RECEIPT_WEBHOOK_URL" }) };
}

/** The setting as a URL, or undefined when it is unset; `example` shows the expected form in the error. */
function urlSetting(setting: Setting, example: string): URL | undefined {
  const value = text(setting);
  if (value === undefined) return undefined;
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(setting.label, `must be ${example}`);
  }
}

function parseWebhookUrl(setting: Setting): string | undefined {
  const url = urlSetting(setting, "a URL such as https://api.example.com/cos-receipts");
  if (url === undefined) return undefined;
  const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) throw new ConfigError(setting.label, "must use https:// (http:// only for 127.0.0.1)");
  if (url.username || url.password) throw new ConfigError(setting.label, "must not carry credentials");
  return url.href;
}

function requiredSecret(env: SignerEnv, name: "WX_APPSECRET" | "SESSION_SECRET" | "USER_SEGMENT_SECRET" | "RECEIPT_SECRET"): string {
  const value = env[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(name, "is not set: use `wrangler secret put " + name + "` (or .dev.vars locally)");
  }
  if (/\s/.test(value)) throw new ConfigError(name, "contains whitespace: paste it without spaces or line breaks");
  return value;
}

function parseBoolean(setting: Setting, fallback: boolean): boolean {
  const value = text(setting);
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(setting.label, 'must be "true" or "false"');
}

function parseInteger(setting: Setting, fallback: number, min: number, max: number): number {
  const value = text(setting);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(setting.label, "must be a whole number");
  const number = Number(value);
  if (number < min || number > max) throw new ConfigError(setting.label, `must be between ${min} and ${max}`);
  return number;
}

function parseEndpoint(setting: Setting): string | undefined {
  const url = urlSetting(setting, "an origin such as https://static.example.com");
  if (url === undefined) return undefined;
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError(setting.label, "must use https:// (or http:// for a local emulator)");
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    throw new ConfigError(setting.label, "must be an origin only: scheme, host and optional port, no path, query or credentials");
  }
  return url.origin;
}

/** A list as a TOML array or a comma-separated string. */
function list(setting: Setting): string[] | undefined {
  if (setting.value === undefined || setting.value === null) return undefined;
  const items = Array.isArray(setting.value) ? setting.value.map(String) : typeof setting.value === "string" ? setting.value.split(",") : undefined;
  if (items === undefined) throw new ConfigError(setting.label, "must be a list");
  const trimmed = items.map((item) => item.trim()).filter((item) => item !== "");
  return trimmed.length === 0 && typeof setting.value === "string" ? undefined : trimmed;
}

function parseExtensions(setting: Setting): ReadonlySet<string> {
  const extensions = list(setting)?.map((ext) => ext.toLowerCase());
  if (extensions === undefined) return new Set(DEFAULT_ALLOWED_EXTENSIONS);
  if (extensions.length === 0 || !extensions.every((ext) => EXTENSION.test(ext))) {
    throw new ConfigError(setting.label, "must list 1–10 letters or digits per suffix, e.g. jpg,png,mp4");
  }
  return new Set(extensions);
}

function parseContentTypes(setting: Setting): readonly string[] {
  const rules = list(setting)?.map((rule) => rule.toLowerCase()) ?? [];
  if (!rules.every((rule) => MEDIA_TYPE.test(rule) || MEDIA_FAMILY.test(rule))) throw new ConfigError(setting.label, "must list media types such as image/jpeg or image/*");
  return rules;
}

function parseMethods(setting: Setting): ReadonlySet<UploadMethod> {
  const methods = list(setting)?.map((method) => method.toLowerCase());
  if (methods === undefined) return new Set(["put", "post"]);
  if (methods.length === 0 || !methods.every((method) => method === "put" || method === "post")) throw new ConfigError(setting.label, 'must list "put", "post" or both');
  return new Set(methods as UploadMethod[]);
}

function parseKeyPrefix(setting: Setting): string {
  if (setting.value === undefined) return DEFAULT_KEY_PREFIX;
  const prefix = (text(setting) ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix !== "" && !prefix.split("/").every((segment) => KEY_PREFIX_SEGMENT.test(segment))) {
    throw new ConfigError(setting.label, "must be path segments of letters, digits, '.', '_' and '-', separated by '/' (no '..' or empty segments)");
  }
  return prefix;
}
