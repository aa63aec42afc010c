/**
 * Content moderation end to end on Workers, the way `wrangler dev` runs it: the Worker of wrangler.toml (its LEDGER
 * and MODERATION Durable Objects) in workerd, uploads into the COS emulator (which also runs COS moderation jobs and
 * calls back), and the WeChat stand-in on loopback, which downloads each media_url and pushes its verdict in safe
 * mode. Nothing pending, in review or blocked is served; receipts, multipart completes and the ledger's own alarm all
 * submit checks.
 */
import { verify } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STANDIN_PUSH_AES_KEY, STANDIN_PUSH_TOKEN, startWechatStandin, type WechatStandin } from "../../emulator/wechat";
import { startWebhookSink, type WebhookSink } from "../support/webhook-sink.js";
import { OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const RECEIPT_SECRET = "moderation-test-receipt-secret-0123456789abcdef";
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let standin: WechatStandin;
let signer: RunningSigner;
let webhook: WebhookSink;
const silent = { token: "", key: "" };

beforeAll(async () => {
  [emulator, standin] = await Promise.all([startEmulator(), startWechatStandin({ delayMs: 100 })]);
  webhook = await startWebhookSink();
  const vars = {
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    AUTH_MODE: "wechat",
    WX_API_ORIGIN: standin.url,
    WX_PUSH_TOKEN: STANDIN_PUSH_TOKEN,
    WX_PUSH_AES_KEY: STANDIN_PUSH_AES_KEY,
    UPLOAD_MODERATION: "wechat",
    UPLOAD_READ: "owner",
    // `brief`: 10 s signatures, so that the ledger's alarm settles an unreported upload 70 s after signing.
    UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name }, brief: { bucket: OLD_BUCKET.name, keyPrefix: "brief", signatureTtlSeconds: 10 } }),
    UPLOAD_ALLOWED_EXTENSIONS: "jpg,png,mp4,pdf",
    RECEIPT_SECRET,
    RECEIPT_WEBHOOK_URL: webhook.url,
    MODERATION_CALLBACK_URL: "http://127.0.0.1:1/v1/moderation/cos-callback",
  };
  signer = await startSigner(vars);
  await signer.rebind({ ...vars, MODERATION_CALLBACK_URL: `${signer.url}/v1/moderation/cos-callback` });
  standin.pushTo = signer.url;
  // Uploaded and never reported: only the Durable Object's alarm can settle it and submit its check.
  silent.token = await login("mod-silent");
  const bytes = new TextEncoder().encode("silent picture");
  const signed = await post("/v1/uploads", { profile: "brief", ext: "jpg", size: bytes.length }, silent.token);
  expect((await fetch(signed.body.url, { method: "PUT", headers: signed.body.headers, body: bytes })).status).toBe(200);
  silent.key = signed.body.key;
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await standin?.close();
  await emulator?.dispose();
  await webhook?.close();
});

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${signer.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function login(name: string): Promise<string> {
  const { status, body } = await post("/v1/session", { code: `code-${name}` });
  expect(status).toBe(200);
  return body.token as string;
}

/** Signs, PUTs `content`, and asks for the receipt: its answer. */
async function upload(token: string, content: string, ext = "jpg"): Promise<{ key: string; moderation: string }> {
  const bytes = new TextEncoder().encode(content);
  const signed = await post("/v1/uploads", { ext, size: bytes.length }, token);
  expect(signed.status).toBe(200);
  expect((await fetch(signed.body.url, { method: "PUT", headers: signed.body.headers, body: bytes })).status).toBe(200);
  const receipt = await post("/v1/uploads/receipt", { key: signed.body.key }, token);
  expect(receipt.status).toBe(200);
  return { key: signed.body.key, moderation: receipt.body.moderation };
}

async function stateOf(token: string, key: string, profile = "default"): Promise<string> {
  const { body } = await post("/v1/objects/list", { profile }, token);
  return (body.objects as { key: string; state: string }[]).find((object) => object.key === key)!.state;
}

async function settles(token: string, key: string, from = "pending"): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const state = await stateOf(token, key);
    if (state !== from) return state;
    await new Promise((done) => setTimeout(done, 100));
  }
  return from;
}

const readUrl = (token: string, key: string) => post("/v1/objects/url", { key, expiresIn: 300 }, token);

