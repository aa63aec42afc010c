/**
 * Session tokens: HS256 JWTs (hono/jwt) that carry a digest of the openid, never the openid itself. The same digest
 * is the user's key segment, so a token can only ever sign keys under its own user's folder.
 */
import { sign, verify } from "hono/jwt";
import type { AuthConfig } from "../config.js";
import { toHex } from "../cos/index.js";
import { UnauthorizedError } from "../errors.js";

type WechatAuth = Extract<AuthConfig, { mode: "wechat" }>;

const UTF8 = new TextEncoder();

// SESSION_SECRET imported once per isolate, not on every request (hono/jwt accepts a CryptoKey).
let sessionKey: { secret: string; key: Promise<CryptoKey> } | undefined;

function sessionKeyFor(secret: string): Promise<CryptoKey> {
  if (sessionKey?.secret !== secret) {
    sessionKey = { secret, key: crypto.subtle.importKey("raw", UTF8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) };
  }
  return sessionKey.key;
}

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await sessionKeyFor(secret), UTF8.encode(message)));
}

/** 20 hex characters (80 bits) of HMAC-SHA256(SESSION_SECRET, "user:" + openid): stable per user, not reversible. */
export async function userSegment(auth: WechatAuth, openid: string): Promise<string> {
  return (await hmacSha256Hex(auth.sessionSecret, `user:${openid}`)).slice(0, 20);
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly expiresIn: number;
}

export async function issueSession(auth: WechatAuth, openid: string, now: Date): Promise<Session> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const exp = issuedAt + auth.sessionTtlSeconds;
  const token = await sign({ sub: await userSegment(auth, openid), iat: issuedAt, exp }, await sessionKeyFor(auth.sessionSecret), "HS256");
  return { token, expiresAt: new Date(exp * 1000).toISOString(), expiresIn: auth.sessionTtlSeconds };
}

/** The user segment of a valid `Authorization: Bearer <token>`; 401 otherwise. */
export async function sessionUser(auth: WechatAuth, authorization: string | undefined): Promise<string> {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!authorization) throw new UnauthorizedError("unauthorized", "log in first: send Authorization: Bearer <token> from POST /v1/session");
  if (!match) throw new UnauthorizedError("token_invalid", "the Authorization header must be Bearer <token>");
  try {
    const payload = await verify(match[1]!, await sessionKeyFor(auth.sessionSecret), "HS256");
    if (typeof payload.sub !== "string" || !/^[0-9a-f]{20}$/.test(payload.sub)) throw new Error("no subject");
    return payload.sub;
  } catch (error) {
    // hono/jwt's error classes are not exported; their names are set by the library.
    if (error instanceof Error && error.name === "JwtTokenExpired") throw new UnauthorizedError("token_expired", "the session expired: log in again");
    throw new UnauthorizedError("token_invalid", "the session token is not valid: log in again");
  }
}
