/** `POST /v1/session`'s domain: a wx.login() code exchanged with WeChat for the user's openid, then a session. */
import { issueSession, type Session, type WechatAuth } from "./session.js";
import { openidForCode } from "./wechat.js";

/** `withOpenid`: the session also carries the openid, sealed, for WeChat's content checks. */
export async function logIn(auth: WechatAuth, code: string, now: Date, withOpenid = false): Promise<Session> {
  return issueSession(auth, await openidForCode(auth, code), now, withOpenid);
}
