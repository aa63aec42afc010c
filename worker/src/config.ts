/**
 * The signer's configuration, read from Worker vars and secrets and validated once per `env` object.
 * Errors name the variable (or the profile and field) and the rule, never the value: a secret must not reach a
 * response or a log.
 */
import type { Credentials } from "./cos/index.js";
import { ConfigError } from "./http/errors.js";
import { SETTINGS, type Setting } from "./schemas/config.js";
import type { StsSettings } from "./sdk/credentials.js";
import { type ModerationSettings, parseModeration } from "./moderation/settings.js";

export const DEFAULT_PROFILE = "default";
/** SecretIds starting with this are the committed dev placeholders (dev/local.env): never real keys. */
export const DUMMY_SECRET_ID_PREFIX = "AKIDDUMMY";
export const DEFAULT_WECHAT_API_ORIGIN = SETTINGS.wxApiOrigin.default;

export type UploadMethod = "put" | "post";

/** One kind of upload: where it goes, what it may be, and with which key pair it is signed. */
export interface UploadProfile {
  readonly name: string;
  /** The write key pair: signs uploads and the Worker's multipart calls. */
  readonly credentials: Credentials;
  /** The read key pair: signs read URLs, HEADs and an SDK's HEAD/GET. Default: the write pair. */
  readonly readCredentials: Credentials;
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
  /** Bytes a user may hold (stored and reserved); undefined: no limit. */
  readonly quotaBytes: number | undefined;
  /** Bytes a user may upload per UTC day; undefined: no limit. */
  readonly dailyBytes: number | undefined;
  /** Content moderation: off, WeChat's mediaCheckAsync (images, audio; COS for the rest), or COS for everything. */
  readonly moderation: "off" | "wechat" | "cos";
  /** mediaCheckAsync's scene, 1–4. */
  readonly moderationScene: number;
  /** The uploader may read a pending object. */
  readonly moderationOwnerRead: boolean;
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
  /** `POST /v1/cos/keys`, `/authorization` and `/credentials` (Tencent's SDKs) answer: SDK_ROUTES, default off. */
  readonly sdkRoutes: boolean;
  /** Upload receipts (POST /v1/uploads/receipt): off without RECEIPT_SECRET. */
  readonly receipts: { readonly secret: string; readonly webhookUrl: string | undefined } | undefined;
  /** Where temporary keys come from (POST /v1/cos/credentials): Tencent STS, or a local emulator's. */
  readonly sts: StsSettings;
  readonly moderation: ModerationSettings;
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
  COS_READ_SECRET_ID?: string;
  COS_READ_SECRET_KEY?: string;
  WX_APPSECRET?: string;
  SESSION_SECRET?: string;
  USER_SEGMENT_SECRET?: string;
  /** Signs upload receipts (HS256); receipts are off without it. */
  RECEIPT_SECRET?: string;
  /** The message push's Token and EncodingAESKey (docs/moderation.md). */
  WX_PUSH_TOKEN?: string;
  WX_PUSH_AES_KEY?: string;
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

const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The fields a profile may set. */
const PROFILE_FIELDS = Object.values(SETTINGS as Record<string, Setting>).flatMap((setting) => (setting.field ? [setting.field] : []));

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

/** A value as found and the name to report when it is wrong: the variable, or UPLOAD_PROFILES.<name>.<field>. */
interface Found {
  readonly value: unknown;
  readonly label: string;
}

/** A global setting's value from `env`. */
const fromEnv = (env: SignerEnv, setting: Setting): Found => ({ value: (env as Record<string, unknown>)[setting.variable!], label: setting.variable! });

/** A global setting, read from its variable. */
const variable = <T>(env: SignerEnv, setting: Setting): T => read<T>(setting, fromEnv(env, setting));

/**
 * The value of `found` as its setting types it — unset (undefined, empty) gives the setting's default — or a
 * ConfigError naming the label and the rule, never the value.
 */
function read<T = unknown>(setting: Setting, { value, label }: Found): T {
  const wrong = (rule = setting.description ?? "") => new ConfigError(label, rule);
  if (setting.type === "array") {
    if (value === undefined || value === null) return setting.default as T;
    if (!Array.isArray(value) && typeof value !== "string") throw wrong("must be a list");
    const items = (Array.isArray(value) ? value.map(String) : value.split(",")).map((item) => item.trim()).filter((item) => item !== "");
    if (items.length === 0 && typeof value === "string") return setting.default as T;
    if (setting.format === "origin") return items.map((item) => origin(item) ?? throwing(wrong())) as T;
    const lower = items.map((item) => item.toLowerCase());
    if (lower.length < (setting.minItems ?? 0) || !lower.every((item) => fits(setting.items!, item))) throw wrong();
    return lower as T;
  }
  if (value !== null && typeof value === "object") throw wrong("must be a single value, not a list or table");
  const text = value === undefined || value === null ? "" : String(value).trim();
  if (text === "") return setting.default as T;
  if (setting.type === "boolean") {
    if (text !== "true" && text !== "false") throw wrong('must be "true" or "false"');
    return (text === "true") as T;
  }
  if (setting.type === "integer") {
    if (!/^\d+$/.test(text)) throw wrong("must be a whole number");
    const number = Number(text);
    if (number < setting.minimum! || number > setting.maximum!) throw wrong(`must be between ${setting.minimum} and ${setting.maximum}`);
    return number as T;
  }
  if (setting.format === "origin") {
    const url = parseUrl(text) ?? throwing(wrong("must be an origin such as https://static.example.com"));
    if (url.protocol !== "https:" && url.protocol !== "http:") throw wrong("must use https:// (or http:// for a local emulator)");
    return (origin(text) ?? throwing(wrong("must be an origin only: scheme, host and optional port, no path, query or credentials"))) as T;
  }
  if (setting.format === "url") {
    const url = parseUrl(text) ?? throwing(wrong("must be a URL such as https://api.example.com/cos-receipts"));
    const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
    if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) throw wrong("must use https:// (http:// only for 127.0.0.1)");
    if (url.username || url.password) throw wrong("must not carry credentials");
    return url.href as T;
  }
  if (!fits(setting, text)) throw wrong();
  return text as T;
}

