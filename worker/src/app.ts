/**
 * The signer's HTTP API (Hono). Routes check who asks, validate, then call the pure signing core; every answer is
 * built by `respond` (fixed headers, request id, warnings) and every error becomes `{ error: { code, message } }` in
 * `onError`, which also writes the one log line a failure gets. Successful requests are recorded by Workers Logs
 * (`[observability]` in wrangler.toml), not by a console line each.
 */
import type { Context } from "hono";
import { HonoBase } from "hono/hono-base";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { issueSession, sessionUser } from "./auth/session.js";
import { openidForCode } from "./auth/wechat.js";
import { type SignerConfig, type SignerEnv, signerConfig, type UploadMethod, type UploadProfile } from "./config.js";
import { type ErrorCode, SignerError } from "./errors.js";
import { addressKey, type ClientAddressSource, cloudflareClientAddress, enforceLimit } from "./limits.js";
import { objectLocation } from "./cos-target.js";
import { newObjectKey, normalizeExtension } from "./object-key.js";
import { checkReads, deleteObject, deliverReceipt, objectFacts, ownKey, readUrl, receiptFor } from "./objects.js";
import { checkQuotasHaveStore, type Ledger, ledgerOff, limitsOf, quotaExceeded, type UserLedger } from "./ledger/index.js";
import { addWarning, API_HEADERS, requestIdOf, respond } from "./responses.js";
import {
  abortUpload,
  checkPartNumbers,
  completeUpload,
  initiateUpload,
  issueUploadToken,
  listParts,
  MAX_PARTS_PER_CALL,
  planParts,
  signParts,
  UPLOAD_TOKEN_TTL_SECONDS,
  verifyUploadToken,
} from "./multipart/index.js";
import { checkMethod, parseMultipartRequest, parseUploadRequest, resolveProfile } from "./upload-request.js";
import {
  CredentialsRequest,
  KeysRequest,
  ListObjectsRequest,
  ObjectRequest,
  PartsRequest,
  parseBody,
  ReadUrlRequest,
  SdkAuthorizationRequest,
  SessionRequest,
  UploadTokenRequest,
  type BodySchema,
} from "./schemas/requests.js";
import { postDescriptor, putDescriptor, seedPostPolicy, seedPutSign } from "./uploads.js";
import { authorizeSdkRequest, checkSdkRequest } from "./sdk/authorization.js";
import { credentialsFor } from "./sdk/credentials.js";

/** ASSETS: Workers' static files (public/), where /openapi.json is read on Workers. */
type Bindings = SignerEnv & { ASSETS?: { fetch(request: Request): Promise<Response> } };
/** `user`: the caller's key segment (AUTH_MODE=wechat), or "" when anyone may sign (AUTH_MODE=none). */
export type AppEnv = {
  Bindings: Bindings;
  Variables: { requestId?: string; warnings?: string[]; user?: string; config?: SignerConfig; hostRequest?: Request; ledger?: Ledger };
};

export interface AppOptions {
  /** Where the caller's address is read, for the per-address limits: the host's choice. Default: Cloudflare's edge. */
  readonly clientAddress?: ClientAddressSource;
  /**
   * The OpenAPI document (public/openapi.json), served at GET /openapi.json by hosts without static files. Workers
   * reads the file from its static assets instead ([assets] in wrangler.toml), keeping it out of the Worker's bundle.
   */
  readonly openApi?: object;
  /**
   * The host's ledger store, for quotas and the users' file lists: Workers' LEDGER Durable Objects, Redis on Node.
   * None: quotas are a configuration error and the ledger's routes answer 501 ledger_off.
   */
  readonly ledger?: (env: SignerEnv) => Ledger | undefined;
}

/** A client's own request id, kept apart from ours in the log line: letters, digits, `-`, `_`, `.`; at most 64. */
const CLIENT_REQUEST_ID = /^[\w.-]{1,64}$/;

export const DUMMY_CREDENTIALS_WARNING =
  "dummy dev credentials: only the local COS emulator accepts these signatures; set COS_SECRET_ID and COS_SECRET_KEY for real COS";
export const AUTH_NONE_WARNING = "AUTH_MODE=none: anyone can get upload signatures; use AUTH_MODE=wechat in production";

