/**
 * Session tokens: HS256 JWTs (hono/jwt) that carry a digest of the openid, never the openid itself. The same digest
 * is the user's key segment, so a token can only ever sign keys under its own user's folder.
 *
 * Two keys, so that each can be rotated alone: tokens are signed with a key derived from SESSION_SECRET (rotating it
 * logs everyone out), segments are HMACs under USER_SEGMENT_SECRET, or SESSION_SECRET when that is unset (rotating
 * it moves every user's folder).
 */
import { sign } from "hono/jwt";
import type { AuthConfig } from "../config/index.js";
import { toHex } from "../cos/index.js";
import { UnauthorizedError } from "../http/errors.js";
import { derivedHmacKey, hmacKey } from "./hmac-keys.js";
import { verifyAt } from "./jwt.js";
import { sealOpenid } from "../moderation/openid.js";

export type WechatAuth = Extract<AuthConfig, { mode: "wechat" }>;

/** `iss` of every token; `aud` is the Mini Program's AppID, so a token of one app is refused by another's signer. */
export const SESSION_ISSUER = "cos-edge-signer";
/** What the token key is derived for: a JWT is never signed with SESSION_SECRET itself. */
const TOKEN_KEY_LABEL = "cos-edge-signer/session-token/v1";

const UTF8 = new TextEncoder();

/** 20 hex characters (80 bits) of HMAC-SHA256(segment secret, "user:" + openid): stable per user, not reversible. */
export async function userSegment(auth: WechatAuth, openid: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(auth.userSegmentSecret), UTF8.encode(`user:${openid}`))).slice(0, 20);
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly expiresIn: number;
}

/** `withOpenid`: the token also carries the openid, sealed, for WeChat's content checks (a profile moderates with WeChat). */
export async function issueSession(auth: WechatAuth, openid: string, now: Date, withOpenid = false): Promise<Session> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + auth.sessionTtlSeconds;
  const sub = await userSegment(auth, openid);
  // `oid`: the openid sealed (never only signed) for content checks, which need it (moderation/openid.ts).
  const claims = { iss: SESSION_ISSUER, aud: auth.appId, sub, ...(withOpenid ? { oid: await sealOpenid(auth.sessionSecret, sub, openid) } : {}), iat, exp };
  const token = await sign(claims, await derivedHmacKey(auth.sessionSecret, TOKEN_KEY_LABEL), "HS256");
  return { token, expiresAt: new Date(exp * 1000).toISOString(), expiresIn: auth.sessionTtlSeconds };
}

/** Tokens verified by this isolate, per configuration: a user's next request skips the HMAC (≈ 12 µs in workerd). */
const verified = new WeakMap<WechatAuth, Map<string, { readonly sub: string; readonly exp: number; readonly oid: string | undefined }>>();
const KEPT_TOKENS = 1024;

const expired = () => new UnauthorizedError("token_expired", "the session expired: log in again");
const invalid = () => new UnauthorizedError("token_invalid", "the session token is not valid: log in again");

/** The user segment of a valid `Authorization: Bearer <token>` at `now`; 401 otherwise. */
export async function sessionUser(auth: WechatAuth, authorization: string | undefined, now: Date): Promise<string> {
  return (await sessionOf(auth, authorization, now)).user;
}

/** The user segment of a valid session at `now`, and its sealed openid (absent from tokens that carry none). */
export async function sessionOf(auth: WechatAuth, authorization: string | undefined, now: Date): Promise<{ user: string; sealedOpenid: string | undefined }> {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!authorization) throw new UnauthorizedError("unauthorized", "log in first: send Authorization: Bearer <token> from POST /v1/session");
  if (!match) throw new UnauthorizedError("token_invalid", "the Authorization header must be Bearer <token>");
  const token = match[1]!;
  let known = verified.get(auth);
  if (!known) verified.set(auth, (known = new Map()));
  const seen = known.get(token);
  if (seen) {
    if (seen.exp <= now.getTime() / 1000) throw expired();
    return { user: seen.sub, sealedOpenid: seen.oid };
  }
  const result = await verifyAt(token, await derivedHmacKey(auth.sessionSecret, TOKEN_KEY_LABEL), { iss: SESSION_ISSUER, aud: auth.appId }, now);
  if ("refused" in result) throw result.refused === "expired" ? expired() : invalid();
  // A session lasts no longer than SESSION_TTL_SECONDS, and names its user by a 20-hex segment.
  const { sub, iat, exp, oid } = result.payload as { sub: unknown; iat: number; exp: number; oid?: unknown };
  if (exp - iat > auth.sessionTtlSeconds || typeof sub !== "string" || !/^[0-9a-f]{20}$/.test(sub)) throw invalid();
  if (known.size >= KEPT_TOKENS) known.delete(known.keys().next().value!);
  const sealedOpenid = typeof oid === "string" ? oid : undefined;
  known.set(token, { sub, exp, oid: sealedOpenid });
  return { user: sub, sealedOpenid };
}
