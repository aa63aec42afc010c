/**
 * Tencent's own SDKs pointed at the signer, with nothing of ours in between but the few lines of `getAuthorization`
 * the README shows: cos-nodejs-sdk-v5 and cos-wx-sdk-v5 (in Node over the `wx` adapter: real HTTP, real files), each
 * with per-request authorization (/v1/cos/authorization) and with temporary keys (/v1/cos/credentials, STS answered
 * by the emulator, whose COS then enforces the policy the keys were issued with). The Worker runs in workerd.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc64 as referenceCrc64 } from "crc64-ecma182.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/src/app.js";
import { wxNode } from "../../wx-node/index";
import { fixtures, OLD_BUCKET, routeCosDomainsTo, type RunningSigner, SECRET_KEY, startEmulator, startSigner } from "./harness";

const MiB = 1024 * 1024;
const MAX_BYTES = 4 * MiB;

let emulator: Awaited<ReturnType<typeof startEmulator>>;
const NODE_ENDPOINT = () => `http://${OLD_BUCKET.name}.cos.${OLD_BUCKET.region}.myqcloud.com`;
const WX_ENDPOINT = () => `http://${OLD_BUCKET.name}.cos.${OLD_BUCKET.region}.localhost:${emulator.port}`;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;
let sdkState: string;

beforeAll(async () => {
  emulator = await startEmulator();
  // The Worker's own ListParts (before it signs a Complete) for profile "node", on COS's real bucket domain.
  routeCosDomainsTo(emulator.url);
  // Both SDKs use the bucket's own domain, their default. cos-nodejs-sdk-v5 keeps COS's real one (profile "node") and
  // reaches the emulator as its HTTP proxy; cos-wx-sdk-v5 uses it under .localhost (profile "wx"), which the wx
  // adapter resolves to the emulator.
  signer = await startSigner({
    AUTH_MODE: "wechat",
    SDK_ROUTES: "true",
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    STS_ENDPOINT: emulator.url,
    UPLOAD_MAX_BYTES: String(MAX_BYTES),
    UPLOAD_MULTIPART_MAX_BYTES: String(64 * MiB),
    UPLOAD_PROFILES: JSON.stringify({
      node: { bucket: OLD_BUCKET.name, pathStyle: false, endpoint: NODE_ENDPOINT() },
      wx: { bucket: OLD_BUCKET.name, pathStyle: false, endpoint: WX_ENDPOINT() },
      // Temporary keys cannot bind x-cos-forbid-overwrite (no CAM condition): their profiles accept overwrites.
      "node-keys": { bucket: OLD_BUCKET.name, pathStyle: false, endpoint: NODE_ENDPOINT(), forbidOverwrite: false },
      "wx-keys": { bucket: OLD_BUCKET.name, pathStyle: false, endpoint: WX_ENDPOINT(), forbidOverwrite: false },
      // Issue 18: a form-only profile of two types, and one whose multipart uploads end at 3 MiB.
      ...Object.fromEntries(
        (["node", "wx"] as const).flatMap((sdk) => {
          const endpoint = sdk === "node" ? NODE_ENDPOINT() : WX_ENDPOINT();
          return [
            [`${sdk}-forms`, { bucket: OLD_BUCKET.name, pathStyle: false, endpoint, methods: ["post"], extensions: ["jpg", "png"], contentTypes: ["image/jpeg", "image/png"], forbidOverwrite: false }],
            [`${sdk}-small`, { bucket: OLD_BUCKET.name, pathStyle: false, endpoint, maxBytes: MiB, multipartThreshold: MiB, multipartMaxBytes: 3 * MiB }],
          ];
        }),
      ),
    }),
  });
  files = await fixtures("tencent-sdks");
  sdkState = await mkdtemp(join(tmpdir(), "sdk-state-"));
  // wx storage of the adapter (where cos-wx-sdk-v5 keeps its UploadIds), in this test's own folder.
  process.env.COS_UPLOAD_STATE = join(sdkState, "wx-storage.json");
}, 60_000);

afterAll(async () => {
  routeCosDomainsTo(undefined);
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
  await rm(sdkState, { recursive: true, force: true });
  delete process.env.COS_UPLOAD_STATE;
});

interface SignerAnswer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function callSigner(path: string, token: string, body: unknown): Promise<SignerAnswer> {
  const response = await fetch(`${signer.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as SignerAnswer["body"] };
}

const sessions = new Map<string, Promise<string>>();
/** A session for WeChat user `name` (stubbed code2Session), once per user: logins are limited per address. */
function login(name: string): Promise<string> {
  let token = sessions.get(name);
  if (!token) sessions.set(name, (token = newSession(name)));
  return token;
}

