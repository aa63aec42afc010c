/**
 * The ledger's scenarios on the Node host, run against each of its stores (ledger-redis.test.ts, ledger-sqlite.test.ts):
 * real signer servers (startNodeServer), WeChat logins answered by the stub, uploads into the COS emulator. Concurrent
 * signing never passes a quota; the books survive a restart; the sweep settles what nobody settled; two users never
 * see each other's files. And the engine's own contract (books.ts), called directly.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Ledger } from "../../worker/src/ledger/index.js";
import { type NodeServer, startNodeServer } from "../../worker/src/hosts/node.js";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../support/wechat-stub.js";
import { OLD_BUCKET, SECRET_ID, SECRET_KEY, startEmulator } from "./harness";

export interface Descriptor {
  key: string;
  url: string;
  headers: Record<string, string>;
}
export interface Usage {
  profile: string;
  usedBytes: number;
  reservedBytes: number;
  quotaBytes: number | null;
  dailyUsedBytes: number;
  dailyBytes: number | null;
  files: number;
}

export interface NodeStoreUnderTest {
  /** The variables that give the signer this store (REDIS_URL, LEDGER_SQLITE_PATH); called in beforeAll. */
  readonly env: () => Promise<Record<string, string>>;
  /** Signer instances sharing the store: 2 for Redis, 1 for a SQLite file. */
  readonly instances: number;
  /** What restarting means for this store: Redis restarts itself; a SQLite file is reopened by new signers. */
  readonly restart: (signers: { restart(): Promise<void> }) => Promise<void>;
  readonly dispose: () => Promise<void>;
}

/** A running Node-host test bed: the emulator, the WeChat stub and the signers, with requests spread over them. */
export interface Bed {
  readonly env: Record<string, string>;
  readonly servers: NodeServer[];
  readonly emulator: Awaited<ReturnType<typeof startEmulator>>;
  post(i: number, path: string, body: unknown, token: string): Promise<{ status: number; body: any }>;
  login(name: string): Promise<string>;
  usage(token: string, profile?: string): Promise<Usage>;
}

