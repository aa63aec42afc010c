/**
 * WeChat login: `code2Session` exchanges the code from `wx.login()` for the user's openid
 * (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html).
 * The session_key it also returns is never kept, returned or logged.
 */
import type { AuthConfig } from "../config/index.js";
import { SignerError } from "../http/errors.js";

/** code2Session's path on WeChat's API origin (WX_API_ORIGIN). */
export const CODE2SESSION_PATH = "/sns/jscode2session";

interface Code2SessionResponse {
  openid?: string;
  session_key?: string;
  errcode?: number;
  errmsg?: string;
}

/** WeChat's error codes → ours: the user's code (40029, 40163), WeChat's limits (45011), a blocked user (40226). */
function wechatError(errcode: number): SignerError {
  switch (errcode) {
    case 40029:
    case 40163:
      return new SignerError("wechat_code_invalid", "the login code is invalid or already used: call wx.login() again");
    case 45011:
      return new SignerError("wechat_rate_limited", "WeChat is limiting logins for this user; retry in a minute", { "Retry-After": "60" });
    case 40226:
      return new SignerError("wechat_user_blocked", "WeChat flags this user as high-risk; login refused");
    case -1:
      return new SignerError("wechat_unavailable", "WeChat is busy; retry shortly");
    default:
      return new SignerError("wechat_unavailable", `WeChat refused the login (errcode ${errcode}); check WX_APPID and WX_APPSECRET`);
  }
}

/** The openid behind a `wx.login()` code. */
export async function openidForCode(auth: Extract<AuthConfig, { mode: "wechat" }>, code: string): Promise<string> {
  const url = new URL(CODE2SESSION_PATH, auth.wechatApiOrigin);
  url.search = new URLSearchParams({ appid: auth.appId, secret: auth.appSecret, js_code: code, grant_type: "authorization_code" }).toString();
  let body: Code2SessionResponse;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const parsed: unknown = await response.json();
    // JSON that is not an object (null, a number, a list) is as useless as no answer.
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    body = parsed as Code2SessionResponse;
  } catch {
    throw new SignerError("wechat_unavailable", "WeChat's login service could not be reached; retry shortly");
  }
  if (body.errcode) throw wechatError(body.errcode);
  if (typeof body.openid !== "string" || body.openid === "") throw new SignerError("wechat_unavailable", "WeChat's login answer had no openid");
  return body.openid;
}