const warned = new Set<string>();

function warnOnce(c: Context<AppEnv>, warning: string): void {
  addWarning(c, warning);
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
    if (!c.get("ledger")) checkQuotasHaveStore(config.profiles.values());
    c.set("config", config);
    if (config.dummyCredentials) warnOnce(c, DUMMY_CREDENTIALS_WARNING);
    if (config.auth.mode === "none") warnOnce(c, AUTH_NONE_WARNING);
  }
  return config;
}

/**
 * The statuses Hono's own parts raise as an `HTTPException` (body-limit's 413, a router's 404/405, an auth
 * middleware's 401, a parser's 415), answered with the code docs/api.md gives that status; any other status below
 * 500 stays `bad_request`.
 */
const HTTP_EXCEPTION_CODES: Readonly<Partial<Record<number, { readonly code: ErrorCode; readonly message: string }>>> = {
  401: { code: "unauthorized", message: "authorization required" },
  404: { code: "not_found", message: "not found" },
  405: { code: "method_not_allowed", message: "method not allowed" },
  413: { code: "body_too_large", message: "the request body is too large" },
  415: { code: "unsupported_media_type", message: "unsupported media type" },
};

/** Refusals that are a client's normal next step, not a mistake: logged at info, not as warnings. */
const EXPECTED_REFUSALS = new Set(["multipart_required"]);

/**
 * The error answer, and its log line: no secrets, no tokens, no keys; the user only as the first characters of its
 * segment; a client's own request id apart from ours.
 */
function fail(c: Context<AppEnv>, status: number, code: string, message: string, headers?: Readonly<Record<string, string>>, cause?: Error): Response {
  const clientRequestId = c.req.header("X-Request-Id");
  const user = c.get("user");
  const line = JSON.stringify({
    level: status >= 500 ? "error" : EXPECTED_REFUSALS.has(code) ? "info" : "warn",
    requestId: requestIdOf(c),
    method: c.req.method,
    path: c.req.path.slice(0, 100),
    status,
    code,
    ...(clientRequestId !== undefined && CLIENT_REQUEST_ID.test(clientRequestId) ? { clientRequestId } : {}),
    ...(user ? { user: user.slice(0, 6) } : {}),
    // A bug's own name and message stay in the log; the client gets only the code.
    ...(status >= 500 ? { message: cause?.message ?? message } : {}),
    ...(cause ? { error: cause.name } : {}),
  });
  if (status >= 500) console.error(line);
  else if (EXPECTED_REFUSALS.has(code)) console.log(line);
  else console.warn(line);
  return respond(c, { error: { code, message: cause ? "the signer failed; see the Worker logs" : message } }, status, headers);
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

/** Refuses a body over `maxSize` bytes with 413 body_too_large. */
const bodyUpTo = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new SignerError(413, "body_too_large", `the request body is over ${maxSize} bytes`);
    },
  });

const smallBody = bodyUpTo(4096);
// 100 part numbers with their Content-MD5s and the token fit in 16 KB.
const partsBody = bodyUpTo(16384);

const TOKEN_EXAMPLE = '{"token":"<from POST /v1/multipart>"}';
const KEY_EXAMPLE = '{"key":"uploads/2026/11/29/<32 hex>.jpg"}';

const throwing = (error: Error): never => {
  throw error;
};

/** Work that goes on after the answer (Workers: waitUntil); where there is no execution context, it just runs. */
function inBackground(c: Context<AppEnv>, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    work.catch(() => undefined);
  }
}

/** Key prefix for this caller: the profile's prefix, then the user's segment when sessions are on. */
function keyPrefixFor(profile: UploadProfile, user = ""): string {
  return [profile.keyPrefix, user].filter((part) => part !== "").join("/");
}

