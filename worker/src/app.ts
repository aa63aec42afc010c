/**
 * The signer's HTTP API (Hono). Middleware adds a request id, one JSON log line per request, security and CORS
 * headers; routes check who asks, validate, then call the pure signing core. Every error becomes
 * `{ error: { code, message } }` in `onError`.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { issueSession, sessionUser } from "./auth/session.js";
import { openidForCode } from "./auth/wechat.js";
import { type SignerConfig, type SignerEnv, signerConfig, type UploadMethod, type UploadProfile } from "./config.js";
import { InvalidRequestError, SignerError } from "./errors.js";
import { addressKey, type ClientAddressSource, cloudflareClientAddress, enforceLimit } from "./limits.js";
import { newObjectKey, normalizeExtension } from "./object-key.js";
import { checkMethod, parseUploadRequest, resolveProfile } from "./upload-request.js";
import { postDescriptor, putDescriptor, seedPostPolicy, seedPutSign } from "./uploads.js";

type Bindings = SignerEnv;
/** `user`: the caller's key segment (AUTH_MODE=wechat), or "" when anyone may sign (AUTH_MODE=none). */
export type AppEnv = { Bindings: Bindings; Variables: { requestId: string; user: string; errorCode?: string; config?: SignerConfig } };

export interface AppOptions {
  /** Where the caller's address is read, for the per-address limits: the host's choice. Default: Cloudflare's edge. */
  readonly clientAddress?: ClientAddressSource;
}

/** A client's own request id, kept apart from ours in the log line: letters, digits, `-`, `_`, `.`; at most 64. */
const CLIENT_REQUEST_ID = /^[\w.-]{1,64}$/;

export const DUMMY_CREDENTIALS_WARNING =
  "dummy dev credentials: only the local COS emulator accepts these signatures; set COS_SECRET_ID and COS_SECRET_KEY for real COS";
export const AUTH_NONE_WARNING = "AUTH_MODE=none: anyone can get upload signatures; use AUTH_MODE=wechat in production";

const warned = new Set<string>();

function warnOnce(c: Context<AppEnv>, warning: string): void {
  c.header("X-Signer-Warning", warning, { append: true });
  if (!warned.has(warning)) {
    warned.add(warning);
    console.warn(JSON.stringify({ level: "warn", message: warning }));
  }
}

/** The configuration, with its warnings added to the response once per request. */
function configOf(c: Context<AppEnv>): SignerConfig {
  let config = c.get("config");
  if (!config) {
    config = signerConfig(c.env);
    c.set("config", config);
    if (config.dummyCredentials) warnOnce(c, DUMMY_CREDENTIALS_WARNING);
    if (config.auth.mode === "none") warnOnce(c, AUTH_NONE_WARNING);
  }
  return config;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    throw new SignerError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json");
  }
  try {
    return await c.req.json();
  } catch {
    throw new SignerError(400, "body_invalid", "the body is not valid JSON");
  }
}

const smallBody = bodyLimit({
  maxSize: 4096,
  onError: () => {
    throw new SignerError(413, "body_too_large", "the request body is over 4096 bytes");
  },
});

/** Key prefix for this caller: the profile's prefix, then the user's segment when sessions are on. */
function keyPrefixFor(profile: UploadProfile, user: string): string {
  return [profile.keyPrefix, user].filter((part) => part !== "").join("/");
}

