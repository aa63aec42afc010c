/**
 * A local stand-in for WeChat's server API — not WeChat's service — for `npm run dev` and tests: code2Session
 * (`code-<name>` logs in `openid-<name>`, test/support/wechat-stub.ts), `POST /cgi-bin/stable_token` (one token per
 * appid until forced or evicted), and `POST /wxa/media_check_async` v2, which downloads `media_url` (so a URL the
 * Internet could not fetch fails here too), answers a trace_id and, after a delay, POSTs the verdict to the signer as
 * WeChat's message push in safe mode (WXBizMsgCrypt with node:crypto, independent of the signer's WebCrypto code).
 * The verdict comes from a marker in the file's bytes: `RISKY` → risky, `REVIEW` → review, else pass. An openid with
 * `expired` in it gets 61010 (not seen in 2 hours); `limit()` makes the next checks answer 45009 (daily limit);
 * `evict()` invalidates every token, as a call of the old `/cgi-bin/token` elsewhere would (40001).
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../test/support/wechat-stub.js";

export const STANDIN_PUSH_TOKEN = "standinPushToken42";
export const STANDIN_PUSH_AES_KEY = "StandInEncodingAESKey0123456789abcdefghijkl";

export interface Push {
  readonly query: string;
  readonly body: string;
  readonly traceId: string;
}

export interface WechatStandin {
  readonly url: string;
  readonly stats: { stableTokens: number; forcedRefreshes: number; checks: number };
  /** Every push built, oldest first (tests send one again to prove duplicates change nothing). */
  readonly pushes: Push[];
  /** Where pushes go: the signer's origin (`…/v1/wechat/push` is appended). */
  pushTo: string | undefined;
  delayMs: number;
  evict(): void;
  limit(count: number): void;
  /** Sends a push to the signer now; its status. */
  deliver(push: Push): Promise<number>;
  close(): Promise<void>;
}

/** WeChat's safe-mode sealing: AES-256-CBC, IV = key[0..16], 16 random bytes + length + message + appid, PKCS#7/32. */
export function sealPush(message: string, appId = STUB_APPID, encodingAesKey = STANDIN_PUSH_AES_KEY, token = STANDIN_PUSH_TOKEN) {
  const key = Buffer.from(`${encodingAesKey}=`, "base64");
  const text = Buffer.from(message);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length);
  const plain = Buffer.concat([randomBytes(16), length, text, Buffer.from(appId)]);
  const pad = 32 - (plain.length % 32);
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16)).setAutoPadding(false);
  const encrypted = Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString("base64");
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString("hex");
  const sha1 = (...parts: string[]) => createHash("sha1").update(parts.sort().join("")).digest("hex");
  const query = new URLSearchParams({ signature: sha1(token, timestamp, nonce), timestamp, nonce, encrypt_type: "aes", msg_signature: sha1(token, timestamp, nonce, encrypted) });
  return { query: query.toString(), body: JSON.stringify({ ToUserName: "gh_standin", Encrypt: encrypted }) };
}

export async function startWechatStandin(options: { port?: number; host?: string; delayMs?: number; log?: (line: string) => void } = {}): Promise<WechatStandin> {
  let tokens = new Set<string>();
  let current: string | undefined;
  let limited = 0;
  let traces = 0;
  const stats = { stableTokens: 0, forcedRefreshes: 0, checks: 0 };
  const pushes: Push[] = [];
  const json = (value: unknown) => new Response(JSON.stringify(value), { headers: { "Content-Type": "application/json" } });

  async function answer(url: URL, body: string): Promise<Response> {
    if (url.pathname === "/cgi-bin/stable_token") {
      const request = JSON.parse(body) as { appid?: string; secret?: string; force_refresh?: boolean };
      if (request.appid !== STUB_APPID || request.secret !== STUB_APPSECRET) return json({ errcode: 40125, errmsg: "invalid appsecret" });
      stats.stableTokens++;
      if (request.force_refresh) stats.forcedRefreshes++;
      if (!current || request.force_refresh || !tokens.has(current)) {
        current = `standin-token-${randomBytes(8).toString("hex")}`;
        tokens.add(current);
      }
      return json({ access_token: current, expires_in: 7200 });
    }
    if (url.pathname === "/wxa/media_check_async") {
      if (!tokens.has(url.searchParams.get("access_token") ?? "")) return json({ errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest" });
      const check = JSON.parse(body) as { media_url?: string; media_type?: number; version?: number; openid?: string; scene?: number };
      if (check.version !== 2 || !check.media_url || !check.openid || ![1, 2].includes(check.media_type ?? 0) || ![1, 2, 3, 4].includes(check.scene ?? 0)) {
        return json({ errcode: 47001, errmsg: "data format error" });
      }
      if (limited > 0) {
        limited--;
        return json({ errcode: 45009, errmsg: "reach max api daily quota limit" });
      }
      if (check.openid.includes("expired")) return json({ errcode: 61010, errmsg: "user access is expired" });
      const media = await fetch(check.media_url).catch(() => undefined);
      if (!media?.ok) return json({ errcode: 40006, errmsg: "invalid media size or media url" });
      const bytes = Buffer.from(await media.arrayBuffer()).toString("latin1");
      const suggest = bytes.includes("RISKY") ? "risky" : bytes.includes("REVIEW") ? "review" : "pass";
      stats.checks++;
      const traceId = `standin-trace-${++traces}-${randomBytes(4).toString("hex")}`;
      const event = {
        ToUserName: "gh_standin",
        FromUserName: check.openid,
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: "event",
        Event: "wxa_media_check",
        appid: STUB_APPID,
        trace_id: traceId,
        version: 2,
        detail: [{ strategy: "content_model", errcode: 0, suggest, label: suggest === "pass" ? 100 : 20002, prob: 90 }],
        errcode: 0,
        errmsg: "ok",
        result: { suggest, label: suggest === "pass" ? 100 : 20002 },
      };
      const push = { ...sealPush(JSON.stringify(event)), traceId };
      pushes.push(push);
      options.log?.(`media_check_async: ${suggest} for ${check.media_url.split("?")[0]} (trace_id ${traceId})`);
      setTimeout(
        () =>
          void standin.deliver(push).then(
            (status) => options.log?.(`pushed ${suggest} for ${traceId}: HTTP ${status}`),
            (error: Error) => options.log?.(`push for ${traceId} failed: ${error.message}`),
          ),
        standin.delayMs,
      ).unref();
      return json({ errcode: 0, errmsg: "ok", trace_id: traceId });
    }
    return wechatStub(new Request(`https://api.weixin.qq.com${url.pathname}${url.search}`));
  }

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await answer(new URL(req.url ?? "/", "http://standin"), Buffer.concat(chunks).toString("utf8")).catch(() => new Response("stand-in failed", { status: 500 }));
    res.writeHead(response.status, { "Content-Type": response.headers.get("Content-Type") ?? "text/plain" }).end(await response.text());
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", done));
  const address = server.address() as AddressInfo;
  const standin: WechatStandin = {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    stats,
    pushes,
    pushTo: undefined,
    delayMs: options.delayMs ?? 200,
    evict() {
      tokens = new Set();
    },
    limit(count) {
      limited = count;
    },
    async deliver(push) {
      if (!standin.pushTo) return 0;
      const response = await fetch(`${standin.pushTo}/v1/wechat/push?${push.query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: push.body });
      await response.text();
      return response.status;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  return standin;
}