async function newSession(name: string): Promise<string> {
  const response = await fetch(`${signer.url}/v1/session`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: `code-${name}` }) });
  const body = (await response.json()) as { token: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.token;
}

type Mode = "authorization" | "credentials";

/** The README's getAuthorization, for either mode; the signer's refusals are kept for the test to read. */
function getAuthorization(token: string, mode: Mode, profile: string, refusals: string[]) {
  return (options: Record<string, unknown>, callback: (data: unknown) => void) => {
    const body = mode === "authorization" ? { ...options, profile } : { profile };
    void callSigner(`/v1/cos/${mode}`, token, body).then(({ status, body: answer }) => {
      if (status !== 200) refusals.push(answer.error!.code);
      callback(answer);
    });
  };
}

type SdkClass = new (options: Record<string, unknown>) => SdkClient;
const requireHere = createRequire(import.meta.url);

/**
 * A fresh copy of an SDK's code, as after an app restart: nothing kept in its module state (such as the uploads it
 * marks as in use); what it persisted (wx storage, or the Node SDK's conf file) stays.
 */
function freshModule(name: string): SdkClass {
  const root = join(requireHere.resolve(`${name}/package.json`), "..");
  for (const path of Object.keys(requireHere.cache)) if (path.startsWith(root)) delete requireHere.cache[path];
  return requireHere(name) as SdkClass;
}

/**
 * cos-wx-sdk-v5's published build (what a Mini Program's npm build takes), with `wx` as the Node adapter, which
 * reports the base library (≥ 2.10.0, whose ranged readFile slice uploads need). Its UMD wrapper names `window` once
 * while loading.
 */
function loadWxSdk(): SdkClass {
  const global = globalThis as { wx?: unknown; window?: unknown };
  global.wx = wxNode;
  global.window = globalThis;
  try {
    return freshModule("cos-wx-sdk-v5");
  } finally {
    delete global.window;
  }
}

interface SdkClient {
  putObject(params: Record<string, unknown>, callback: (error: unknown, data: Record<string, unknown>) => void): void;
  postObject(params: Record<string, unknown>, callback: (error: unknown, data: Record<string, unknown>) => void): void;
  sliceUploadFile(params: Record<string, unknown>, callback: (error: unknown, data: Record<string, unknown>) => void): void;
  deleteObject(params: Record<string, unknown>, callback: (error: unknown, data: Record<string, unknown>) => void): void;
  getBucket(params: Record<string, unknown>, callback: (error: unknown, data: Record<string, unknown>) => void): void;
  pauseTask(id: string): void;
}

/** Overwrite protection, as a profile with `forbidOverwrite` needs it from the app: the SDK signs and sends the header. */
const NO_OVERWRITE = { "x-cos-forbid-overwrite": "true" };

/** The type an app declares for its file (temporary keys' policy binds it to the suffix's types). */
const TYPES: Record<string, string> = { jpg: "image/jpeg", png: "image/png", mp4: "video/mp4" };

function call(sdk: SdkClient, method: "putObject" | "postObject" | "sliceUploadFile" | "deleteObject" | "getBucket", params: Record<string, unknown>) {
  const upload = method === "putObject" || method === "postObject" || method === "sliceUploadFile";
  const type = TYPES[String(params.Key).slice(String(params.Key).lastIndexOf(".") + 1)];
  const withHeaders = upload ? { Headers: NO_OVERWRITE, ...(type ? { ContentType: type } : {}), ...params } : params;
  return new Promise<{ error: unknown; data: Record<string, unknown> }>((done) => sdk[method](withHeaders, (error, data) => done({ error, data })));
}

