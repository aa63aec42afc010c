/**
 * Content moderation on the Node host, run against each of its stores (moderation-redis.test.ts,
 * moderation-sqlite.test.ts): real signer servers, the COS emulator, and the WeChat stand-in pushing its verdicts to
 * the last instance while another submitted the check. One access token for every instance, one forced refresh after
 * an eviction, one verdict per check however often it is pushed, and the sweep submits the check of an upload nobody
 * reported. And the desk's own contract, called directly.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { STANDIN_PUSH_AES_KEY, STANDIN_PUSH_TOKEN, startWechatStandin, type WechatStandin } from "../../emulator/wechat";
import { type NodeServer, startNodeServer } from "../../worker/src/hosts/node.js";
import type { ModerationDesk } from "../../worker/src/moderation/index.js";
import { STUB_APPID, STUB_APPSECRET } from "../support/wechat-stub.js";
import { startWebhookSink, type WebhookSink } from "../support/webhook-sink.js";
import { OLD_BUCKET, SECRET_ID, SECRET_KEY, startEmulator } from "./harness";
import type { NodeStoreUnderTest } from "./ledger-scenarios";

/** The scenarios, through the signers' HTTP API; registers their beforeAll and afterAll in the calling file. */
export function moderationScenarios(store: NodeStoreUnderTest): void {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let standin: WechatStandin;
  let webhook: WebhookSink;
  let env: Record<string, string>;
  const servers: NodeServer[] = [];

  beforeAll(async () => {
    let storeEnv: Record<string, string>;
    [emulator, standin, storeEnv] = await Promise.all([startEmulator(), startWechatStandin({ delayMs: 100 }), store.env()]);
    webhook = await startWebhookSink();
    env = {
      COS_SECRET_ID: SECRET_ID,
      COS_SECRET_KEY: SECRET_KEY,
      COS_BUCKET: OLD_BUCKET.name,
      COS_REGION: OLD_BUCKET.region,
      COS_ENDPOINT: emulator.url,
      AUTH_MODE: "wechat",
      WX_APPID: STUB_APPID,
      WX_APPSECRET: STUB_APPSECRET,
      SESSION_SECRET: "moderation-node-session-secret-0123456789abcdef",
      WX_API_ORIGIN: standin.url,
      WX_PUSH_TOKEN: STANDIN_PUSH_TOKEN,
      WX_PUSH_AES_KEY: STANDIN_PUSH_AES_KEY,
      UPLOAD_MODERATION: "wechat",
      UPLOAD_SIGNATURE_TTL_SECONDS: "10",
      RECEIPT_SECRET: "moderation-node-receipt-secret-0123456789abcdef",
      RECEIPT_WEBHOOK_URL: webhook.url,
      // Every upload here is an image WeChat checks: COS's callbacks (moderation-workerd.test.ts) are not needed.
      MODERATION_CALLBACK_URL: "http://127.0.0.1:9/v1/moderation/cos-callback",
      ...storeEnv,
    };
    for (let i = 0; i < store.instances; i++) servers.push(await startNodeServer({ env, port: 0, hostname: "127.0.0.1" }));
    standin.pushTo = servers.at(-1)!.url;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await store.dispose();
    await standin?.close();
    await emulator?.dispose();
    await webhook?.close();
  });

  async function post(i: number, path: string, body: unknown, token = ""): Promise<{ status: number; body: any }> {
    const response = await fetch(`${servers[i % servers.length]!.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  async function login(name: string): Promise<string> {
    const { status, body } = await post(0, "/v1/session", { code: `code-${name}` });
    expect(status).toBe(200);
    return body.token as string;
  }

  async function upload(i: number, token: string, content: string, receipt = true): Promise<string> {
    const bytes = new TextEncoder().encode(content);
    const signed = await post(i, "/v1/uploads", { ext: "jpg", size: bytes.length }, token);
    expect(signed.status).toBe(200);
    expect((await fetch(signed.body.url, { method: "PUT", headers: signed.body.headers, body: bytes })).status).toBe(200);
    if (receipt) expect((await post(i, "/v1/uploads/receipt", { key: signed.body.key }, token)).body.moderation).toBe("pending");
    return signed.body.key as string;
  }

  async function settles(token: string, key: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const { body } = await post(servers.length - 1, "/v1/objects/list", {}, token);
      const state = (body.objects as { key: string; state: string }[]).find((object) => object.key === key)?.state;
      if (state !== "pending" && state !== "reserved") return state!;
      await new Promise((done) => setTimeout(done, 100));
    }
    return "pending";
  }

  it("shares one access token: concurrent first checks on both instances fetch stable_token once", async () => {
    const token = await login("one-token");
    const keys = await Promise.all([0, 1, 0, 1].map((i) => upload(i, token, `picture ${i}`)));
    for (const key of keys) expect(await settles(token, key)).toBe("stored");
    expect(standin.stats.stableTokens).toBe(1);
  });

  it("an eviction (40001) seen by both instances at once makes exactly one forced refresh", async () => {
    const token = await login("evicted");
    standin.evict();
    const forced = standin.stats.forcedRefreshes;
    const keys = await Promise.all([0, 1, 0, 1].map((i) => upload(i, token, `after eviction ${i}`)));
    for (const key of keys) expect(await settles(token, key)).toBe("stored");
    expect(standin.stats.forcedRefreshes).toBe(forced + 1);
  });

  it("a push repeated to both instances at once applies its verdict once", async () => {
    const token = await login("duplicate");
    standin.delayMs = 60_000;
    const key = await upload(0, token, "RISKY");
    standin.delayMs = 100;
    const push = standin.pushes.at(-1)!;
    const answers = await Promise.all(
      [0, 1, 0, 1].map((i) => fetch(`${servers[i % servers.length]!.url}/v1/wechat/push?${push.query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: push.body })),
    );
    expect(await Promise.all(answers.map((answer) => answer.text()))).toEqual(["success", "success", "success", "success"]);
    expect(await settles(token, key)).toBe("blocked");
    await new Promise((done) => setTimeout(done, 300));
    const moderationEvents = webhook.events
      .map((body) => JSON.parse(body) as { event?: string; moderation?: string })
      .filter((body) => body.event === "moderation")
      .map((body) => JSON.parse(Buffer.from(body.moderation!.split(".")[1]!, "base64url").toString()) as { key: string; state: string });
    expect(moderationEvents.filter((event) => event.key === key)).toEqual([expect.objectContaining({ key, state: "blocked" })]);
    const refused = await post(0, "/v1/objects/url", { key }, token);
    expect(refused.status).toBe(403);
  });

  it("applies a verdict that arrives after a restart to the check submitted before it", async () => {
    const token = await login("restarted");
    standin.delayMs = 60_000;
    const key = await upload(0, token, "REVIEW me after the restart");
    standin.delayMs = 100;
    const push = standin.pushes.at(-1)!;
    await store.restart({
      async restart() {
        const count = servers.length;
        await Promise.all(servers.splice(0).map((server) => server.close()));
        for (let i = 0; i < count; i++) servers.push(await startNodeServer({ env, port: 0, hostname: "127.0.0.1" }));
        standin.pushTo = servers.at(-1)!.url;
      },
    });
    // WeChat pushes again until it is answered `success`; Redis's clients may still be reconnecting.
    let answer = "";
    for (const deadline = Date.now() + 10_000; answer !== "success" && Date.now() < deadline; ) {
      const response = await fetch(`${servers.at(-1)!.url}/v1/wechat/push?${push.query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: push.body }).catch(() => undefined);
      answer = (await response?.text()) ?? "";
      if (answer !== "success") await new Promise((done) => setTimeout(done, 200));
    }
    expect(answer).toBe("success");
    expect(await settles(token, key)).toBe("review");
  }, 20_000);

  it("the sweep settles an upload nobody reported into pending and submits its check", async () => {
    const token = await login("silent");
    const key = await upload(0, token, "silent but fine", false);
    const checks = standin.stats.checks;
    // 10 s signatures, settled a minute after they expire: the sweep run as it would run 2 minutes from now.
    expect(await servers[0]!.sweep(Date.now() + 120_000)).toBeGreaterThanOrEqual(1);
    expect(standin.stats.checks).toBe(checks + 1);
    expect(await settles(token, key)).toBe("stored");
  });
}

/** The desk's contract: `desks()` gives two handles on one desk (two instances' for Redis). */
export function deskContract(desks: () => [ModerationDesk, ModerationDesk]): void {
  const target = { profile: "default", user: "0123456789abcdef0123", key: "uploads/k.jpg" };

  it("hands a check's object out once across instances; a verdict that outran its tracking is kept for it", async () => {
    const [one, two] = desks();
    expect(await one.track("wx:once", target)).toBeUndefined();
    const claims = await Promise.all([one, two, one, two].map((desk) => desk.claim("wx:once", "pass")));
    expect(claims.filter((claim) => claim !== undefined)).toEqual([target]);
    await two.unclaim("wx:once");
    expect(await one.claim("wx:once", "pass")).toEqual(target);
    expect(await two.claim("wx:early", "review")).toBeUndefined();
    expect(await one.track("wx:early", target)).toBe("review");
    expect(await two.claim("wx:early", "review")).toBeUndefined();
  });
}
