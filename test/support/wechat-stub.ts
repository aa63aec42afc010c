/**
 * A stand-in for WeChat's code2Session endpoint, for tests only: the Worker's outbound fetches are routed here, so
 * no test ever reaches api.weixin.qq.com. Codes: `code-<name>` logs in user <name> (openid `openid-<name>`);
 * `used` → 40163, `rate` → 45011, `risky` → 40226, `busy` → -1, `down` → HTTP 503, `null` → the JSON `null`;
 * anything else → 40029.
 */
export const STUB_APPID = "wx0123456789abcdef";
export const STUB_APPSECRET = "stub-wechat-app-secret-never-shown";

export function wechatStub(request: Request): Response {
  const url = new URL(request.url);
  if (url.hostname !== "api.weixin.qq.com" || url.pathname !== "/sns/jscode2session") {
    return new Response("tests may not reach the network", { status: 599 });
  }
  if (url.searchParams.get("appid") !== STUB_APPID || url.searchParams.get("secret") !== STUB_APPSECRET) {
    return Response.json({ errcode: 40125, errmsg: "invalid appsecret" });
  }
  const code = url.searchParams.get("js_code") ?? "";
  const errors: Record<string, number> = { used: 40163, rate: 45011, risky: 40226, busy: -1 };
  if (code === "down") return new Response("unavailable", { status: 503 });
  if (code === "null") return Response.json(null);
  if (Object.hasOwn(errors, code)) return Response.json({ errcode: errors[code], errmsg: "stub" });
  const user = /^code-([A-Za-z0-9_-]+)$/.exec(code)?.[1];
  if (!user) return Response.json({ errcode: 40029, errmsg: "invalid code" });
  return Response.json({ openid: `openid-${user}`, session_key: `session-key-of-${user}-never-shown` });
}
