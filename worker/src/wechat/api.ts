/**
 * WeChat's server API for content checks: the stable access token (`POST /cgi-bin/stable_token`, one per appid,
 * shared by every instance through a store: see moderation/durable-object.ts and moderation/redis.ts) and
 * `security.mediaCheckAsync` v2 (`POST /wxa/media_check_async`), whose verdict comes later as a push.
 * Errors name WeChat's errcode, never the token, the AppSecret or the openid.
 */
import { SignerError } from "../http/errors.js";

export interface WechatApp {
  readonly appId: string;
  readonly appSecret: string;
  /** WX_API_ORIGIN: WeChat's API, or a stand-in locally. */
  readonly apiOrigin: string;
}

export interface CachedToken {
  readonly token: string;
  /** Unix ms. */
  readonly expiresAt: number;
}

/** One access token per appid, whatever the number of instances. */
export interface TokenSource {
  /** The current token; with `stale` (a token WeChat refused with 40001/42001), a new one unless already replaced. */
  token(stale?: string): Promise<string>;
}

/** A token is renewed this long before it expires: the stable token rotates in its last 5 minutes. */
export const TOKEN_MARGIN_MS = 300_000;

export const isFresh = (cached: CachedToken | undefined, now: number): cached is CachedToken => cached !== undefined && cached.expiresAt - TOKEN_MARGIN_MS > now;

async function wechatJson(app: WechatApp, path: string, body: unknown): Promise<Record<string, unknown>> {
  try {
    const response = await fetch(new URL(path, app.apiOrigin), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const parsed: unknown = await response.json();
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new SignerError("wechat_unavailable", "WeChat's API could not be reached; retry shortly", {}, { cause: error });
  }
}

/** getStableAccessToken; `forceRefresh` only after WeChat refused the current one (it is limited to 20 a day). */
export async function fetchStableToken(app: WechatApp, forceRefresh: boolean, now: number): Promise<CachedToken> {
  const body = await wechatJson(app, "/cgi-bin/stable_token", { grant_type: "client_credential", appid: app.appId, secret: app.appSecret, force_refresh: forceRefresh });
  if (typeof body.access_token !== "string" || typeof body.expires_in !== "number") {
    throw new SignerError("wechat_unavailable", `WeChat gave no access token (errcode ${String(body.errcode ?? "none")}); check WX_APPID and WX_APPSECRET`);
  }
  return { token: body.access_token, expiresAt: now + body.expires_in * 1000 };
}

/** The errcodes that mean the token itself is no longer good: invalid (evicted) or expired. */
const TOKEN_REFUSED = new Set([40001, 42001]);

export type MediaType = 1 | 2;

export interface MediaCheck {
  readonly mediaUrl: string;
  /** 1 audio, 2 image. */
  readonly mediaType: MediaType;
  readonly openid: string;
  /** 1 profile, 2 comment, 3 forum, 4 social log. */
  readonly scene: number;
}

/** Why WeChat took no check: the openid has not used the Mini Program in 2 hours, or a limit of the appid. */
export class MediaCheckRefused extends Error {
  override readonly name = "MediaCheckRefused";
  constructor(readonly reason: "openid_expired" | "rate_limited" | "refused", readonly errcode: number) {
    super(`mediaCheckAsync refused the check (errcode ${errcode})`);
  }
}

/**
 * Submits one check; its trace_id. A token WeChat refuses (40001 evicted, 42001 expired) is replaced once, and the
 * check sent again; a second refusal is an error.
 */
export async function mediaCheckAsync(app: WechatApp, tokens: TokenSource, check: MediaCheck): Promise<string> {
  const body = { media_url: check.mediaUrl, media_type: check.mediaType, version: 2, openid: check.openid, scene: check.scene };
  let token = await tokens.token();
  for (let attempt = 1; ; attempt++) {
    const answer = await wechatJson(app, `/wxa/media_check_async?access_token=${encodeURIComponent(token)}`, body);
    const errcode = typeof answer.errcode === "number" ? answer.errcode : 0;
    if (errcode === 0 && typeof answer.trace_id === "string") return answer.trace_id;
    if (TOKEN_REFUSED.has(errcode) && attempt === 1) {
      token = await tokens.token(token);
      continue;
    }
    if (errcode === 61010) throw new MediaCheckRefused("openid_expired", errcode);
    // 45009: the appid's daily limit; 45011 / 45047 / -1: too fast or busy for now.
    if (errcode === 45009 || errcode === 45011 || errcode === 45047 || errcode === -1) throw new MediaCheckRefused("rate_limited", errcode);
    throw new MediaCheckRefused("refused", errcode);
  }
}