interface Client {
  sdk: SdkClient;
  /** The app restarts: a new SDK instance from freshly loaded code, with what the old one persisted. */
  restart(): void;
  readonly token: string;
  readonly refusals: string[];
  readonly profile: string;
  /** Bucket and region as the SDK's calls take them. */
  readonly target: { Bucket: string; Region: string };
  /** A new key from the signer, in this user's own space. */
  newKey(ext: string): Promise<string>;
  /** A local file of these bytes, with this suffix. */
  file(bytes: Buffer, ext?: string): Promise<string>;
}

const SDKS = {
  "cos-nodejs-sdk-v5": (getAuth: ReturnType<typeof getAuthorization>) =>
    new (freshModule("cos-nodejs-sdk-v5"))({ getAuthorization: getAuth, Protocol: "http:", Proxy: emulator.url, ConfCwd: sdkState }),
  "cos-wx-sdk-v5": (getAuth: ReturnType<typeof getAuthorization>) => {
    const WxCos = loadWxSdk();
    return new WxCos({ getAuthorization: getAuth, Domain: `http://{Bucket}.cos.{Region}.localhost:${emulator.port}` });
  },
} as const;

/** A user's SDK client; `rules` picks a profile of other rules on the same bucket and domain (`<sdk>-<rules>`). */
async function client(sdkName: keyof typeof SDKS, mode: Mode, user: string, rules = mode === "credentials" ? "keys" : ""): Promise<Client> {
  const token = await login(user);
  const refusals: string[] = [];
  const profile = `${sdkName === "cos-wx-sdk-v5" ? "wx" : "node"}${rules ? `-${rules}` : ""}`;
  const getAuth = getAuthorization(token, mode, profile, refusals);
  const made: Client = {
    sdk: SDKS[sdkName](getAuth),
    restart() {
      made.sdk = SDKS[sdkName](getAuth);
    },
    token,
    refusals,
    profile,
    target: { Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region },
    async newKey(ext) {
      const { status, body } = await callSigner("/v1/cos/keys", token, { ext, profile });
      expect(status).toBe(200);
      expect(body).toMatchObject({ Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region });
      return body.Key as string;
    },
    file: (bytes, ext = "jpg") => files.write(`${randomBytes(6).toString("hex")}.${ext}`, bytes),
  };
  return made;
}

/** A multipart object's ETag as COS (and S3) form it: the MD5 of its parts' binary MD5s, then the part count. */
function multipartEtag(bytes: Buffer, partSize: number): string {
  const md5s = createHash("md5");
  let count = 0;
  for (let start = 0; start < bytes.length; start += partSize, count++) md5s.update(createHash("md5").update(bytes.subarray(start, start + partSize)).digest());
  return `"${md5s.digest("hex")}-${count}"`;
}

const stored = async (key: string) => (await emulator.store.get(OLD_BUCKET.name, key))?.body;
const uploadPartsOf = (key: string) => emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes("partNumber=") && entry.url.includes(key.split("/").pop()!) && entry.status === 200).length;

