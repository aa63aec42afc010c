/**
 * The moderation verdicts' way in: WeChat's message push (`GET /v1/wechat/push`, the console's server check;
 * `POST /v1/wechat/push`, the pushes) and COS moderation jobs' callbacks (`POST /v1/moderation/cos-callback`).
 * Each answers what its sender expects (`success`, the echostr); a refused push changes nothing and gets a 4xx.
 */
import type { Context } from "hono";
import { bodyUpTo } from "../http/body.js";
import { type AppEnv, configOf, inBackground, surface } from "../http/context.js";
import { ModerationError } from "../http/errors.js";
import { applyAuditCallback, applyVerdict, type Moderation } from "../moderation/index.js";
import { requestIdOf } from "../http/respond.js";
import { type PushKey, pushKey } from "../wechat/push-crypto.js";
import { mediaCheckVerdict, openPush, serverCheck } from "../wechat/push.js";

const keys = new Map<string, Promise<PushKey>>();
const keyOf = (encodingAesKey: string) => {
  let key = keys.get(encodingAesKey);
  if (!key) keys.set(encodingAesKey, (key = pushKey(encodingAesKey)));
  return key;
};

const pushBody = bodyUpTo(65_536);

function moderationOf(c: Context<AppEnv>): Moderation {
  const config = configOf(c);
  const ledger = c.get("ledger");
  const desk = c.get("desk");
  if (!ledger || !desk) throw new ModerationError("push_off", "moderation is off: this host has no ledger or moderation store");
  return { config, ledger, desk };
}

/** The webhook delivery goes on after the answer (Workers: waitUntil). */
function afterAnswer(c: Context<AppEnv>, work: Promise<void> | undefined): void {
  if (work) inBackground(c, work);
}

function pushToken(c: Context<AppEnv>): string {
  const token = configOf(c).moderation.pushToken;
  if (token === undefined) throw new ModerationError("push_off", "the message push is off: set WX_PUSH_TOKEN (and WX_PUSH_AES_KEY)");
  return token;
}

export const wechatPush = surface();

wechatPush.get("/v1/wechat/push", async (c) => c.text(await serverCheck(pushToken(c), new URL(c.req.url).searchParams)));

wechatPush.post("/v1/wechat/push", pushBody, async (c) => {
  const token = pushToken(c);
  const config = configOf(c);
  if (config.auth.mode !== "wechat") throw new ModerationError("push_off", "the message push needs AUTH_MODE=wechat and WX_APPID");
  const aesKey = config.moderation.pushAesKey;
  const event = await openPush({ token, key: aesKey === undefined ? undefined : await keyOf(aesKey), appId: config.auth.appId }, new URL(c.req.url).searchParams, await c.req.text());
  const verdict = mediaCheckVerdict(event, config.auth.appId);
  if (verdict) {
    const { delivery } = await applyVerdict(moderationOf(c), `wx:${verdict.traceId}`, verdict.suggest, requestIdOf(c));
    afterAnswer(c, delivery);
  }
  // Any other event, a repeat, or a check this signer did not submit: acknowledged, so WeChat stops sending it.
  return c.text("success");
});

wechatPush.post("/v1/moderation/cos-callback", pushBody, async (c) => {
  const kind = c.req.query("kind");
  if (kind !== "image" && kind !== "video" && kind !== "audio") throw new ModerationError("push_invalid", "kind must be image, video or audio");
  const body = await c.req.text();
  // JobId (Detail callbacks, XML or JSON) or data.trace_id (Simple callbacks); the verdict is read back from COS.
  const jobId = /"JobId"\s*:\s*"([\w-]{1,128})"/.exec(body)?.[1] ?? /<JobId>([\w-]{1,128})<\/JobId>/.exec(body)?.[1] ?? /"trace_id"\s*:\s*"([\w-]{1,128})"/.exec(body)?.[1];
  if (!jobId) throw new ModerationError("push_invalid", "the callback names no JobId");
  const { delivery } = await applyAuditCallback(moderationOf(c), kind, jobId, requestIdOf(c));
  afterAnswer(c, delivery);
  return c.text("success");
});
