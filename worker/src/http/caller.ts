/**
 * The middleware that make a route's policy readable from its middleware list: who may call it (`authenticated`),
 * which limit counts the call (`limitedPer…`), and whether the deployment serves it at all (`servedWhen`).
 */
import type { Context, MiddlewareHandler } from "hono";
import { sessionOf } from "../auth/session.js";
import type { SignerConfig, SignerEnv } from "../config/index.js";
import { type ErrorCode, SignerError } from "./errors.js";
import { type AppEnv, asApp, configOf } from "./context.js";
import { addressKey, cloudflareClientAddress } from "./client-address.js";
import { enforceLimit } from "./limits.js";

/** Sets the caller: the session's user (AUTH_MODE=wechat: 401 without a valid token) or "" (AUTH_MODE=none). */
export const authenticated: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = configOf(c);
  const session = config.auth.mode === "wechat" ? await sessionOf(config.auth, c.req.header("Authorization"), new Date()) : { user: "", sealedOpenid: undefined };
  c.set("user", session.user);
  if (session.sealedOpenid !== undefined) c.set("openid", session.sealedOpenid);
  await next();
};

/** The caller's address as a limit key, read where the host says it cannot be forged. */
export function callerAddress<E extends AppEnv>(route: Context<E>): string {
  const c = asApp(route);
  const source = c.get("clientAddress") ?? cloudflareClientAddress;
  return addressKey(source(c.get("hostRequest") ?? c.req.raw));
}

/** Who a per-caller limit counts: the session's user, or the address when anyone may sign. */
export function callerKey<E extends AppEnv>(c: Context<E>): string {
  const user = asApp(c).get("user");
  return user ? `user:${user}` : callerAddress(c);
}

type LimiterName = { [Name in keyof SignerEnv]-?: NonNullable<SignerEnv[Name]> extends RateLimit ? Name : never }[keyof SignerEnv];

/**
 * Counts the call in the Rate Limiting binding `limiter` under `keyOf(c)`: 429 rate_limited when over. `when`
 * counts only the calls it selects. A deployment without the binding is not limited.
 */
export function limitedBy<E extends AppEnv = AppEnv>(
  limiter: LimiterName,
  keyOf: (c: Context<E>) => string,
  when?: (c: Context<E>) => boolean,
): MiddlewareHandler<E> {
  return async (c, next) => {
    if (when === undefined || when(c)) await enforceLimit(asApp(c).env[limiter], keyOf(c));
    await next();
  };
}

/** Per caller (after `authenticated`): the session's user, or the address when anyone may sign. */
export const limitedPerCaller = (limiter: LimiterName) => limitedBy(limiter, callerKey);
/** Per address: for calls made before there is a session. */
export const limitedPerAddress = (limiter: LimiterName) => limitedBy(limiter, callerAddress);

/** A route the deployment serves only when `on(config)`; otherwise 404 with `code` and `message(path)`. */
export function servedWhen(on: (config: SignerConfig) => boolean, code: ErrorCode, message: (path: string) => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!on(configOf(c))) throw new SignerError(code, message(c.req.path));
    await next();
  };
}
