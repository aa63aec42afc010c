/**
 * The signer's configuration, read from Worker vars and secrets and validated once per `env` object.
 * Errors name the variable and the rule, never the value: a secret must not reach a response or a log.
 */
import type { Credentials } from "./cos/index.js";
import { ConfigError } from "./errors.js";

export const DEFAULT_ALLOWED_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"] as const;
export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_SIGNATURE_TTL_SECONDS = 600;
export const MAX_SIGNATURE_TTL_SECONDS = 3600;
export const MIN_SIGNATURE_TTL_SECONDS = 10;
export const DEFAULT_KEY_PREFIX = "uploads";
/** SecretIds starting with this are the committed dev placeholders (`.dev.vars.example`): never real keys. */
export const DUMMY_SECRET_ID_PREFIX = "AKIDDUMMY";

export interface SignerConfig {
  readonly credentials: Credentials;
  /** BucketName-APPID. */
  readonly bucket: string;
  readonly region: string;
  /** Regional domain with the bucket as first path segment (true) or the bucket's own domain (false). */
  readonly pathStyle: boolean;
  /** Origin that replaces the COS domain: custom domain, acceleration domain, or a local emulator. */
  readonly endpoint: string | undefined;
  readonly allowedExtensions: ReadonlySet<string>;
  readonly maxBytes: number;
  readonly signatureTtlSeconds: number;
  /** Key prefix without leading or trailing `/`; may be empty. */
  readonly keyPrefix: string;
  /** True when running with the committed dummy dev credentials. */
  readonly dummyCredentials: boolean;
  readonly auth: AuthConfig;
  /** Origins allowed by CORS (web clients); empty: no CORS headers. */
  readonly corsOrigins: readonly string[];
}

/**
 * What the signer reads from `env`: the Worker's generated `Env` (wrangler types), every field optional here so that
 * a missing one is reported rather than assumed, plus the optional STS token secret.
 */
export type SignerEnv = Partial<Env> & { COS_SECURITY_TOKEN?: string; WX_APPSECRET?: string; SESSION_SECRET?: string };

/** Who may ask for signatures: anyone (`none`, local development only) or holders of a WeChat login session. */
export type AuthConfig =
  | { readonly mode: "none" }
  | {
      readonly mode: "wechat";
      readonly appId: string;
      readonly appSecret: string;
      /** HS256 key of session tokens, and of the per-user key segment. */
      readonly sessionSecret: string;
      readonly sessionTtlSeconds: number;
    };

export const DEFAULT_SESSION_TTL_SECONDS = 3600;
const MIN_SESSION_SECRET_LENGTH = 32;

// BucketName-APPID: lowercase letters, digits and `-`, then `-` and the numeric APPID; at most 50 characters.
const BUCKET = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d{1,20}$/;
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;
const EXTENSION = /^[a-z0-9]{1,10}$/;
const KEY_PREFIX_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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
  const secretId = requiredSecret(env, "COS_SECRET_ID");
  const secretKey = requiredSecret(env, "COS_SECRET_KEY");
  const securityToken = optionalString(env, "COS_SECURITY_TOKEN");
  const bucket = required(env, "COS_BUCKET");
  if (bucket.length > 50 || !BUCKET.test(bucket)) {
    throw new ConfigError("COS_BUCKET", "must be BucketName-APPID (lowercase letters, digits and '-', e.g. examplebucket-1250000000)");
  }
  const region = required(env, "COS_REGION");
  if (!REGION.test(region)) throw new ConfigError("COS_REGION", "must be a COS region such as ap-guangzhou");
  return {
    credentials: securityToken ? { secretId, secretKey, securityToken } : { secretId, secretKey },
    bucket,
    region,
    pathStyle: parseBoolean(env, "COS_PATH_STYLE", true),
    endpoint: parseEndpoint(env),
    allowedExtensions: parseExtensions(env),
    maxBytes: parseInteger(env, "UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES, 1, 5 * 1024 ** 3),
    signatureTtlSeconds: parseInteger(
      env,
      "UPLOAD_SIGNATURE_TTL_SECONDS",
      DEFAULT_SIGNATURE_TTL_SECONDS,
      MIN_SIGNATURE_TTL_SECONDS,
      MAX_SIGNATURE_TTL_SECONDS,
    ),
    keyPrefix: parseKeyPrefix(env),
    dummyCredentials: secretId.startsWith(DUMMY_SECRET_ID_PREFIX),
    auth: parseAuth(env),
    corsOrigins: parseCorsOrigins(env),
  };
}

