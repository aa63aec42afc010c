/**
 * The signer's HTTP API (Hono): the map of its surfaces. The host's request, CORS for web clients, one sub-app per
 * surface (routes/), 404/405, and `onError`, where every error becomes `{ error: { code, message } }` with its one log
 * line. Every answer is built by `respond` (fixed headers, request id, warnings). Successful requests are recorded by
 * Workers Logs (`[observability]` in wrangler.toml), not by a console line each.
 */
import type { Context } from "hono";
import type { HonoBase } from "hono/hono-base";
import { cors } from "hono/cors";
import type { SignerEnv } from "./config/index.js";
import { type AppEnv, configOf, mainApp } from "./http/context.js";
import { type ClientAddressSource, cloudflareClientAddress } from "./http/client-address.js";
import { notFoundOrNotAllowed, onError } from "./http/on-error.js";
import { API_HEADERS } from "./http/respond.js";
import type { Ledger } from "./ledger/index.js";
import type { ModerationDesk } from "./moderation/index.js";
import { metaRoutes } from "./routes/meta.js";
import { multipartRoutes } from "./routes/multipart.js";
import { objectRoutes } from "./routes/objects.js";
import { sdkRoutes } from "./routes/sdk.js";
import { seedRoutes } from "./routes/seed.js";
import { sessionRoutes } from "./routes/session.js";
import { uploadRoutes } from "./routes/uploads.js";
import { wechatPush } from "./routes/wechat-push.js";

export { type AppEnv, AUTH_NONE_WARNING, DUMMY_CREDENTIALS_WARNING } from "./http/context.js";

export interface AppOptions {
  /** Where the caller's address is read, for the per-address limits: the host's choice. Default: Cloudflare's edge. */
  readonly clientAddress?: ClientAddressSource;
  /**
   * The OpenAPI document (public/openapi.json), served at GET /openapi.json by hosts without static files. Workers
   * reads the file from its static assets instead ([assets] in wrangler.toml), keeping it out of the Worker's bundle.
   */
  readonly openApi?: object;
  /**
   * The host's ledger store, for quotas and the users' file lists: Workers' LEDGER Durable Objects, Redis or SQLite on Node.
   * None: quotas are a configuration error and the ledger's routes answer 501 ledger_off.
   */
  readonly ledger?: (env: SignerEnv) => Ledger | undefined;
  /** The host's moderation desk (access token, checks in flight): a Durable Object on Workers, Redis or SQLite on Node. */
  readonly moderation?: (env: SignerEnv) => ModerationDesk | undefined;
}

/** CORS only for web (H5) clients of configured origins: a Mini Program sends no Origin and skips it entirely. */
const corsForWeb = cors({
  origin: (origin, c: Context<AppEnv>) => (configOf(c).corsOrigins.includes(origin) ? origin : null),
  allowHeaders: ["Authorization", "Content-Type"],
  allowMethods: ["GET", "POST"],
  exposeHeaders: ["X-Request-Id", "Retry-After", "X-Signer-Warning"],
  maxAge: 600,
});

export function createApp({ clientAddress = cloudflareClientAddress, openApi, ledger: ledgerFor, moderation: deskFor }: AppOptions = {}): HonoBase<AppEnv> {
  const app = mainApp();

  // The request as the host handed it over: hono/body-limit replaces c.req.raw with a copy for a body sent without
  // Content-Length, and a host's address source may read the original (EdgeOne's request.eo, a socket's peer).
  app.use((c, next) => {
    c.set("hostRequest", c.req.raw);
    c.set("clientAddress", clientAddress);
    const ledger = ledgerFor?.(c.env);
    if (ledger) c.set("ledger", ledger);
    const desk = deskFor?.(c.env);
    if (desk) c.set("desk", desk);
    return next();
  });

  app.use(async (c, next) => {
    if (c.req.header("Origin") === undefined) return next();
    const preflight = await corsForWeb(c, next);
    if (!preflight) return;
    // A preflight is answered by the cors middleware itself: give it the fixed headers too.
    for (const [name, value] of Object.entries(API_HEADERS)) if (name !== "Content-Type") preflight.headers.set(name, value);
    return preflight;
  });

  app.route("/", metaRoutes(openApi)); //   GET /openapi.json, /healthz, /v1/profiles
  app.route("/", sessionRoutes); //         POST /v1/session
  app.route("/", seedRoutes); //            GET /put-sign, /post-policy
  app.route("/", uploadRoutes); //          POST /v1/uploads, /v1/uploads/receipt
  app.route("/", multipartRoutes); //       POST /v1/multipart, …/parts, …/list, …/complete, …/abort
  app.route("/", objectRoutes); //          POST /v1/objects/url, …/list, …/delete; GET /v1/usage
  app.route("/", sdkRoutes); //             POST /v1/cos/keys, …/authorization, …/credentials
  app.route("/", wechatPush); //            GET, POST /v1/wechat/push; POST /v1/moderation/cos-callback

  app.notFound(notFoundOrNotAllowed(app));
  app.onError(onError);
  return app;
}
