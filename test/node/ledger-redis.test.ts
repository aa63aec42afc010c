/**
 * The ledger on the Node/SCF host, the way it is deployed: two signer instances (real HTTP servers) sharing one real
 * redis-server, WeChat logins answered by the stub, uploads into the COS emulator. Concurrent signing never passes
 * a quota; the books survive a Redis restart; the sweep settles what nobody settled; two users never see each
 * other's files.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerConfig } from "../../worker/src/config/index.js";
import { type RedisClient, redisLedger, settleDue } from "../../worker/src/ledger/redis.js";
import { type NodeServer, startNodeServer } from "../../worker/src/hosts/node.js";
import { type RedisServer, startRedis } from "../support/redis-server.js";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../support/wechat-stub.js";
import { OLD_BUCKET, SECRET_ID, SECRET_KEY, startEmulator } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let wechat: Server;
let redis: RedisServer;
let client: RedisClient;
let env: Record<string, string>;
const servers: NodeServer[] = [];

interface Descriptor {
  key: string;
  url: string;
  headers: Record<string, string>;
}
interface Usage {
  profile: string;
  usedBytes: number;
  reservedBytes: number;
  quotaBytes: number | null;
  dailyUsedBytes: number;
  dailyBytes: number | null;
  files: number;
}

beforeAll(async () => {
  [emulator, redis] = await Promise.all([startEmulator(), startRedis()]);
  wechat = createServer(async (req, res) => {
    const answer = wechatStub(new Request(`https://api.weixin.qq.com${req.url}`));
    res.writeHead(answer.status, { "Content-Type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((done) => wechat.listen(0, "127.0.0.1", done));
  client = createClient({ url: redis.url });
  client.on("error", () => undefined);
  await client.connect();
  env = {
    COS_SECRET_ID: SECRET_ID,
    COS_SECRET_KEY: SECRET_KEY,
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    AUTH_MODE: "wechat",
    WX_APPID: STUB_APPID,
    WX_APPSECRET: STUB_APPSECRET,
    SESSION_SECRET: "ledger-test-session-secret-0123456789abcdef",
    WX_API_ORIGIN: `http://127.0.0.1:${(wechat.address() as AddressInfo).port}`,
    RECEIPT_SECRET: "ledger-test-receipt-secret-0123456789abcdef",
    UPLOAD_QUOTA_BYTES: "1000",
    UPLOAD_DAILY_BYTES: "1500",
    REDIS_URL: redis.url,
    UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name }, roomy: { bucket: OLD_BUCKET.name, keyPrefix: "roomy", quotaBytes: 100_000, dailyBytes: 100_000 } }),
  };
  for (let i = 0; i < 2; i++) servers.push(await startNodeServer({ env, port: 0, hostname: "127.0.0.1" }));
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await client?.close();
  await redis?.dispose();
  await emulator?.dispose();
  await new Promise((done) => wechat?.close(done));
});

/** A request to instance `i` (of two). */
async function post(i: number, path: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${servers[i % 2]!.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function login(name: string): Promise<string> {
  const { status, body } = await post(0, "/v1/session", { code: `code-${name}` }, "");
  expect(status).toBe(200);
  return body.token as string;
}

async function usage(token: string, profile = "default"): Promise<Usage> {
  const response = await fetch(`${servers[1]!.url}/v1/usage`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { profiles: Usage[] }).profiles.find((entry) => entry.profile === profile)!;
}

async function putTo(descriptor: Descriptor, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await fetch(descriptor.url, { method: "PUT", headers: descriptor.headers, body: new Blob([bytes]) });
  expect(response.status).toBe(200);
}

describe("the ledger in Redis, shared by two instances", () => {
  it("signs exactly 10 of 50 parallel uploads of 100 bytes for a quota of 1000, and says which limit refused", async () => {
    const token = await login("racer");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i, "/v1/uploads", { ext: "jpg", size: 100 }, token)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
    const refused = answers.filter((answer) => answer.status === 403);
    expect(refused).toHaveLength(40);
    for (const answer of refused) {
      expect(answer.body.error.code).toBe("quota_exceeded");
      expect(answer.body.error.message).toContain("0 are left of the quotaBytes limit of 1000 bytes");
    }
    expect(await usage(token)).toMatchObject({ usedBytes: 0, reservedBytes: 1000, quotaBytes: 1000, dailyUsedBytes: 1000, dailyBytes: 1500, files: 0 });
  });

  it("keeps a deleted reservation's bytes until its signature expires: the signed PUT could still land", async () => {
    const token = await login("delete-reserved");
    const signed = (await post(0, "/v1/uploads", { ext: "jpg", size: 1000 }, token)).body as Descriptor;
    expect((await post(1, "/v1/objects/delete", { key: signed.key }, token)).body).toEqual({ deleted: true });
    // Were the bytes freed, a second signature would fit while the first still uploads: 2000 bytes for a quota of 1000.
    expect((await post(0, "/v1/uploads", { ext: "jpg", size: 1000 }, token)).body.error).toMatchObject({ code: "quota_exceeded", message: expect.stringContaining("quotaBytes") });
    await putTo(signed, new Uint8Array(1000));
    expect(await usage(token)).toMatchObject({ reservedBytes: 1000 });
  });

  it("keeps its books across a Redis restart, and signs again once Redis is back", async () => {
    const token = await login("restart");
    expect((await post(0, "/v1/uploads", { ext: "jpg", size: 600 }, token)).status).toBe(200);
    await redis.restart();
    // The clients reconnect by themselves; a request while they do may fail.
    let refused: { status: number; body: any } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      refused = await post(1, "/v1/uploads", { ext: "jpg", size: 600 }, token).catch(() => undefined);
      if (refused?.status === 403) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    expect(refused?.body.error.code).toBe("quota_exceeded");
    expect(refused?.body.error.message).toContain("400 are left");
    expect((await usage(token)).reservedBytes).toBe(600);
  }, 20_000);

  it("commits the real size on a receipt, lists and deletes a user's own files only; a delete frees quota, not the day", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    const signed = (await post(0, "/v1/uploads", { ext: "jpg", method: "post" }, alice)).body as { key: string; fields: Record<string, string>; url: string };
    // A POST without a size holds what fits of the profile's limit: the policy is narrowed to the quota.
    const policy = JSON.parse(Buffer.from(signed.fields.policy!, "base64").toString()) as { conditions: unknown[] };
    expect(policy.conditions).toContainEqual(["content-length-range", 0, 1000]);
    const form = new FormData();
    for (const [name, value] of Object.entries(signed.fields)) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(321)], { type: "image/jpeg" }));
    expect((await fetch(signed.url, { method: "POST", body: form })).status).toBe(200);
    expect((await post(1, "/v1/uploads/receipt", { key: signed.key }, alice)).status).toBe(200);
    expect(await usage(alice)).toMatchObject({ usedBytes: 321, reservedBytes: 0, dailyUsedBytes: 321, files: 1 });

    const put = (await post(0, "/v1/uploads", { ext: "png", size: 7 }, alice)).body as Descriptor;
    const listed = (await post(1, "/v1/objects/list", {}, alice)).body as { objects: { key: string; size: number; state: string; contentType: string; createdAt: string }[] };
    expect(listed.objects.map((object) => [object.key, object.state, object.size])).toEqual([
      [put.key, "reserved", 7],
      [signed.key, "stored", 321],
    ]);
    expect(listed.objects[1]!.contentType).toBe("image/jpeg");
    expect((await post(0, "/v1/objects/list", {}, bob)).body).toEqual({ objects: [] });

    const foreign = await post(0, "/v1/objects/delete", { key: signed.key }, bob);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("key_not_allowed");
    expect((await fetch(`${emulator.url}/${OLD_BUCKET.name}/${signed.key}`, { method: "HEAD" })).status).not.toBe(404);

    expect((await post(1, "/v1/objects/delete", { key: signed.key }, alice)).body).toEqual({ deleted: true });
    expect(await usage(alice)).toMatchObject({ usedBytes: 0, reservedBytes: 7, dailyUsedBytes: 328, files: 0 });
    expect((await post(0, "/v1/objects/list", {}, alice)).body.objects.map((object: { key: string }) => object.key)).toEqual([put.key]);
    const again = await post(0, "/v1/objects/delete", { key: signed.key }, alice);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("object_not_found");
  });

  it("pages newest first with a cursor", async () => {
    const token = await login("pager");
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push(((await post(i, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 1 }, token)).body as Descriptor).key);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { body } = await post(page, "/v1/objects/list", { profile: "roomy", limit: 2, ...(cursor ? { cursor } : {}) }, token);
      seen.push(...body.objects.map((object: { key: string }) => object.key));
      cursor = body.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...keys].reverse());
    // The request schema passes a Durable Object's cursor (a row id); this engine did not give it.
    const foreign = await post(0, "/v1/objects/list", { profile: "roomy", cursor: "12" }, token);
    expect([foreign.status, foreign.body.error.code]).toEqual([400, "cursor_invalid"]);
  });

  it("settles what nobody settled: an unused signature is released, a silent upload is found and committed", async () => {
    const token = await login("silent");
    const unused = (await post(0, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 50 }, token)).body as Descriptor;
    const silent = (await post(1, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 40 }, token)).body as Descriptor;
    await putTo(silent, new Uint8Array(40));
    expect(await usage(token, "roomy")).toMatchObject({ reservedBytes: 90, usedBytes: 0 });

    // What the instances' sweeps run every 15 s, here at a time past the signatures' expiry and the settling delay.
    const profiles = signerConfig(env).profiles;
    const later = Date.now() + 11 * 60_000;
    const ledger = redisLedger(client);
    // Two sweeps at once, as from two instances: each entry is settled once.
    const counts = await Promise.all([settleDue(client, ledger, profiles, later, 1000), settleDue(client, ledger, profiles, later, 1000)]);
    expect(counts[0]! + counts[1]!).toBeGreaterThanOrEqual(2);
    expect(await usage(token, "roomy")).toMatchObject({ reservedBytes: 0, usedBytes: 40, dailyUsedBytes: 40, files: 1 });
    const listed = (await post(0, "/v1/objects/list", { profile: "roomy" }, token)).body.objects as { key: string; state: string }[];
    expect(listed).toEqual([expect.objectContaining({ key: silent.key, state: "stored", size: 40 })]);
    expect(listed.some((object) => object.key === unused.key)).toBe(false);
  });

  it("releases an aborted multipart upload's bytes and commits a completed one's", async () => {
    const token = await login("parts");
    const MiB = 1024 * 1024;
    const roomyEnv = { ...env, UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name, quotaBytes: 20 * MiB, dailyBytes: 100 * MiB } }) };
    const server = await startNodeServer({ env: roomyEnv, port: 0, hostname: "127.0.0.1" });
    try {
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as any };
      };
      const aborted = await call("/v1/multipart", { ext: "mp4", size: 12 * MiB });
      expect(aborted.status).toBe(200);
      const refused = await call("/v1/multipart", { ext: "mp4", size: 12 * MiB });
      expect(refused.body.error.code).toBe("quota_exceeded");
      expect((await call("/v1/multipart/abort", { token: aborted.body.token })).status).toBe(200);
      const started = await call("/v1/multipart", { ext: "mp4", size: 6 * MiB });
      expect(started.status).toBe(200);
      const { parts } = (await call("/v1/multipart/parts", { token: started.body.token, partNumbers: [1, 2] })).body as { parts: { url: string; headers: Record<string, string> }[] };
      for (const [i, part] of parts.entries()) expect((await fetch(part.url, { method: "PUT", headers: part.headers, body: new Uint8Array(i === 0 ? 5 * MiB : MiB) })).status).toBe(200);
      expect((await call("/v1/multipart/complete", { token: started.body.token })).status).toBe(200);
      const response = await fetch(`${server.url}/v1/usage`, { headers: { Authorization: `Bearer ${token}` } });
      const books = ((await response.json()) as { profiles: Usage[] }).profiles[0]!;
      expect(books).toMatchObject({ usedBytes: 6 * MiB, reservedBytes: 0, files: 1, dailyUsedBytes: 6 * MiB });
    } finally {
      await server.close();
    }
  }, 30_000);

  it("signs no SDK CompleteMultipartUpload whose parts add up to more than the Initiate reserved", async () => {
    const token = await login("sdk-parts");
    const MiB = 1024 * 1024;
    const sdkEnv = { ...env, SDK_ROUTES: "true", UPLOAD_MULTIPART_MAX_BYTES: String(20 * MiB), UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name, quotaBytes: 2 * MiB } }) };
    const server = await startNodeServer({ env: sdkEnv, port: 0, hostname: "127.0.0.1" });
    try {
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as any };
      };
      const { Key } = (await call("/v1/cos/keys", { ext: "mp4" })).body as { Key: string };
      const host = new URL(emulator.url).host;
      const pathname = `/${OLD_BUCKET.name}/${Key}`;
      const signed = async (Method: string, Query: Record<string, string>, Headers: Record<string, string> = {}) => {
        const answer = await call("/v1/cos/authorization", { Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region, Method, Key, Pathname: pathname, Query, Headers: { Host: host, ...Headers } });
        return answer;
      };
      const initiate = await signed("post", { uploads: "" }, { "x-cos-forbid-overwrite": "true" });
      expect(initiate.status).toBe(200);
      const started = await fetch(`${emulator.url}${pathname}?uploads`, { method: "POST", headers: { Authorization: initiate.body.Authorization, "x-cos-forbid-overwrite": "true" } });
      expect(started.status).toBe(200);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await started.text())![1]!;
      for (const [partNumber, size] of [[1, 2 * MiB], [2, MiB]] as const) {
        const part = await signed("put", { partNumber: String(partNumber), uploadId }, { "Content-Length": String(size) });
        expect(part.status).toBe(200);
        const sent = await fetch(`${emulator.url}${pathname}?partNumber=${partNumber}&uploadId=${uploadId}`, { method: "PUT", headers: { Authorization: part.body.Authorization }, body: new Uint8Array(size) });
        expect(sent.status).toBe(200);
      }
      // 3 MiB of parts for a reservation of 2 MiB (the quota): the Complete would put 3 MiB on the books.
      const complete = await signed("post", { uploadId });
      expect([complete.status, complete.body.error?.code]).toEqual([403, "quota_exceeded"]);
    } finally {
      await server.close();
    }
  }, 30_000);

  it("grants a reserved key again (an SDK's retry) and refuses a settled one, in the reservation's one script", async () => {
    const books = redisLedger(client).of("default", "redis-settled");
    const request = { key: "uploads/redis-settled/a.jpg", bytes: 300, contentType: "image/jpeg", expiresAt: Date.now() + 60_000, now: Date.now(), limits: { quotaBytes: 1000 } };
    expect(await books.reserve(request)).toEqual({ bytes: 300 });
    expect(await books.reserve({ ...request, bytes: 900 })).toEqual({ bytes: 300 });
    await books.commit(request.key, 200, "image/jpeg", Date.now());
    expect(await books.reserve(request)).toEqual({ settled: "stored" });
    expect(await books.usage(Date.now())).toEqual({ usedBytes: 200, reservedBytes: 0, dailyUsedBytes: 200, files: 1 });
  });

  it("counts the rate limits in Redis, across instances", async () => {
    const token = await login("limited");
    // SIGN_LIMITER: 60 a minute per user, whichever instance is asked (the window may turn over once meanwhile).
    const answers = await Promise.all(Array.from({ length: 130 }, (_, i) => post(i, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 1 }, token)));
    const signed = answers.filter((answer) => answer.status === 200).length;
    expect(signed).toBeGreaterThanOrEqual(60);
    expect(signed).toBeLessThanOrEqual(120);
    expect(answers.filter((answer) => answer.status === 429).length).toBe(130 - signed);
  });
});

describe("hosts without a store", () => {
  it("treat quotas as a configuration error and answer the ledger's routes with 501 ledger_off", async () => {
    const { REDIS_URL: _, ...noStore } = env;
    const server = await startNodeServer({ env: noStore, port: 0, hostname: "127.0.0.1" });
    const withoutQuotas = await startNodeServer({ env: { ...noStore, UPLOAD_QUOTA_BYTES: "", UPLOAD_DAILY_BYTES: "", UPLOAD_PROFILES: "" }, port: 0, hostname: "127.0.0.1" });
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(500);
      expect(((await health.json()) as { error: { code: string; message: string } }).error.message).toMatch(/^UPLOAD_QUOTA_BYTES needs a ledger store/);
      const off = await fetch(`${withoutQuotas.url}/v1/usage`, { headers: { Authorization: `Bearer ${await login("nostore")}` } });
      expect(off.status).toBe(501);
      expect(((await off.json()) as { error: { code: string } }).error.code).toBe("ledger_off");
    } finally {
      await Promise.all([server.close(), withoutQuotas.close()]);
    }
  });
});