export function createApp({ clientAddress = cloudflareClientAddress }: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const callerAddress = (c: Context<AppEnv>) => addressKey(clientAddress(c.req.raw));

  app.use(async (c, next) => {
    // Always our own id: one a client chose could collide with or impersonate other requests in the logs.
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
    const clientRequestId = c.req.header("X-Request-Id");
    // One line per request: no secrets, no tokens, no keys; the user only as the first characters of its segment.
    const user = c.get("user");
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path.slice(0, 100),
        status: c.res.status,
        ...(clientRequestId !== undefined && CLIENT_REQUEST_ID.test(clientRequestId) ? { clientRequestId } : {}),
        ...(c.get("errorCode") ? { code: c.get("errorCode") } : {}),
        ...(user ? { user: user.slice(0, 6) } : {}),
      }),
    );
  });
  app.use(secureHeaders({ crossOriginResourcePolicy: "cross-origin" }));
  app.use(
    cors({
      origin: (origin, c: Context<AppEnv>) => (signerConfig(c.env).corsOrigins.includes(origin) ? origin : null),
      allowHeaders: ["Authorization", "Content-Type"],
      allowMethods: ["GET", "POST"],
      exposeHeaders: ["X-Request-Id", "Retry-After", "X-Signer-Warning"],
      maxAge: 600,
    }),
  );
  app.use(async (c, next) => {
    await next();
    // Signatures are single-use permissions: no cache may keep or share them.
    c.header("Cache-Control", "no-store");
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        c.set("errorCode", "method_not_allowed");
        return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path.slice(0, 200)}; use ${methods.join(", ")}`), 405, {
          Allow: methods.join(", "),
        });
      },
    }),
  );

  /** Who is asking: the session's user (AUTH_MODE=wechat) or anyone (none); then the per-caller signing limit. */
  const signer = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const config = configOf(c);
    const user = config.auth.mode === "wechat" ? await sessionUser(config.auth, c.req.header("Authorization")) : "";
    c.set("user", user);
    await enforceLimit(c.env.SIGN_LIMITER, user ? `user:${user}` : callerAddress(c));
    await next();
  };

  app.get("/healthz", (c) => {
    configOf(c);
    return c.json({ status: "ok" });
  });

  app.post("/v1/session", smallBody, async (c) => {
    const config = configOf(c);
    if (config.auth.mode !== "wechat") throw new SignerError(404, "not_found", "sessions are off: AUTH_MODE=none signs for anyone");
    const body = await jsonBody(c);
    const code = (body as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !/^[A-Za-z0-9_-]{1,128}$/.test(code)) {
      throw new InvalidRequestError("code_invalid", 'send {"code": "<the code from wx.login()>"}');
    }
    // Counted once the request could reach WeChat: malformed ones cost nothing and use up no one's logins.
    await enforceLimit(c.env.SESSION_LIMITER, callerAddress(c));
    const openid = await openidForCode(config.auth, code);
    return c.json(await issueSession(config.auth, openid, new Date()));
  });

  /** The seed routes answer only where SEED_ROUTES (or its default, AUTH_MODE=none) lets them. */
  const seedRoute = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    if (!configOf(c).seedRoutes) {
      throw new SignerError(
        404,
        "seed_routes_off",
        `${c.req.path} is off: its signature binds only the key (no size, type or overwrite rule); use POST /v1/uploads, or set SEED_ROUTES=true to accept that`,
      );
    }
    await next();
  };

  /** The seed routes' query: `ext`, and `profile` (default `default`) that must allow `method`. */
  const seedTerms = (c: Context<AppEnv>, method: UploadMethod) => {
    const profile = resolveProfile(configOf(c), c.req.query("profile"));
    checkMethod(profile, method);
    const ext = normalizeExtension(c.req.query("ext"), profile.allowedExtensions);
    const now = new Date();
    return { profile, now, key: newObjectKey(keyPrefixFor(profile, c.get("user")), ext, now) };
  };

  app.get("/put-sign", seedRoute, signer, async (c) => {
    const { profile, key, now } = seedTerms(c, "put");
    return c.json(await seedPutSign(profile, key, now));
  });

  app.get("/post-policy", seedRoute, signer, async (c) => {
    const { profile, key, now } = seedTerms(c, "post");
    return c.json(await seedPostPolicy(profile, key, now));
  });

  /** What a client may know of each profile, to pick one and check files before asking; nothing about keys. */
  app.get("/v1/profiles", (c) => {
    const profiles = [...configOf(c).profiles.values()].map((profile) => ({
      name: profile.name,
      extensions: [...profile.allowedExtensions],
      contentTypes: profile.contentTypes,
      maxBytes: profile.maxBytes,
      methods: [...profile.methods],
    }));
    return c.json({ profiles });
  });

  app.post("/v1/uploads", smallBody, signer, async (c) => {
    const { profile, ext, method, ...bounds } = parseUploadRequest(await jsonBody(c), configOf(c));
    const now = new Date();
    const terms = { key: newObjectKey(keyPrefixFor(profile, c.get("user")), ext, now), ...bounds };
    return c.json(method === "put" ? await putDescriptor(profile, terms, now) : await postDescriptor(profile, terms, now));
  });

  app.notFound((c) => {
    c.set("errorCode", "not_found");
    return c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`), 404);
  });

  app.onError((error, c) => {
    if (error instanceof SignerError) {
      c.set("errorCode", error.code);
      if (error.status >= 500) console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), code: error.code, message: error.message }));
      return c.json(errorBody(error.code, error.message), error.status, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) {
      c.set("errorCode", "bad_request");
      return c.json(errorBody("bad_request", error.message || "bad request"), error.status);
    }
    c.set("errorCode", "internal_error");
    console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), code: "internal_error", error: error.name, message: error.message }));
    return c.json(errorBody("internal_error", "the signer failed; see the Worker logs"), 500);
  });

  return app;
}