export function createApp({ clientAddress = cloudflareClientAddress, openApi, ledger: ledgerFor }: AppOptions = {}): HonoBase<AppEnv> {
  // Hono's default preset pairs RegExpRouter with TrieRouter for patterns RegExpRouter cannot take: these fixed
  // paths never need the second.
  const app = new HonoBase<AppEnv>({ router: new RegExpRouter() });
  const callerAddress = (c: Context<AppEnv>) => addressKey(clientAddress(c.get("hostRequest") ?? c.req.raw));
  /** Who a per-caller limit counts: the session's user, or the address when anyone may sign. */
  const callerKey = (c: Context<AppEnv>) => (c.get("user") ? `user:${c.get("user")}` : callerAddress(c));

  // The request as the host handed it over: hono/body-limit replaces c.req.raw with a copy for a body sent without
  // Content-Length, and a host's address source may read the original (EdgeOne's request.eo, a socket's peer).
  app.use((c, next) => {
    c.set("hostRequest", c.req.raw);
    const ledger = ledgerFor?.(c.env);
    if (ledger) c.set("ledger", ledger);
    return next();
  });

  // CORS only for web (H5) clients of configured origins: a Mini Program sends no Origin and skips it entirely.
  const corsForWeb = cors({
    origin: (origin, c: Context<AppEnv>) => (signerConfig(c.env).corsOrigins.includes(origin) ? origin : null),
    allowHeaders: ["Authorization", "Content-Type"],
    allowMethods: ["GET", "POST"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "X-Signer-Warning"],
    maxAge: 600,
  });
  app.use(async (c, next) => {
    if (c.req.header("Origin") === undefined) return next();
    const preflight = await corsForWeb(c, next);
    if (!preflight) return;
    // A preflight is answered by the cors middleware itself: give it the fixed headers too.
    for (const [name, value] of Object.entries(API_HEADERS)) if (name !== "Content-Type") preflight.headers.set(name, value);
    return preflight;
  });
  /** Who is asking: the session's user (AUTH_MODE=wechat) or anyone (none). */
  const caller = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const config = configOf(c);
    c.set("user", config.auth.mode === "wechat" ? await sessionUser(config.auth, c.req.header("Authorization")) : "");
    await next();
  };

  /** The caller, then the per-caller limit on new uploads. */
  const signer = async (c: Context<AppEnv>, next: () => Promise<void>) =>
    caller(c, async () => {
      await enforceLimit(c.env.SIGN_LIMITER, callerKey(c));
      await next();
    });

  app.get("/openapi.json", async (c) => {
    if (openApi) return respond(c, openApi);
    // Workers: the static file (run_worker_first in wrangler.toml), with the headers every answer has.
    const file = await c.env.ASSETS?.fetch(c.req.raw);
    if (!file?.ok) return fail(c, 404, "not_found", "no OpenAPI document here");
    return new Response(file.body, { headers: { ...API_HEADERS, "X-Request-Id": requestIdOf(c) } });
  });

  app.get("/healthz", (c) => {
    configOf(c);
    return respond(c, { status: "ok" });
  });

  app.post("/v1/session", smallBody, async (c) => {
    const config = configOf(c);
    if (config.auth.mode !== "wechat") throw new SignerError(404, "not_found", "sessions are off: AUTH_MODE=none signs for anyone");
    const { code } = parseBody(SessionRequest, await jsonBody(c), '{"code":"<the code from wx.login()>"}');
    // Counted once the request could reach WeChat: malformed ones cost nothing and use up no one's logins.
    await enforceLimit(c.env.SESSION_LIMITER, callerAddress(c));
    const openid = await openidForCode(config.auth, code);
    return respond(c, await issueSession(config.auth, openid, new Date()));
  });

  /** The caller's books in `profile`, or undefined on a host without a ledger store. */
  const booksOf = (c: Context<AppEnv>, profile: UploadProfile): UserLedger | undefined => c.get("ledger")?.of(profile.name, c.get("user") ?? "");
  /** The caller's books, for the routes that exist only with a ledger (501 ledger_off without). */
  const requiredBooks = (c: Context<AppEnv>, profile: UploadProfile): UserLedger => booksOf(c, profile) ?? throwing(ledgerOff());

  /**
   * Reserves the bytes a new object may take before it is signed: `bytes` exactly, or with `shrink` what fits up to
   * it; the bytes reserved (all of `bytes` without a ledger), or 403 quota_exceeded.
   */
  const reserve = async (c: Context<AppEnv>, profile: UploadProfile, key: string, bytes: number, contentType: string, expiresAt: number, shrink = false) => {
    const books = booksOf(c, profile);
    if (!books) return bytes;
    const result = await books.reserve({ key, bytes, contentType, expiresAt, now: Date.now(), limits: limitsOf(profile), shrink });
    if (!("bytes" in result)) throw quotaExceeded(profile, bytes, result);
    return result.bytes;
  };
  /** A signature's expiry as the ledger keeps it (Unix ms). */
  const signatureExpiry = (profile: UploadProfile, now: Date) => now.getTime() + profile.signatureTtlSeconds * 1000;

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

  // The seed's signatures bind no size: each reserves the profile's largest file, settled from a HEAD later.
  app.get("/put-sign", seedRoute, signer, async (c) => {
    const { profile, key, now } = seedTerms(c, "put");
    await reserve(c, profile, key, profile.maxBytes, "application/octet-stream", signatureExpiry(profile, now));
    return respond(c, await seedPutSign(profile, key, now));
  });

  app.get("/post-policy", seedRoute, signer, async (c) => {
    const { profile, key, now } = seedTerms(c, "post");
    await reserve(c, profile, key, profile.maxBytes, "application/octet-stream", signatureExpiry(profile, now));
    return respond(c, await seedPostPolicy(profile, key, now));
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
    return respond(c, { profiles });
  });

  app.post("/v1/uploads", smallBody, signer, async (c) => {
    const { profile, ext, method, ...bounds } = parseUploadRequest(await jsonBody(c), configOf(c));
    const now = new Date();
    const key = newObjectKey(keyPrefixFor(profile, c.get("user")), ext, now);
    // A POST without a size reserves what fits of the profile's limit, and its policy's range is narrowed to that.
    const reserved = await reserve(c, profile, key, bounds.size ?? profile.maxBytes, bounds.contentType, signatureExpiry(profile, now), bounds.size === undefined);
    const terms = { key, ...bounds, ...(bounds.size === undefined ? { maxBytes: reserved } : {}) };
    return respond(c, method === "put" ? await putDescriptor(profile, terms, now) : await postDescriptor(profile, terms, now));
  });

  /**
   * The upload a request's token names, checked: this signer's, unexpired, the caller's own. Its calls count per
   * upload (MULTIPART_LIMITER), not against the caller's new uploads: a 2 GB file needs ~7 of them, a resume a few more.
   */
  const upload = async <T extends { token: string }>(c: Context<AppEnv>, schema: BodySchema<T>) => {
    const body = parseBody(schema, await jsonBody(c), TOKEN_EXAMPLE);
    const verified = await verifyUploadToken(body.token, configOf(c).profiles, c.get("user") ?? "");
    await enforceLimit(c.env.MULTIPART_LIMITER, `upload:${verified.claims.uploadId}`);
    return { body, ...verified };
  };

  app.post("/v1/multipart", smallBody, signer, async (c) => {
    const { profile, ext, size, contentType, partSize } = parseMultipartRequest(await jsonBody(c), configOf(c));
    const now = new Date();
    const key = newObjectKey(keyPrefixFor(profile, c.get("user")), ext, now);
    const plan = planParts(size, partSize);
    await reserve(c, profile, key, size, contentType, now.getTime() + UPLOAD_TOKEN_TTL_SECONDS * 1000);
    let uploadId: string;
    try {
      uploadId = await initiateUpload(profile, key, contentType);
    } catch (error) {
      await booksOf(c, profile)?.release(key);
      throw error;
    }
    const claims = { sub: c.get("user") ?? "", profile: profile.name, key, uploadId, contentType, ...plan };
    const { token, exp } = await issueUploadToken(profile, claims, now);
    // The first batch of part signatures comes with the answer: a fresh upload sends its first byte after one call.
    const first = Array.from({ length: Math.min(plan.partCount, MAX_PARTS_PER_CALL) }, (_, i) => i + 1);
    return respond(c, {
      key,
      uploadId,
      size,
      partSize: plan.partSize,
      partCount: plan.partCount,
      contentType,
      token,
      objectUrl: objectLocation(profile, key).url,
      expiresAt: new Date(exp * 1000).toISOString(),
      parts: await signParts(profile, { ...claims, exp }, first, {}, now),
    });
  });

  app.post("/v1/multipart/parts", partsBody, caller, async (c) => {
    const { body, claims, profile } = await upload(c, PartsRequest);
    const partNumbers = checkPartNumbers(body.partNumbers, claims);
    return respond(c, { parts: await signParts(profile, claims, partNumbers, body.contentMd5, new Date()) });
  });

  app.post("/v1/multipart/list", smallBody, caller, async (c) => {
    const { claims, profile } = await upload(c, UploadTokenRequest);
    const parts = await listParts(profile, claims);
    return respond(c, { key: claims.key, size: claims.size, partSize: claims.partSize, partCount: claims.partCount, parts });
  });

  app.post("/v1/multipart/complete", smallBody, caller, async (c) => {
    const { claims, profile } = await upload(c, UploadTokenRequest);
    const completed = await completeUpload(profile, claims);
    await booksOf(c, profile)?.commit(claims.key, completed.size, claims.contentType, Date.now());
    return respond(c, completed);
  });

  app.post("/v1/multipart/abort", smallBody, caller, async (c) => {
    const { claims, profile } = await upload(c, UploadTokenRequest);
    await abortUpload(profile, claims);
    await booksOf(c, profile)?.release(claims.key);
    return respond(c, { aborted: true });
  });

  /** The profile and the key of a request about one of the caller's own objects. */
  const ownObject = (c: Context<AppEnv>, body: { key: string; profile?: string | undefined }) => {
    const profile = resolveProfile(configOf(c), body.profile);
    const user = c.get("user") ?? "";
    return { profile, user, key: ownKey(body.key, keyPrefixFor(profile, user)) };
  };

  app.post("/v1/uploads/receipt", smallBody, signer, async (c) => {
    const receipts = configOf(c).receipts;
    if (!receipts) throw new SignerError(404, "receipts_off", "receipts are off: set the RECEIPT_SECRET secret");
    const { profile, user, key } = ownObject(c, parseBody(ObjectRequest, await jsonBody(c), KEY_EXAMPLE));
    const facts = await objectFacts(profile, key, user);
    await booksOf(c, profile)?.commit(key, facts.size, facts.contentType, Date.now());
    const { receipt, expiresAt } = await receiptFor(facts, receipts.secret, new Date());
    if (receipts.webhookUrl) inBackground(c, deliverReceipt(receipts.webhookUrl, receipt, requestIdOf(c)));
    return respond(c, { ...facts, receipt, expiresAt });
  });

  app.post("/v1/objects/url", smallBody, signer, async (c) => {
    const body = parseBody(ReadUrlRequest, await jsonBody(c), '{"key":"uploads/2026/11/29/<32 hex>.jpg","expiresIn":300}');
    const { profile, key } = ownObject(c, body);
    checkReads(profile);
    return respond(c, { key, ...(await readUrl(profile, key, body.expiresIn, body.process, new Date())) });
  });

  app.post("/v1/objects/list", smallBody, caller, async (c) => {
    const body = parseBody(ListObjectsRequest, await jsonBody(c), '{"profile":"default","limit":50}');
    const books = requiredBooks(c, resolveProfile(configOf(c), body.profile));
    return respond(c, await books.list(body.cursor, body.limit));
  });

  app.post("/v1/objects/delete", smallBody, signer, async (c) => {
    const { profile, key } = ownObject(c, parseBody(ObjectRequest, await jsonBody(c), KEY_EXAMPLE));
    const books = requiredBooks(c, profile);
    if (!(await books.get(key))) throw new SignerError(404, "object_not_found", "you have no object with this key");
    await deleteObject(profile, key);
    await books.remove(key);
    return respond(c, { deleted: true });
  });

  app.get("/v1/usage", caller, async (c) => {
    const now = Date.now();
    const profiles = await Promise.all(
      [...configOf(c).profiles.values()].map(async (profile) => ({
        profile: profile.name,
        ...(await requiredBooks(c, profile).usage(now)),
        quotaBytes: profile.quotaBytes ?? null,
        dailyBytes: profile.dailyBytes ?? null,
      })),
    );
    return respond(c, { profiles });
  });

  /**
   * Tencent's SDKs, pointed here by their getAuthorization hook. Every call counts per caller in COS_AUTH_LIMITER
   * (a slice upload makes one per part); a request that starts a new object also counts as a new upload.
   */
  const sdkCaller = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    if (!configOf(c).sdkRoutes) {
      throw new SignerError(404, "sdk_routes_off", `${c.req.path} is off: set SDK_ROUTES=true to serve Tencent's SDKs (what their signatures bind: docs/security.md)`);
    }
    return caller(c, async () => {
      await enforceLimit(c.env.COS_AUTH_LIMITER, callerKey(c));
      await next();
    });
  };

  app.post("/v1/cos/keys", smallBody, sdkCaller, async (c) => {
    const body = parseBody(KeysRequest, await jsonBody(c), '{"ext":"jpg"}');
    const profile = resolveProfile(configOf(c), body.profile);
    const ext = normalizeExtension(body.ext, profile.allowedExtensions);
    return respond(c, { Bucket: profile.bucket, Region: profile.region, Key: newObjectKey(keyPrefixFor(profile, c.get("user")), ext, new Date()) });
  });

  app.post("/v1/cos/authorization", smallBody, sdkCaller, async (c) => {
    const body = parseBody(SdkAuthorizationRequest, await jsonBody(c), '{"Bucket":"…","Region":"…","Method":"put","Pathname":"/<key>","Headers":{…}}');
    const profile = resolveProfile(configOf(c), body.profile);
    const terms = checkSdkRequest(profile, body, keyPrefixFor(profile, c.get("user")));
    if (terms.operation === "PutObject" || terms.operation === "InitiateMultipartUpload") {
      await enforceLimit(c.env.SIGN_LIMITER, callerKey(c));
      // PutObject signs its Content-Length; an SDK's multipart upload names no size, so it holds what fits.
      const put = terms.operation === "PutObject";
      const bound = put ? Number(terms.headers["content-length"]) : profile.multipartMaxBytes;
      const expiry = put ? signatureExpiry(profile, new Date()) : Date.now() + UPLOAD_TOKEN_TTL_SECONDS * 1000;
      await reserve(c, profile, terms.key, bound, terms.headers["content-type"] ?? "application/octet-stream", expiry, !put);
    }
    return respond(c, await authorizeSdkRequest(profile, terms, new Date()));
  });

  app.post("/v1/cos/credentials", smallBody, sdkCaller, async (c) => {
    const body = parseBody(CredentialsRequest, await jsonBody(c), '{"profile":"default"}');
    const config = configOf(c);
    const profile = resolveProfile(config, body.profile);
    if (profile.quotaBytes !== undefined || profile.dailyBytes !== undefined) {
      throw new SignerError(403, "operation_not_allowed", `temporary keys would upload around the byte quotas of profile "${profile.name}": use POST /v1/cos/authorization`);
    }
    const user = c.get("user") ?? "";
    const prefix = keyPrefixFor(profile, user);
    // Always the caller's whole space, `key` only checked: a scope per key would let a caller force an STS request per key.
    if (body.key !== undefined) ownKey(body.key, prefix);
    const scope = prefix === "" ? "*" : `${prefix}/*`;
    return respond(c, await credentialsFor(profile, config.sts, user, scope, new Date()));
  });

  app.notFound((c) => {
    // Every route is a fixed path, so the methods it takes are those registered for exactly this path: an exact
    // look-up instead of hono/method-not-allowed, whose pattern router cost 1.3 KB of the 30 KB bundle budget.
    const methods = [...new Set(app.routes.filter((route) => route.path === c.req.path && route.method !== "ALL").map((route) => route.method))];
    if (methods.length === 0) return fail(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`);
    if (methods.includes("GET")) methods.push("HEAD");
    return fail(c, 405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(", ")}`, { Allow: methods.join(", ") });
  });

  app.onError((error, c) => {
    if (error instanceof SignerError) return fail(c, error.status, error.code, error.message, error.headers);
    if (error instanceof HTTPException && error.status < 500) {
      const known = HTTP_EXCEPTION_CODES[error.status];
      const allow = error.getResponse().headers.get("Allow");
      return fail(c, error.status, known?.code ?? "bad_request", error.message || (known?.message ?? "bad request"), allow ? { Allow: allow } : undefined);
    }
    return fail(c, 500, "internal_error", "the signer failed; see the Worker logs", undefined, error);
  });

  return app;
}
