/**
 * What every route's context holds: the bindings, the variables the plumbing sets (request id, warnings, the caller,
 * the configuration, the host's request, ledger and address source), and the configuration read once per request.
 */
import type { Context } from "hono";
import { HonoBase } from "hono/hono-base";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { type SignerConfig, type SignerEnv, signerConfig } from "../config/index.js";
import { checkQuotasHaveStore, type Ledger } from "../ledger/index.js";
import type { Caller } from "../uploads/reserve.js";
import type { ModerationDesk } from "../moderation/index.js";
import type { ClientAddressSource } from "./client-address.js";
import { addWarning } from "./respond.js";

/** ASSETS: Workers' static files (public/), where /openapi.json is read on Workers. */
type Bindings = SignerEnv & { ASSETS?: { fetch(request: Request): Promise<Response> } };

export type AppVariables = {
  requestId?: string;
  warnings?: string[];
  /** The caller's key segment (AUTH_MODE=wechat), or "" when anyone may sign (AUTH_MODE=none); set by `authenticated`. */
  user?: string;
  config?: SignerConfig;
  /** The request as the host handed it over (hono/body-limit may replace c.req.raw with a copy). */
  hostRequest?: Request;
  ledger?: Ledger;
  /** Where this host reads the caller's address. */
  clientAddress?: ClientAddressSource;
  /** The session's sealed openid, for content checks (moderation/openid.ts). */
  openid?: string;
  /** The host's moderation desk (moderation/checks.ts). */
  desk?: ModerationDesk;
};

export type AppEnv = { Bindings: Bindings; Variables: AppVariables };

/**
 * A route's context: the app's, plus the variables its own middleware set (hono/factory's createMiddleware). Hono's
 * Context is invariant in its env, so the plumbing takes any such context and reads it as the app's.
 */
export const asApp = <E extends AppEnv>(c: Context<E>) => c as unknown as Context<AppEnv>;

/**
 * Where a surface's routes wait to be mounted: `app.route()` copies a sub-app's `routes` into the app's own router,
 * so a surface needs none of its own (a router each cost startup CPU: docs/benchmarks.md, issue 19).
 */
const UNMOUNTED = {
  name: "unmounted",
  add() {},
  match(): never {
    throw new Error("a surface answers only once mounted with app.route()");
  },
};

/** One API surface (routes/): a sub-app that app.ts mounts with `app.route()`. */
export function surface(): HonoBase<AppEnv> {
  return new HonoBase<AppEnv>({ router: UNMOUNTED });
}

/** The app every surface is mounted on. */
export function mainApp(): HonoBase<AppEnv> {
  // Hono's default preset pairs RegExpRouter with TrieRouter for patterns RegExpRouter cannot take: these fixed
  // paths never need the second.
  return new HonoBase<AppEnv>({ router: new RegExpRouter() });
}

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
export function configOf<E extends AppEnv>(route: Context<E>): SignerConfig {
  const c = asApp(route);
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

/** Who asks, as the domain sees it: the user `authenticated` found and the host's ledger store. */
export function callerOf<E extends AppEnv>(route: Context<E>): Caller {
  const c = asApp(route);
  return { user: c.get("user") ?? "", ledger: c.get("ledger"), sealedOpenid: c.get("openid"), desk: c.get("desk") };
}

/** Work that goes on after the answer (Workers: waitUntil); where there is no execution context, it just runs. */
export function inBackground<E extends AppEnv>(c: Context<E>, work: Promise<void>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    work.catch(() => undefined);
  }
}
