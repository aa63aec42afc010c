/**
 * The signer's configuration, read from Worker vars and secrets and validated once per `env` object.
 * Errors name the variable (or the profile and field) and the rule, never the value: a secret must not reach a
 * response or a log.
 */
import * as v from "valibot";
import type { Credentials } from "../cos/index.js";
import { ConfigError } from "../http/errors.js";
import { PROFILES, PROFILES_RULE, SETTINGS, type Setting } from "./settings.js";
import type { StsSettings } from "../sdk/credentials.js";
import { type ModerationSettings, parseModeration } from "../moderation/settings.js";

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

/** What a setting reads as: its schema's output, never undefined where the setting has a default. */
type Value<S extends Setting> = S extends { readonly default: unknown } ? Exclude<v.InferOutput<S["schema"]>, undefined> : v.InferOutput<S["schema"]>;

/** A global setting's value from `env`. */
const fromEnv = (env: SignerEnv, setting: Setting): Found => ({ value: (env as Record<string, unknown>)[setting.variable!], label: setting.variable! });

/** A global setting, read from its variable. */
const variable = <S extends Setting>(env: SignerEnv, setting: S): Value<S> => read(setting, fromEnv(env, setting));

/**
 * The value of `found` through its setting's schema — unset gives the setting's default — or a ConfigError naming
 * the label and the rule, never the value (every rule has its own message; the fallback says nothing of the value).
 */
function read<S extends Setting>(setting: S, { value, label }: Found): Value<S> {
  // Unset is the default for every setting: its schema is neither built nor run (most settings are unset).
  if (value === undefined) return setting.default as Value<S>;
  const result = v.safeParse(setting.schema, value, { abortPipeEarly: true, message: "is not valid" });
  if (!result.success) throw new ConfigError(label, result.issues[0].message);
  return (result.output ?? setting.default) as Value<S>;
}

const throwing = (error: Error): never => {
  throw error;
};

/** A value that must be set. */
function required<S extends Setting>(setting: S, found: Found): Exclude<Value<S>, undefined> {
  return (read(setting, found) ?? throwing(new ConfigError(found.label, "is not set"))) as Exclude<Value<S>, undefined>;
}

/** A secret of `env`, under the setting's variable or another one (a named key pair's). */
const secret = (env: SignerEnv, setting: Setting<string>, name = setting.variable!): string | undefined => read(setting, { value: (env as Record<string, unknown>)[name], label: name });

function requiredSecret(env: SignerEnv, setting: Setting<string>): string {
  return secret(env, setting) ?? throwing(new ConfigError(setting.variable!, `is not set: use \`wrangler secret put ${setting.variable}\` (or .dev.vars locally)`));
}