const throwing = (error: Error): never => {
  throw error;
};

/** A string against the schema's pattern, enum and length. */
function fits(schema: Setting, text: string): boolean {
  return (
    (schema.pattern === undefined || new RegExp(schema.pattern).test(text)) &&
    (schema.enum === undefined || schema.enum.includes(text)) &&
    text.length <= (schema.maxLength ?? Infinity)
  );
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The origin `text` names (scheme, host, port; a trailing `/` allowed), or undefined for anything more or less. */
function origin(text: string): string | undefined {
  const url = parseUrl(text);
  if (!url || url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) return undefined;
  return url.origin === "null" ? undefined : url.origin;
}

/** A value that must be set. */
function required<T>(setting: Setting, found: Found): T {
  const value = read<T | undefined>(setting, found);
  if (value === undefined) throw new ConfigError(found.label, "is not set");
  return value;
}

/** A secret: unset (undefined) or one whitespace-free string of the setting's minimum length. */
function secret(setting: Setting, found: Found): string | undefined {
  const value = found.value;
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return undefined;
  if (typeof value !== "string" || !fits(setting, value)) throw new ConfigError(found.label, "contains whitespace: paste it without spaces or line breaks");
  if (value.length < (setting.minLength ?? 0)) throw new ConfigError(found.label, setting.description!);
  return value;
}

function requiredSecret(env: SignerEnv, setting: Setting): string {
  return secret(setting, fromEnv(env, setting)) ?? throwing(new ConfigError(setting.variable!, `is not set: use \`wrangler secret put ${setting.variable}\` (or .dev.vars locally)`));
}

export function parseConfig(env: SignerEnv): SignerConfig {
  const profiles = parseProfiles(env);
  const auth = parseAuth(env);
  const receiptSecret = secret(SETTINGS.receiptSecret, fromEnv(env, SETTINGS.receiptSecret));
  return {
    profiles,
    dummyCredentials: [...profiles.values()].some((profile) => [profile.credentials, profile.readCredentials].some(({ secretId }) => secretId.startsWith(DUMMY_SECRET_ID_PREFIX))),
    auth,
    corsOrigins: variable(env, SETTINGS.corsOrigins),
    seedRoutes: variable<boolean | undefined>(env, SETTINGS.seedRoutes) ?? auth.mode === "none",
    sdkRoutes: variable(env, SETTINGS.sdkRoutes),
    receipts: receiptSecret === undefined ? undefined : { secret: receiptSecret, webhookUrl: variable(env, SETTINGS.receiptWebhookUrl) },
    sts: { endpoint: variable(env, SETTINGS.stsEndpoint), durationSeconds: variable(env, SETTINGS.stsDurationSeconds) },
    moderation: parseModeration(profiles.values(), auth, {
      pushToken: secret(SETTINGS.wxPushToken, fromEnv(env, SETTINGS.wxPushToken)),
      pushAesKey: secret(SETTINGS.wxPushAesKey, fromEnv(env, SETTINGS.wxPushAesKey)),
      callbackUrl: variable(env, SETTINGS.moderationCallbackUrl),
    }),
  };
}

/**
 * Profiles from UPLOAD_PROFILES, each field falling back to the single-bucket variable of the same meaning (bucket
 * excepted). Without a profile named `default`, the single-bucket variables make it, when COS_BUCKET is set.
 */
export function parseProfiles(env: SignerEnv): ReadonlyMap<string, UploadProfile> {
  const declared = declaredProfiles(env.UPLOAD_PROFILES);
  const profiles = new Map<string, UploadProfile>();
  if (!declared.has(DEFAULT_PROFILE) && (declared.size === 0 || variable(env, SETTINGS.bucket) !== undefined)) {
    profiles.set(DEFAULT_PROFILE, parseProfile(env, DEFAULT_PROFILE, undefined));
  }
  for (const [name, fields] of declared) profiles.set(name, parseProfile(env, name, fields));
  return profiles;
}

function declaredProfiles(raw: unknown): Map<string, Record<string, unknown>> {
  const shape = () => new ConfigError("UPLOAD_PROFILES", "must be a table of profiles ([vars.UPLOAD_PROFILES.<name>] in wrangler.toml) or the same as JSON");
  let value = raw;
  if (typeof value === "string") {
    if (value.trim() === "") return new Map();
    try {
      value = JSON.parse(value);
    } catch {
      throw shape();
    }
  }
  if (value === undefined || value === null) return new Map();
  if (typeof value !== "object" || Array.isArray(value)) throw shape();
  const profiles = new Map<string, Record<string, unknown>>();
  for (const [name, fields] of Object.entries(value)) {
    if (!PROFILE_NAME.test(name)) throw new ConfigError(`UPLOAD_PROFILES.${name.slice(0, 40)}`, "is not a valid profile name (lowercase letters, digits, '-', '_'; at most 32)");
    if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw new ConfigError(`UPLOAD_PROFILES.${name}`, "must be a table of fields");
    const unknown = Object.keys(fields).find((field) => !PROFILE_FIELDS.includes(field));
    if (unknown !== undefined) throw new ConfigError(`UPLOAD_PROFILES.${name}.${unknown.slice(0, 40)}`, `is not a profile field; fields: ${PROFILE_FIELDS.join(", ")}`);
    profiles.set(name, fields as Record<string, unknown>);
  }
  return profiles;
}

function parseProfile(env: SignerEnv, name: string, fields: Record<string, unknown> | undefined): UploadProfile {
  /** The profile's own field, else (for a setting with a variable) the variable. */
  const found = (setting: Setting): Found =>
    (fields && setting.field! in fields) || !setting.variable
      ? { value: fields?.[setting.field!], label: `UPLOAD_PROFILES.${name}.${setting.field}` }
      : fromEnv(env, setting);
  const field = <T>(setting: Setting): T => read<T>(setting, found(setting));
  // A declared profile names its own bucket; only the default one takes COS_BUCKET.
  const bucket = required<string>(SETTINGS.bucket, fields ? { value: fields.bucket, label: `UPLOAD_PROFILES.${name}.bucket` } : fromEnv(env, SETTINGS.bucket));
  const maxBytes = field<number>(SETTINGS.maxBytes);
  return {
    name,
    ...parseKeyPairs(env, { value: fields?.credentials, label: `UPLOAD_PROFILES.${name}.credentials` }),
    bucket,
    region: required(SETTINGS.region, found(SETTINGS.region)),
    pathStyle: field(SETTINGS.pathStyle),
    endpoint: field(SETTINGS.endpoint),
    allowedExtensions: new Set(field<string[]>(SETTINGS.extensions)),
    contentTypes: field(SETTINGS.contentTypes),
    maxBytes,
    signatureTtlSeconds: field(SETTINGS.signatureTtlSeconds),
    keyPrefix: parseKeyPrefix(found(SETTINGS.keyPrefix)),
    methods: new Set(field<UploadMethod[]>(SETTINGS.methods)),
    forbidOverwrite: field(SETTINGS.forbidOverwrite),
    multipart: field(SETTINGS.multipart),
    multipartThreshold: field(SETTINGS.multipartThreshold),
    multipartMaxBytes: field<number | undefined>(SETTINGS.multipartMaxBytes) ?? maxBytes,
    read: field(SETTINGS.read),
    quotaBytes: field(SETTINGS.quotaBytes),
    dailyBytes: field(SETTINGS.dailyBytes),
    moderation: field(SETTINGS.moderation),
    moderationScene: field(SETTINGS.moderationScene),
    moderationOwnerRead: field(SETTINGS.moderationOwnerRead),
  };
}

/** The key prefix without leading or trailing `/`; unset gives the default, set but empty ("" or "/") none. */
function parseKeyPrefix(found: Found): string {
  if (found.value === undefined) return SETTINGS.keyPrefix.default;
  if (typeof found.value === "object" && found.value !== null) throw new ConfigError(found.label, "must be a single value, not a list or table");
  const prefix = String(found.value ?? "").trim().replace(/^\/+|\/+$/g, "");
  if (!fits(SETTINGS.keyPrefix, prefix)) throw new ConfigError(found.label, SETTINGS.keyPrefix.description);
  return prefix;
}

/**
 * The write pair — the default one (COS_SECRET_ID / COS_SECRET_KEY) or a named one (COS_SECRET_ID_<NAME> /
 * COS_SECRET_KEY_<NAME>) — and its read pair: COS_READ_SECRET_ID[_<NAME>] / COS_READ_SECRET_KEY[_<NAME>], else the
 * write pair itself.
 */
function parseKeyPairs(env: SignerEnv, found: Found): { credentials: Credentials; readCredentials: Credentials } {
  const name = read<string | undefined>(SETTINGS.credentials, found);
  const suffix = name === undefined || name.toLowerCase() === "default" ? "" : `_${name.toUpperCase()}`;
  const credentials = parseCredentials(env, found, suffix);
  const readId = `${SETTINGS.readSecretId.variable}${suffix}`;
  const readKey = `${SETTINGS.readSecretKey.variable}${suffix}`;
  const secretId = secret(SETTINGS.readSecretId, { value: (env as Record<string, unknown>)[readId], label: readId });
  const secretKey = secret(SETTINGS.readSecretKey, { value: (env as Record<string, unknown>)[readKey], label: readKey });
  if ((secretId === undefined) !== (secretKey === undefined)) throw new ConfigError(secretId === undefined ? readId : readKey, `is not set, but ${secretId === undefined ? readKey : readId} is: set both or neither`);
  return { credentials, readCredentials: secretId === undefined ? credentials : { secretId, secretKey: secretKey! } };
}

function parseCredentials(env: SignerEnv, found: Found, suffix: string): Credentials {
  const pair = (setting: Setting) => {
    const variable = `${setting.variable}${suffix}`;
    const value = secret(setting, { value: (env as Record<string, unknown>)[variable], label: variable });
    if (value === undefined) {
      throw new ConfigError(suffix ? found.label : variable, suffix ? `names a key pair whose secret ${variable} is not set` : `is not set: use \`wrangler secret put ${variable}\` (or .dev.vars locally)`);
    }
    return value;
  };
  const secretId = pair(SETTINGS.secretId);
  const secretKey = pair(SETTINGS.secretKey);
  const token = `${SETTINGS.securityToken.variable}${suffix}`;
  const securityToken = secret(SETTINGS.securityToken, { value: (env as Record<string, unknown>)[token], label: token });
  return securityToken ? { secretId, secretKey, securityToken } : { secretId, secretKey };
}

function parseAuth(env: SignerEnv): AuthConfig {
  const mode = variable<"wechat" | "none">(env, SETTINGS.authMode);
  if (mode === "none") return { mode };
  const sessionSecret = requiredSecret(env, SETTINGS.sessionSecret);
  return {
    mode,
    appId: required(SETTINGS.wxAppId, fromEnv(env, SETTINGS.wxAppId)),
    appSecret: requiredSecret(env, SETTINGS.wxAppSecret),
    wechatApiOrigin: variable(env, SETTINGS.wxApiOrigin),
    sessionSecret,
    userSegmentSecret: secret(SETTINGS.userSegmentSecret, fromEnv(env, SETTINGS.userSegmentSecret)) ?? sessionSecret,
    sessionTtlSeconds: variable(env, SETTINGS.sessionTtlSeconds),
  };
}