for (const sdkName of Object.keys(SDKS) as (keyof typeof SDKS)[]) {
  for (const mode of ["authorization", "credentials"] as const) {
    describe(`${sdkName} with ${mode === "authorization" ? "per-request authorization" : "temporary credentials"}`, () => {
      it("putObject: the bytes land under the user's own key", async () => {
        const alice = await client(sdkName, mode, "alice");
        const key = await alice.newKey("jpg");
        const bytes = randomBytes(200_000);
        const put = sdkName === "cos-wx-sdk-v5" ? { FilePath: await alice.file(bytes) } : { Body: bytes };
        const { error } = await call(alice.sdk, "putObject", { ...alice.target, Key: key, ...put });
        expect(error).toBeNull();
        expect((await stored(key))?.equals(bytes)).toBe(true);
        expect(alice.refusals).toEqual([]);
      });

      if (sdkName === "cos-wx-sdk-v5") {
        it(mode === "credentials" ? "postObject: the form upload lands" : "postObject: refused, its SDK signature would bind no key or size", async () => {
          const alice = await client(sdkName, mode, "alice");
          const key = await alice.newKey("png");
          const bytes = randomBytes(5000);
          const { error } = await call(alice.sdk, "postObject", { ...alice.target, Key: key, FilePath: await alice.file(bytes, "png") });
          if (mode === "credentials") {
            expect(error).toBeNull();
            expect((await stored(key))?.equals(bytes)).toBe(true);
          } else {
            expect(error).toBeTruthy();
            expect(alice.refusals).toEqual(["operation_not_allowed"]);
            expect(await stored(key)).toBeUndefined();
          }
        });
      }

      it("sliceUploadFile: a 6-part file, stopped after two parts and resumed after an app restart, arrives whole without sending parts twice", async () => {
        const alice = await client(sdkName, mode, "alice");
        const key = await alice.newKey("mp4");
        const bytes = randomBytes(5 * MiB + 12_345);
        const filePath = await alice.file(bytes, "mp4");
        emulator.setPartDelay(300);
        let taskId = "";
        void call(alice.sdk, "sliceUploadFile", {
          ...alice.target,
          Key: key,
          FilePath: filePath,
          SliceSize: MiB,
          ChunkSize: MiB,
          // One part at a time, so that the pause lands between parts.
          AsyncLimit: 1,
          onTaskReady: (id: string) => (taskId = id),
        });
        // Interrupted once two parts are in: a paused task never calls back, and its part in flight may still land.
        await expect.poll(() => uploadPartsOf(key), { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(2);
        alice.sdk.pauseTask(taskId);
        // The part in flight may still land: wait until the count holds still (the emulator answers a part in 300 ms).
        for (let last = -1; last !== uploadPartsOf(key); ) {
          last = uploadPartsOf(key);
          await new Promise((done) => setTimeout(done, 600));
        }
        alice.restart();
        emulator.setPartDelay(0);
        const sentBefore = uploadPartsOf(key);
        expect(sentBefore).toBeGreaterThan(0);
        expect(sentBefore).toBeLessThan(6);
        const { error, data } = await call(alice.sdk, "sliceUploadFile", { ...alice.target, Key: key, FilePath: filePath, SliceSize: MiB, ChunkSize: MiB });
        expect(error, JSON.stringify(alice.refusals)).toBeNull();
        expect((await stored(key))?.equals(bytes)).toBe(true);
        expect(uploadPartsOf(key)).toBe(6);
        // The Complete's answer as the SDK reads it: COS's multipart ETag, and the CRC-64 of the whole file.
        expect(data.ETag).toBe(multipartEtag(bytes, MiB));
        expect((data.headers as Record<string, string>)["x-cos-hash-crc64ecma"]).toBe(referenceCrc64(bytes));
        expect(alice.refusals).toEqual([]);
      }, 60_000);

      it("refuses another user's key, a key outside the user's space and a disallowed suffix", async () => {
        const alice = await client(sdkName, mode, "alice");
        const bob = await client(sdkName, mode, "bob");
        const bobsKey = await bob.newKey("jpg");
        const aliceKey = await alice.newKey("jpg");
        const bytes = randomBytes(1000);
        const put = async (key: string) =>
          call(alice.sdk, "putObject", { ...alice.target, Key: key, ...(sdkName === "cos-wx-sdk-v5" ? { FilePath: await alice.file(bytes) } : { Body: bytes }) });
        for (const key of [bobsKey, "elsewhere/a.jpg", aliceKey.replace(/\.jpg$/, ".exe")]) {
          expect((await put(key)).error).toBeTruthy();
          expect(await stored(key)).toBeUndefined();
        }
        if (mode === "authorization") expect(alice.refusals).toEqual(["key_not_allowed", "key_invalid", "ext_not_allowed"]);
      });

      it("refuses DELETE Object and bucket operations", async () => {
        const alice = await client(sdkName, mode, "alice");
        const key = await alice.newKey("jpg");
        const bytes = randomBytes(1000);
        const put = sdkName === "cos-wx-sdk-v5" ? { FilePath: await alice.file(bytes) } : { Body: bytes };
        expect((await call(alice.sdk, "putObject", { ...alice.target, Key: key, ...put })).error).toBeNull();
        expect((await call(alice.sdk, "deleteObject", { ...alice.target, Key: key })).error).toBeTruthy();
        expect((await stored(key))?.equals(bytes)).toBe(true);
        expect((await call(alice.sdk, "getBucket", { ...alice.target, Prefix: "" })).error).toBeTruthy();
        if (mode === "authorization") expect(alice.refusals).toEqual(["operation_not_allowed", "operation_not_allowed"]);
      });

      it(`refuses a single PUT over the profile's ${MAX_BYTES} bytes`, async () => {
        const alice = await client(sdkName, mode, "alice");
        const key = await alice.newKey("jpg");
        const bytes = randomBytes(MAX_BYTES + 1);
        const put = sdkName === "cos-wx-sdk-v5" ? { FilePath: await alice.file(bytes) } : { Body: bytes };
        expect((await call(alice.sdk, "putObject", { ...alice.target, Key: key, ...put })).error).toBeTruthy();
        expect(await stored(key)).toBeUndefined();
        if (mode === "authorization") expect(alice.refusals).toEqual(["file_too_large"]);
      });
    });
  }
}

for (const sdkName of Object.keys(SDKS) as (keyof typeof SDKS)[]) {
  describe(`${sdkName}: the SDK routes keep every profile rule (issue 18)`, () => {
    const body = async (who: Client, bytes: Buffer, ext = "jpg") => (sdkName === "cos-wx-sdk-v5" ? { FilePath: await who.file(bytes, ext) } : { Body: bytes });

    it("forbidOverwrite: a second putObject on the key → 409 from COS; one without x-cos-forbid-overwrite → refused", async () => {
      const alice = await client(sdkName, "authorization", "alice");
      const key = await alice.newKey("jpg");
      const first = randomBytes(300);
      expect((await call(alice.sdk, "putObject", { ...alice.target, Key: key, ...(await body(alice, first)) })).error).toBeNull();
      const again = await call(alice.sdk, "putObject", { ...alice.target, Key: key, ...(await body(alice, randomBytes(300))) });
      expect((again.error as { statusCode?: number }).statusCode).toBe(409);
      const unprotected = await call(alice.sdk, "putObject", { ...alice.target, Key: key, Headers: {}, ...(await body(alice, randomBytes(300))) });
      expect(unprotected.error).toBeTruthy();
      expect(alice.refusals).toEqual(["overwrite_protection_required"]);
      expect((await stored(key))?.equals(first)).toBe(true);
    });

    it("temporary keys: refused for a profile that forbids overwrites; where granted, an SVG under .jpg is refused by their policy", async () => {
      const strict = await client(sdkName, "credentials", "alice", "");
      const key = await strict.newKey("jpg");
      expect((await call(strict.sdk, "putObject", { ...strict.target, Key: key, ...(await body(strict, randomBytes(100))) })).error).toBeTruthy();
      expect(strict.refusals[0]).toBe("overwrite_unbound");
      const alice = await client(sdkName, "credentials", "alice");
      const svgKey = await alice.newKey("jpg");
      const svg = await call(alice.sdk, "putObject", { ...alice.target, Key: svgKey, ContentType: "image/svg+xml", ...(await body(alice, Buffer.from("<svg/>"))) });
      expect((svg.error as { statusCode?: number }).statusCode).toBe(403);
      expect(await stored(svgKey)).toBeUndefined();
    });

    it("methods and contentTypes: a form-only, jpeg/png profile signs no putObject and hands out no temporary keys", async () => {
      const alice = await client(sdkName, "authorization", "alice", "forms");
      const key = await alice.newKey("jpg");
      const svg = await call(alice.sdk, "putObject", { ...alice.target, Key: key, ContentType: "image/svg+xml", ...(await body(alice, Buffer.from("<svg/>"))) });
      expect(svg.error).toBeTruthy();
      expect(alice.refusals).toEqual(["operation_not_allowed"]);
      const keys = await client(sdkName, "credentials", "alice", "forms");
      expect((await call(keys.sdk, "putObject", { ...keys.target, Key: key, ...(await body(keys, randomBytes(100))) })).error).toBeTruthy();
      expect(keys.refusals[0]).toBe("content_type_unbound");
      expect(await stored(key)).toBeUndefined();
    });

    it("multipart totals: a 4 MiB slice upload in a profile whose multipart limit is 3 MiB is refused at Complete", async () => {
      const alice = await client(sdkName, "authorization", "alice", "small");
      const key = await alice.newKey("mp4");
      const bytes = randomBytes(4 * MiB);
      const { error } = await call(alice.sdk, "sliceUploadFile", { ...alice.target, Key: key, FilePath: await alice.file(bytes, "mp4"), SliceSize: MiB, ChunkSize: MiB });
      expect(error).toBeTruthy();
      // The SDK retries the Complete; each time the signer refuses it.
      expect(alice.refusals.length).toBeGreaterThan(0);
      expect(new Set(alice.refusals)).toEqual(new Set(["file_too_large"]));
      expect(await stored(key)).toBeUndefined();
    }, 30_000);
  });
}

describe("POST /v1/cos/credentials", () => {
  it("asks STS once for a burst of calls, with a policy scoped to the user's own space", async () => {
    const token = await login("carol");
    const before = emulator.sts.requests.length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => callSigner("/v1/cos/credentials", token, { profile: "node-keys" })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(emulator.sts.requests.length).toBe(before + 1);
    const prefix = answers[0]!.body.Prefix as string;
    expect(prefix).toMatch(/^uploads\/[0-9a-f]{20}\/\*$/);
    expect(JSON.stringify(emulator.sts.requests.at(-1)!.policy)).toContain(`:${OLD_BUCKET.name}/${prefix}`);
    expect(answers[0]!.body).toMatchObject({ Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region });
    expect(String(answers[0]!.body.ExpiredTime)).toMatch(/^\d{10}$/);
  });

  it("a caller cannot force fresh STS requests: asking with a new key each time still costs one (issue 18)", async () => {
    const token = await login("erin");
    const keys = await Promise.all(
      Array.from({ length: 5 }, async () => ((await callSigner("/v1/cos/keys", token, { ext: "jpg", profile: "node-keys" })).body.Key as string)),
    );
    const before = emulator.sts.requests.length;
    const answers = [];
    for (const key of keys) answers.push(await callSigner("/v1/cos/credentials", token, { profile: "node-keys", key }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(emulator.sts.requests.length).toBe(before + 1);
    expect(new Set(answers.map((answer) => answer.body.TmpSecretId)).size).toBe(1);
    expect(answers[0]!.body.Prefix).toMatch(/^uploads\/[0-9a-f]{20}\/\*$/);
  });

  it("maps STS's refusal of the key pair to 502 sts_refused, naming STS's code and no secret", async () => {
    const env = {
      COS_SECRET_ID: "AKIDUNKNOWNTOSTSxxxxxxxxxxxxxxxxxxxx",
      COS_SECRET_KEY: SECRET_KEY,
      COS_BUCKET: OLD_BUCKET.name,
      COS_REGION: OLD_BUCKET.region,
      STS_ENDPOINT: emulator.url,
      AUTH_MODE: "none",
      SDK_ROUTES: "true",
      UPLOAD_PROFILES: JSON.stringify({ default: { bucket: OLD_BUCKET.name, forbidOverwrite: false } }),
    };
    const response = await createApp().request("http://signer.test/v1/cos/credentials", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }, env);
    const text = await response.text();
    expect(response.status).toBe(502);
    expect(JSON.parse(text).error).toEqual({ code: "sts_refused", message: expect.stringContaining("AuthFailure.SecretIdNotFound") });
    expect(text).not.toContain(SECRET_KEY);
  });
});