export function parseConfig(env: SignerEnv): SignerConfig {
  const profiles = parseProfiles(env);
  const auth = parseAuth(env);
  const receiptSecret = secret(env, SETTINGS.receiptSecret);
  return {
    profiles,
    dummyCredentials: [...profiles.values()].some((profile) => [profile.credentials, profile.readCredentials].some(({ secretId }) => secretId.startsWith(DUMMY_SECRET_ID_PREFIX))),
    auth,
    corsOrigins: variable(env, SETTINGS.corsOrigins),
    seedRoutes: variable(env, SETTINGS.seedRoutes) ?? auth.mode === "none",
    sdkRoutes: variable(env, SETTINGS.sdkRoutes),
    receipts: receiptSecret === undefined ? undefined : { secret: receiptSecret, webhookUrl: variable(env, SETTINGS.receiptWebhookUrl) },
    sts: { endpoint: variable(env, SETTINGS.stsEndpoint), durationSeconds: variable(env, SETTINGS.stsDurationSeconds) },
    moderation: parseModeration(profiles.values(), auth, {
      pushToken: secret(env, SETTINGS.wxPushToken),
      pushAesKey: secret(env, SETTINGS.wxPushAesKey),
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
  let value = raw;
  if (typeof value === "string") {
    if (value.trim() === "") return new Map();
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigError("UPLOAD_PROFILES", PROFILES_RULE);
    }
  }
  if (value === undefined || value === null) return new Map();
  const result = v.safeParse(PROFILES(), value, { abortEarly: true, message: "is not valid" });
  if (!result.success) {
    // The path says where: a profile (its name or its table) or a field of one; names are cut, values never shown.
    const [profile, field] = (result.issues[0].path ?? []).map((item) => String(item.key).slice(0, 40));
    throw new ConfigError(["UPLOAD_PROFILES", profile, field].filter((part) => part !== undefined).join("."), result.issues[0].message);
  }
  return new Map(Object.entries(result.output));
}

function parseProfile(env: SignerEnv, name: string, fields: Record<string, unknown> | undefined): UploadProfile {
  /** The profile's own field, else (for a setting with a variable) the variable. */
  const found = (setting: Setting): Found =>
    (fields && setting.field! in fields) || !setting.variable
      ? { value: fields?.[setting.field!], label: `UPLOAD_PROFILES.${name}.${setting.field}` }
      : fromEnv(env, setting);
  const field = <S extends Setting>(setting: S): Value<S> => read(setting, found(setting));
  // A declared profile names its own bucket; only the default one takes COS_BUCKET.
  const bucket = required(SETTINGS.bucket, fields ? { value: fields.bucket, label: `UPLOAD_PROFILES.${name}.bucket` } : fromEnv(env, SETTINGS.bucket));
  const maxBytes = field(SETTINGS.maxBytes);
  return {
    name,
    ...parseKeyPairs(env, { value: fields?.credentials, label: `UPLOAD_PROFILES.${name}.credentials` }),
    bucket,
    region: required(SETTINGS.region, found(SETTINGS.region)),
    pathStyle: field(SETTINGS.pathStyle),
    endpoint: field(SETTINGS.endpoint),
    allowedExtensions: new Set(field(SETTINGS.extensions)),
    contentTypes: field(SETTINGS.contentTypes),
    maxBytes,
    signatureTtlSeconds: field(SETTINGS.signatureTtlSeconds),
    keyPrefix: field(SETTINGS.keyPrefix),
    methods: new Set(field(SETTINGS.methods)),
    forbidOverwrite: field(SETTINGS.forbidOverwrite),
    multipart: field(SETTINGS.multipart),
    multipartThreshold: field(SETTINGS.multipartThreshold),
    multipartMaxBytes: field(SETTINGS.multipartMaxBytes) ?? maxBytes,
    read: field(SETTINGS.read),
    quotaBytes: field(SETTINGS.quotaBytes),
    dailyBytes: field(SETTINGS.dailyBytes),
    moderation: field(SETTINGS.moderation),
    moderationScene: field(SETTINGS.moderationScene),
    moderationOwnerRead: field(SETTINGS.moderationOwnerRead),
  };
}

/**
 * The write pair — the default one (COS_SECRET_ID / COS_SECRET_KEY) or a named one (COS_SECRET_ID_<NAME> /
 * COS_SECRET_KEY_<NAME>) — and its read pair: COS_READ_SECRET_ID[_<NAME>] / COS_READ_SECRET_KEY[_<NAME>], else the
 * write pair itself.
 */
function parseKeyPairs(env: SignerEnv, found: Found): { credentials: Credentials; readCredentials: Credentials } {
  const name = read(SETTINGS.credentials, found);
  const suffix = name === undefined || name.toLowerCase() === "default" ? "" : `_${name.toUpperCase()}`;
  const credentials = parseCredentials(env, found, suffix);
  const readId = `${SETTINGS.readSecretId.variable}${suffix}`;
  const readKey = `${SETTINGS.readSecretKey.variable}${suffix}`;
  const secretId = secret(env, SETTINGS.readSecretId, readId);
  const secretKey = secret(env, SETTINGS.readSecretKey, readKey);
  if ((secretId === undefined) !== (secretKey === undefined)) throw new ConfigError(secretId === undefined ? readId : readKey, `is not set, but ${secretId === undefined ? readKey : readId} is: set both or neither`);
  return { credentials, readCredentials: secretId === undefined ? credentials : { secretId, secretKey: secretKey! } };
}

function parseCredentials(env: SignerEnv, found: Found, suffix: string): Credentials {
  const pair = (setting: Setting<string>) => {
    const variable = `${setting.variable}${suffix}`;
    const value = secret(env, setting, variable);
    if (value === undefined) {
      throw new ConfigError(suffix ? found.label : variable, suffix ? `names a key pair whose secret ${variable} is not set` : `is not set: use \`wrangler secret put ${variable}\` (or .dev.vars locally)`);
    }
    return value;
  };
  const secretId = pair(SETTINGS.secretId);
  const secretKey = pair(SETTINGS.secretKey);
  const token = `${SETTINGS.securityToken.variable}${suffix}`;
  const securityToken = secret(env, SETTINGS.securityToken, token);
  return securityToken ? { secretId, secretKey, securityToken } : { secretId, secretKey };
}

function parseAuth(env: SignerEnv): AuthConfig {
  const mode = variable(env, SETTINGS.authMode);
  if (mode === "none") return { mode };
  const sessionSecret = requiredSecret(env, SETTINGS.sessionSecret);
  return {
    mode,
    appId: required(SETTINGS.wxAppId, fromEnv(env, SETTINGS.wxAppId)),
    appSecret: requiredSecret(env, SETTINGS.wxAppSecret),
    wechatApiOrigin: variable(env, SETTINGS.wxApiOrigin),
    sessionSecret,
    userSegmentSecret: secret(env, SETTINGS.userSegmentSecret) ?? sessionSecret,
    sessionTtlSeconds: variable(env, SETTINGS.sessionTtlSeconds),
  };
}
