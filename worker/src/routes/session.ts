/** `POST /v1/session`: a wx.login() code for a session token (AUTH_MODE=wechat only). */
import { createMiddleware } from "hono/factory";
import { logIn } from "../auth/login.js";
import type { WechatAuth } from "../auth/session.js";
import { readJson, smallBody } from "../http/body.js";
import { limitedPerAddress, servedWhen } from "../http/caller.js";
import { type AppEnv, configOf, surface } from "../http/context.js";
import { respond } from "../http/respond.js";
import { parseBody, SessionRequest } from "../schemas/requests.js";

type SessionEnv = AppEnv & { Variables: { code: string } };

/** The body's login code: read before the limit, so that malformed requests use up no one's logins. */
const loginCode = createMiddleware<SessionEnv>(async (c, next) => {
  c.set("code", parseBody(SessionRequest, await readJson(c), '{"code":"<the code from wx.login()>"}').code);
  await next();
});

const sessionsOn = servedWhen((config) => config.auth.mode === "wechat", "not_found", () => "sessions are off: AUTH_MODE=none signs for anyone");

export const sessionRoutes = surface().post(
  "/v1/session",
  smallBody,
  sessionsOn,
  loginCode,
  // Counted once the request could reach WeChat.
  limitedPerAddress("SESSION_LIMITER"),
  async (c) => {
    // sessionsOn let only AUTH_MODE=wechat through.
    const config = configOf(c);
    const auth = config.auth as WechatAuth;
    // The openid rides in the token, sealed, only where a profile moderates with WeChat (docs/moderation.md).
    return respond(c, await logIn(auth, c.var.code, new Date(), [...config.profiles.values()].some((profile) => profile.moderation === "wechat")));
  },
);