/** The bed for one store; registers its beforeAll and afterAll in the calling file. */
export function nodeBed(store: NodeStoreUnderTest): Bed {
  let wechat: Server;
  const bed = { servers: [] as NodeServer[] } as { -readonly [K in keyof Bed]: Bed[K] };
  beforeAll(async () => {
    const [emulator, storeEnv] = await Promise.all([startEmulator(), store.env()]);
    bed.emulator = emulator;
    wechat = createServer(async (req, res) => {
      const answer = wechatStub(new Request(`https://api.weixin.qq.com${req.url}`));
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(await answer.text());
    });
    await new Promise<void>((done) => wechat.listen(0, "127.0.0.1", done));
    bed.env = {
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
      UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name }, roomy: { bucket: OLD_BUCKET.name, keyPrefix: "roomy", quotaBytes: 100_000, dailyBytes: 100_000 } }),
      ...storeEnv,
    };
    for (let i = 0; i < store.instances; i++) bed.servers.push(await startNodeServer({ env: bed.env, port: 0, hostname: "127.0.0.1" }));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(bed.servers.map((server) => server.close()));
    await store.dispose();
    await bed.emulator?.dispose();
    await new Promise((done) => wechat?.close(done));
  });
  bed.post = async (i, path, body, token) => {
    const response = await fetch(`${bed.servers[i % bed.servers.length]!.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  bed.login = async (name) => {
    const { status, body } = await bed.post(0, "/v1/session", { code: `code-${name}` }, "");
    expect(status).toBe(200);
    return body.token as string;
  };
  bed.usage = async (token, profile = "default") => {
    const response = await fetch(`${bed.servers.at(-1)!.url}/v1/usage`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { profiles: Usage[] }).profiles.find((entry) => entry.profile === profile)!;
  };
  return bed;
}

async function putTo(descriptor: Descriptor, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
  const response = await fetch(descriptor.url, { method: "PUT", headers: descriptor.headers, body: new Blob([bytes]) });
  expect(response.status).toBe(200);
}

/** The scenarios every store of the Node host passes, through its signers' HTTP API. */
export function ledgerScenarios(bed: Bed, store: NodeStoreUnderTest): void {
  const { post, login, usage } = bed;

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

  it("keeps its books across a restart, and signs again after it", async () => {
    const token = await login("restart");
    expect((await post(0, "/v1/uploads", { ext: "jpg", size: 600 }, token)).status).toBe(200);
    await store.restart({
      async restart() {
        const count = bed.servers.length;
        await Promise.all(bed.servers.splice(0).map((server) => server.close()));
        for (let i = 0; i < count; i++) bed.servers.push(await startNodeServer({ env: bed.env, port: 0, hostname: "127.0.0.1" }));
      },
    });
    // Redis's clients reconnect by themselves; a request while they do may fail.
    let refused: { status: number; body: any } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      refused = await post(1, "/v1/uploads", { ext: "jpg", size: 600 }, token).catch(() => undefined);
      if (refused?.status === 403) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    expect(refused?.body.error.code).toBe("quota_exceeded");
    expect(refused?.body.error.message).toContain("400 are left");
    expect((await usage(token)).reservedBytes).toBe(600);
    expect((await post(0, "/v1/uploads", { ext: "jpg", size: 400 }, token)).status).toBe(200);
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
    expect(await usage(bob)).toMatchObject({ usedBytes: 0, reservedBytes: 0, dailyUsedBytes: 0, files: 0 });

    const foreign = await post(0, "/v1/objects/delete", { key: signed.key }, bob);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("key_not_allowed");
    expect((await fetch(`${bed.emulator.url}/${OLD_BUCKET.name}/${signed.key}`, { method: "HEAD" })).status).not.toBe(404);

    expect((await post(1, "/v1/objects/delete", { key: signed.key }, alice)).body).toEqual({ deleted: true });
    expect(await usage(alice)).toMatchObject({ usedBytes: 0, reservedBytes: 7, dailyUsedBytes: 328, files: 0 });
    expect((await post(0, "/v1/objects/list", {}, alice)).body.objects.map((object: { key: string }) => object.key)).toEqual([put.key]);
    const again = await post(0, "/v1/objects/delete", { key: signed.key }, alice);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("object_not_found");
  });

  it("pages newest first with a cursor, and refuses one it did not give", async () => {
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
    expect(await usage(token, "roomy")).toMatchObject({ reservedBytes: 90, usedBytes: 0, dailyUsedBytes: 90 });

    // What the signers' timers run every 15 s, here at a time past the signatures' expiry and the settling delay; two at
    // once, from the first and the last instance: each entry is settled once.
    const later = Date.now() + 11 * 60_000;
    const counts = await Promise.all([bed.servers[0]!.sweep(later), bed.servers.at(-1)!.sweep(later)]);
    expect(counts[0]! + counts[1]!).toBeGreaterThanOrEqual(2);
    // The released reservation takes its bytes of the day back; the committed one counts its real size.
    expect(await usage(token, "roomy")).toMatchObject({ reservedBytes: 0, usedBytes: 40, dailyUsedBytes: 40, files: 1 });
    const listed = (await post(0, "/v1/objects/list", { profile: "roomy" }, token)).body.objects as { key: string; state: string }[];
    expect(listed).toEqual([expect.objectContaining({ key: silent.key, state: "stored", size: 40 })]);
    expect(listed.some((object) => object.key === unused.key)).toBe(false);
  });

  it("releases an aborted multipart upload's bytes and commits a completed one's", async () => {
    const token = await login("parts");
    const MiB = 1024 * 1024;
    const roomyEnv = { ...bed.env, UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name, quotaBytes: 20 * MiB, dailyBytes: 100 * MiB } }) };
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
    const sdkEnv = { ...bed.env, SDK_ROUTES: "true", UPLOAD_MULTIPART_MAX_BYTES: String(20 * MiB), UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name, quotaBytes: 2 * MiB } }) };
    const server = await startNodeServer({ env: sdkEnv, port: 0, hostname: "127.0.0.1" });
    try {
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as any };
      };
      const { Key } = (await call("/v1/cos/keys", { ext: "mp4" })).body as { Key: string };
      const host = new URL(bed.emulator.url).host;
      const pathname = `/${OLD_BUCKET.name}/${Key}`;
      const signed = (Method: string, Query: Record<string, string>, Headers: Record<string, string> = {}) =>
        call("/v1/cos/authorization", { Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region, Method, Key, Pathname: pathname, Query, Headers: { Host: host, ...Headers } });
      const initiate = await signed("post", { uploads: "" }, { "x-cos-forbid-overwrite": "true" });
      expect(initiate.status).toBe(200);
      const started = await fetch(`${bed.emulator.url}${pathname}?uploads`, { method: "POST", headers: { Authorization: initiate.body.Authorization, "x-cos-forbid-overwrite": "true" } });
      expect(started.status).toBe(200);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await started.text())![1]!;
      for (const [partNumber, size] of [[1, 2 * MiB], [2, MiB]] as const) {
        const part = await signed("put", { partNumber: String(partNumber), uploadId }, { "Content-Length": String(size) });
        expect(part.status).toBe(200);
        const sent = await fetch(`${bed.emulator.url}${pathname}?partNumber=${partNumber}&uploadId=${uploadId}`, { method: "PUT", headers: { Authorization: part.body.Authorization }, body: new Uint8Array(size) });
        expect(sent.status).toBe(200);
      }
      // 3 MiB of parts for a reservation of 2 MiB (the quota): the Complete would put 3 MiB on the books.
      const complete = await signed("post", { uploadId });
      expect([complete.status, complete.body.error?.code]).toEqual([403, "quota_exceeded"]);
    } finally {
      await server.close();
    }
  }, 30_000);
}

/** The engine's contract (books.ts), called directly on fresh books of `ledger()`. */
export function ledgerContract(ledger: () => Ledger): void {
  const DAY = Date.UTC(2026, 5, 1, 12);
  // Signatures that expire long after any sweep of the scenarios looks: these books are the test's alone.
  const request = (key: string, bytes: number, now = DAY) => ({ key, bytes, contentType: "image/jpeg", expiresAt: Date.now() + 86_400_000, now, limits: { quotaBytes: 1000, dailyBytes: 1500 } });
  let n = 0;
  const fresh = (profile = "default") => ledger().of(profile, `contract-${++n}-${Math.random().toString(36).slice(2)}`);

  it("grants a reserved key again (an SDK's retry) and refuses a settled one, in the reservation's one step", async () => {
    const books = fresh();
    expect(await books.reserve(request("a.jpg", 300))).toEqual({ bytes: 300 });
    expect(await books.reserve({ ...request("a.jpg", 300), bytes: 900 })).toEqual({ bytes: 300 });
    expect(await books.commit("a.jpg", 200, "image/jpeg", DAY)).toBe("reserved");
    expect(await books.reserve(request("a.jpg", 300))).toEqual({ settled: "stored" });
    expect(await books.usage(DAY)).toEqual({ usedBytes: 200, reservedBytes: 0, dailyUsedBytes: 200, files: 1 });
  });

  it("refuses by the tighter limit, shrinks a POST to what is left, and counts each UTC day apart", async () => {
    const books = fresh();
    expect(await books.reserve(request("a.jpg", 700))).toEqual({ bytes: 700 });
    expect(await books.reserve(request("b.jpg", 400))).toEqual({ refused: "quotaBytes", left: 300, limit: 1000 });
    expect(await books.reserve({ ...request("b.jpg", 400), shrink: true })).toEqual({ bytes: 300 });
    expect(await books.reserve(request("c.jpg", 1))).toEqual({ refused: "quotaBytes", left: 0, limit: 1000 });
    await books.remove("a.jpg");
    await books.remove("b.jpg");
    // The quota is free again, not the day: 1000 of 1500 bytes signed today.
    expect(await books.reserve(request("d.jpg", 600))).toEqual({ refused: "dailyBytes", left: 500, limit: 1500 });
    const tomorrow = DAY + 86_400_000;
    expect(await books.reserve(request("d.jpg", 600, tomorrow))).toEqual({ bytes: 600 });
    expect(await books.usage(tomorrow)).toEqual({ usedBytes: 0, reservedBytes: 600, dailyUsedBytes: 600, files: 0 });
    expect(await books.usage(DAY)).toMatchObject({ dailyUsedBytes: 1000 });
    expect(await books.reserve({ ...request("e.jpg", 1), limits: {} })).toEqual({ bytes: 1 });
  });

  it("commits a reservation's real size into the day, a stored object's new size, and an unknown key as new", async () => {
    const books = fresh();
    await books.reserve(request("a.jpg", 500));
    expect(await books.commit("a.jpg", 120, "image/png", DAY + 1000, "pending")).toBe("reserved");
    expect(await books.get("a.jpg")).toEqual({ key: "a.jpg", size: 120, contentType: "image/png", createdAt: new Date(DAY).toISOString(), state: "pending" });
    expect(await books.usage(DAY)).toEqual({ usedBytes: 120, reservedBytes: 0, dailyUsedBytes: 120, files: 1 });
    // A stored object takes its new size and keeps its state; the day is not touched.
    expect(await books.commit("a.jpg", 150, "image/png", DAY + 2000)).toBe("pending");
    expect(await books.get("a.jpg")).toMatchObject({ size: 150, state: "pending" });
    expect(await books.commit("b.jpg", 30, "text/plain", DAY + 3000)).toBeUndefined();
    expect(await books.get("b.jpg")).toEqual({ key: "b.jpg", size: 30, contentType: "text/plain", createdAt: new Date(DAY + 3000).toISOString(), state: "stored" });
    expect(await books.usage(DAY)).toEqual({ usedBytes: 180, reservedBytes: 0, dailyUsedBytes: 120, files: 2 });
  });

  it("releases a reservation with its bytes of the day, leaves a stored object alone, and removes either", async () => {
    const books = fresh();
    await books.reserve(request("a.jpg", 500));
    await books.reserve(request("b.jpg", 200));
    await books.commit("b.jpg", 200, "image/jpeg", DAY);
    await books.release("a.jpg");
    await books.release("b.jpg");
    await books.release("never.jpg");
    expect(await books.get("a.jpg")).toBeUndefined();
    expect(await books.usage(DAY)).toEqual({ usedBytes: 200, reservedBytes: 0, dailyUsedBytes: 200, files: 1 });
    expect(await books.remove("b.jpg")).toBe(true);
    expect(await books.remove("b.jpg")).toBe(false);
    expect(await books.usage(DAY)).toEqual({ usedBytes: 0, reservedBytes: 0, dailyUsedBytes: 200, files: 0 });
  });

  it("moderates settled objects only, and keeps the sealed openid and the check for checkOf", async () => {
    const books = fresh();
    await books.reserve({ ...request("a.jpg", 10), sealedOpenid: "sealed-openid" });
    expect(await books.moderate("a.jpg", "blocked")).toBe(false);
    expect(await books.checkOf("a.jpg")).toEqual({ sealedOpenid: "sealed-openid", checkId: undefined });
    await books.commit("a.jpg", 10, "image/jpeg", DAY, "pending");
    expect(await books.moderate("a.jpg", "pending", "wx:trace-1")).toBe(true);
    expect(await books.moderate("a.jpg", "review")).toBe(true);
    expect(await books.checkOf("a.jpg")).toEqual({ sealedOpenid: "sealed-openid", checkId: "wx:trace-1" });
    expect(await books.get("a.jpg")).toMatchObject({ state: "review" });
    expect(await books.moderate("never.jpg", "stored")).toBe(false);
    expect(await books.checkOf("never.jpg")).toBeUndefined();
  });

  it("lists newest first, then by key, in pages that end without a cursor; each book alone", async () => {
    const books = fresh();
    const other = fresh();
    const keys = ["e", "a", "c", "b", "d"].map((name) => `${name}.jpg`);
    for (const [i, key] of keys.entries()) await books.reserve(request(key, 1, DAY + (i < 2 ? 0 : i) * 1000));
    await other.reserve(request("z.jpg", 1));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const answer = await books.list(cursor, 2);
      expect(answer.objects.length).toBeLessThanOrEqual(2);
      seen.push(...answer.objects.map((object) => object.key));
      cursor = answer.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(["d.jpg", "b.jpg", "c.jpg", "e.jpg", "a.jpg"]);
    expect(await books.list(undefined, 5)).toEqual({ objects: expect.any(Array) });
    expect((await other.list(undefined, 10)).objects.map((object) => object.key)).toEqual(["z.jpg"]);
    expect(await ledger().of("roomy", "nobody").list(undefined, 10)).toEqual({ objects: [] });
  });

  it("keeps profiles apart: the same user and key in two profiles are two objects", async () => {
    const user = `both-${Math.random().toString(36).slice(2)}`;
    await ledger().of("default", user).reserve(request("same.jpg", 100));
    expect(await ledger().of("roomy", user).reserve(request("same.jpg", 900))).toEqual({ bytes: 900 });
    expect(await ledger().of("default", user).usage(DAY)).toMatchObject({ reservedBytes: 100 });
  });
}