describe("content moderation on Workers", () => {
  it("pass: pending and refused until WeChat's pushed verdict, then stored and served; one token for every check", async () => {
    const token = await login("mod-pass");
    const { key, moderation } = await upload(token, "a harmless picture");
    expect(moderation).toBe("pending");
    const pending = await readUrl(token, key);
    expect([pending.status, pending.body.error.code]).toEqual([403, "moderation_pending"]);
    expect(await settles(token, key)).toBe("stored");
    const read = await readUrl(token, key);
    expect(read.status).toBe(200);
    expect(await (await fetch(read.body.url)).text()).toBe("a harmless picture");
    await upload(token, "another one");
    expect(standin.stats.stableTokens).toBe(1);
    const event = webhook.events.map((body) => JSON.parse(body) as { event?: string; moderation?: string }).find((body) => body.event === "moderation");
    const claims = await verify(event!.moderation!, RECEIPT_SECRET, "HS256");
    expect(claims).toMatchObject({ event: "moderation", key, state: "stored", aud: "cos-edge-signer/moderation" });
    expect(webhook.events.join("\n")).not.toContain("openid-mod-pass");
  });

  it("risky: blocked, refused by every route, made private on COS; a repeated push changes nothing", async () => {
    const token = await login("mod-risky");
    const { key } = await upload(token, "RISKY content");
    expect(await settles(token, key)).toBe("blocked");
    const refused = await readUrl(token, key);
    expect([refused.status, refused.body.error.code]).toEqual([403, "moderation_blocked"]);
    // The bucket itself no longer serves it to anyone without a signature.
    expect((await fetch(`${emulator.url}/${OLD_BUCKET.name}/${key}`)).status).toBe(403);
    const before = webhook.events.length;
    const push = standin.pushes.at(-1)!;
    const again = await fetch(`${signer.url}/v1/wechat/push?${push.query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: push.body });
    expect([again.status, await again.text()]).toEqual([200, "success"]);
    expect(await stateOf(token, key)).toBe("blocked");
    await new Promise((done) => setTimeout(done, 200));
    expect(webhook.events.length).toBe(before);
  });

  it("review: kept from everyone until a human decides", async () => {
    const token = await login("mod-review");
    const { key } = await upload(token, "REVIEW me");
    expect(await settles(token, key)).toBe("review");
    const refused = await readUrl(token, key);
    expect([refused.status, refused.body.error.code]).toEqual([403, "moderation_review"]);
  });

  it("a forged push gets a 4xx and changes nothing", async () => {
    const token = await login("mod-forged");
    standin.delayMs = 60_000;
    const { key } = await upload(token, "RISKY but the real push is late");
    const real = standin.pushes.at(-1)!;
    standin.delayMs = 100;
    const query = new URLSearchParams(real.query);
    query.set("msg_signature", "0".repeat(40));
    const forged = await fetch(`${signer.url}/v1/wechat/push?${query}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: real.body });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("push_signature_invalid");
    expect(await stateOf(token, key)).toBe("pending");
    // The server check of the console: the echostr only for the right signature.
    const check = await fetch(`${signer.url}/v1/wechat/push?signature=${"1".repeat(40)}&timestamp=1&nonce=2&echostr=hello`);
    expect(check.status).toBe(401);
    expect(await standin.deliver(real)).toBe(200);
    expect(await stateOf(token, key)).toBe("blocked");
  });

  it("an openid WeChat no longer takes (61010) goes to COS moderation instead", async () => {
    const token = await login("mod-expired");
    const jobs = emulator.auditJobs.jobs.size;
    const { key, moderation } = await upload(token, "fine picture");
    expect(moderation).toBe("pending");
    expect(await settles(token, key)).toBe("stored");
    expect(emulator.auditJobs.jobs.size).toBe(jobs + 1);
  });

  it("an evicted token (40001) is replaced by exactly one forced refresh", async () => {
    const token = await login("mod-evicted");
    standin.evict();
    const forced = standin.stats.forcedRefreshes;
    const { key } = await upload(token, "after eviction");
    expect(await settles(token, key)).toBe("stored");
    expect(standin.stats.forcedRefreshes).toBe(forced + 1);
  });

  it("WeChat's rate limit leaves the object pending and unsubmitted; the next receipt submits it", async () => {
    const token = await login("mod-limited");
    standin.limit(1);
    const checks = standin.stats.checks;
    const { key, moderation } = await upload(token, "limited");
    expect(moderation).toBe("pending");
    await new Promise((done) => setTimeout(done, 300));
    expect(await stateOf(token, key)).toBe("pending");
    expect(standin.stats.checks).toBe(checks);
    expect((await post("/v1/uploads/receipt", { key }, token)).body.moderation).toBe("pending");
    expect(await settles(token, key)).toBe("stored");
  });

  it("video goes through a COS moderation job and its callback", async () => {
    const token = await login("mod-video");
    const jobs = emulator.auditJobs.jobs.size;
    const { key } = await upload(token, "RISKY video bytes", "mp4");
    expect(await settles(token, key)).toBe("blocked");
    expect([...emulator.auditJobs.jobs.values()].slice(jobs).map((job) => [job.kind, job.key])).toEqual([["video", key]]);
    const forgedCallback = await fetch(`${signer.url}/v1/moderation/cos-callback?kind=video`, { method: "POST", body: JSON.stringify({ data: { trace_id: "avforged0000" } }) });
    expect(forgedCallback.status).toBe(200);
  });

  it("a multipart upload's complete settles it pending and submits its check", async () => {
    const token = await login("mod-multipart");
    const bytes = new TextEncoder().encode("a small video in one part");
    const started = await post("/v1/multipart", { ext: "mp4", size: bytes.length }, token);
    expect(started.status).toBe(200);
    const [part] = started.body.parts as { url: string; headers: Record<string, string> }[];
    expect((await fetch(part!.url, { method: "PUT", headers: part!.headers, body: bytes })).status).toBe(200);
    const completed = await post("/v1/multipart/complete", { token: started.body.token }, token);
    expect([completed.status, completed.body.moderation]).toEqual([200, "pending"]);
    expect(await settles(token, started.body.key)).toBe("stored");
  });

  it("the ledger's own settling (the Durable Object's alarm) finds the unreported upload and submits its check", async () => {
    let state = "reserved";
    for (const deadline = Date.now() + 100_000; Date.now() < deadline && (state === "reserved" || state === "pending"); ) {
      await new Promise((done) => setTimeout(done, 1000));
      state = await stateOf(silent.token, silent.key, "brief");
    }
    expect(state).toBe("stored");
    const read = await post("/v1/objects/url", { profile: "brief", key: silent.key }, silent.token);
    expect(read.status).toBe(200);
    expect(await (await fetch(read.body.url)).text()).toBe("silent picture");
  }, 110_000);
});