function parseAuth(env: SignerEnv): AuthConfig {
  const mode = optionalString(env, "AUTH_MODE") ?? "wechat";
  if (mode === "none") return { mode };
  if (mode !== "wechat") throw new ConfigError("AUTH_MODE", 'must be "wechat" (production) or "none" (local development only)');
  const appId = required(env, "WX_APPID");
  if (!/^wx[0-9a-f]{16}$/.test(appId)) throw new ConfigError("WX_APPID", "must be the Mini Program's AppID (wx followed by 16 hex digits)");
  const appSecret = requiredSecret(env, "WX_APPSECRET");
  const sessionSecret = requiredSecret(env, "SESSION_SECRET");
  if (sessionSecret.length < MIN_SESSION_SECRET_LENGTH) {
    throw new ConfigError("SESSION_SECRET", `must be at least ${MIN_SESSION_SECRET_LENGTH} characters (e.g. openssl rand -base64 48)`);
  }
  return {
    mode,
    appId,
    appSecret,
    sessionSecret,
    sessionTtlSeconds: parseInteger(env, "SESSION_TTL_SECONDS", DEFAULT_SESSION_TTL_SECONDS, 60, 86_400),
  };
}

function parseCorsOrigins(env: SignerEnv): readonly string[] {
  const value = optionalString(env, "CORS_ORIGINS");
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

function optionalString(env: SignerEnv, name: keyof SignerEnv): string | undefined {
  const value = env[name];
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return text === "" ? undefined : text;
}

function required(env: SignerEnv, name: keyof SignerEnv): string {
  const value = optionalString(env, name);
  if (value === undefined) throw new ConfigError(name, "is not set");
  return value;
}

function requiredSecret(env: SignerEnv, name: "COS_SECRET_ID" | "COS_SECRET_KEY" | "WX_APPSECRET" | "SESSION_SECRET"): string {
  const value = env[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(name, "is not set: use `wrangler secret put " + name + "` (or .dev.vars locally)");
  }
  if (/\s/.test(value)) throw new ConfigError(name, "contains whitespace: paste the key without spaces or line breaks");
  return value;
}

function parseBoolean(env: SignerEnv, name: keyof SignerEnv, fallback: boolean): boolean {
  const value = optionalString(env, name);
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(name, 'must be "true" or "false"');
}

function parseInteger(env: SignerEnv, name: keyof SignerEnv, fallback: number, min: number, max: number): number {
  const value = optionalString(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, "must be a whole number");
  const number = Number(value);
  if (number < min || number > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return number;
}

function parseEndpoint(env: SignerEnv): string | undefined {
  const value = optionalString(env, "COS_ENDPOINT");
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("COS_ENDPOINT", "must be an origin such as https://static.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("COS_ENDPOINT", "must use https:// (or http:// for a local emulator)");
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    throw new ConfigError("COS_ENDPOINT", "must be an origin only: scheme, host and optional port, no path, query or credentials");
  }
  return url.origin;
}

function parseExtensions(env: SignerEnv): ReadonlySet<string> {
  const value = optionalString(env, "UPLOAD_ALLOWED_EXTENSIONS");
  if (value === undefined) return new Set(DEFAULT_ALLOWED_EXTENSIONS);
  const extensions = value.split(",").map((ext) => ext.trim().toLowerCase()).filter((ext) => ext !== "");
  if (extensions.length === 0 || !extensions.every((ext) => EXTENSION.test(ext))) {
    throw new ConfigError("UPLOAD_ALLOWED_EXTENSIONS", "must be a comma-separated list of 1–10 letters or digits each, e.g. jpg,png,mp4");
  }
  return new Set(extensions);
}

function parseKeyPrefix(env: SignerEnv): string {
  const value = env.UPLOAD_KEY_PREFIX;
  if (value === undefined) return DEFAULT_KEY_PREFIX;
  const prefix = String(value).trim().replace(/^\/+|\/+$/g, "");
  if (prefix !== "" && !prefix.split("/").every((segment) => KEY_PREFIX_SEGMENT.test(segment))) {
    throw new ConfigError("UPLOAD_KEY_PREFIX", "must be path segments of letters, digits, '.', '_' and '-', separated by '/' (no '..' or empty segments)");
  }
  return prefix;
}
