/**
 * GET /openapi.json: the committed file is what the schemas generate, every route the app serves is in it (and
 * nothing else), and real answers — successes against the COS emulator and refusals — validate against it with a
 * JSON Schema validator we did not write (ajv, draft 2020-12 as OpenAPI 3.1 uses).
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiText } from "../../scripts/openapi.js";
import { createApp } from "../../worker/src/app.js";
import { type ErrorCode, ERROR_STATUS } from "../../worker/src/http/errors.js";
import { ROUTES } from "../../worker/src/openapi/document.js";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../support/wechat-stub.js";
import { createClient } from "redis";
import { type Ledger } from "../../worker/src/ledger/index.js";
import { type RedisClient, redisLedger } from "../../worker/src/ledger/redis.js";
import { type RedisServer, startRedis } from "../support/redis-server.js";
import { OLD_BUCKET, SECRET_ID, SECRET_KEY, startEmulator, startSigner } from "./harness";
import { createHash } from "node:crypto";
import { sealPush, STANDIN_PUSH_AES_KEY, STANDIN_PUSH_TOKEN } from "../../emulator/wechat";
import type { ModerationDesk } from "../../worker/src/moderation/index.js";
import { redisDesk } from "../../worker/src/moderation/redis.js";

const root = join(import.meta.dirname, "../..");
const MiB = 1024 * 1024;

interface Document {
  paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>>;
  components: { schemas: Record<string, object> };
}

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let wechat: Server;
let document: Document;
let env: Record<string, string>;
let wechatEnv: Record<string, string>;
let redis: RedisServer;
let client: RedisClient;
let ledger: Ledger;
let desk: ModerationDesk;

beforeAll(async () => {
  emulator = await startEmulator();
  redis = await startRedis();
  client = createClient({ url: redis.url });
  await client.connect();
  ledger = redisLedger(client);
  desk = redisDesk(client, () => undefined);
  wechat = createServer(async (req, res) => {
    const answer = wechatStub(new Request(`https://api.weixin.qq.com${req.url}`));
    res.writeHead(answer.status, { "Content-Type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((done) => wechat.listen(0, "127.0.0.1", done));
  document = JSON.parse(await readFile(join(root, "public/openapi.json"), "utf8")) as Document;
  env = {
    COS_SECRET_ID: SECRET_ID,
    COS_SECRET_KEY: SECRET_KEY,
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    STS_ENDPOINT: emulator.url,
    AUTH_MODE: "none",
    SEED_ROUTES: "true",
    SDK_ROUTES: "true",
    UPLOAD_READ: "owner",
    RECEIPT_SECRET: "openapi-test-receipt-secret-0123456789abcdef",
  };
  wechatEnv = {
    ...env,
    AUTH_MODE: "wechat",
    WX_APPID: STUB_APPID,
    WX_APPSECRET: STUB_APPSECRET,
    SESSION_SECRET: "openapi-test-session-secret-0123456789abcdef",
    WX_API_ORIGIN: `http://127.0.0.1:${(wechat.address() as AddressInfo).port}`,
  };
});

afterAll(async () => {
  await client?.close();
  await redis?.dispose();
  await emulator?.dispose();
  await new Promise((done) => wechat?.close(done));
});

describe("public/openapi.json", () => {
  it("is what `npm run openapi` generates from the schemas (run it after changing a schema or a route)", async () => {
    expect(await readFile(join(root, "public/openapi.json"), "utf8")).toBe(await openApiText());
  });

  it("holds every route the app serves, and no other", () => {
    const served = createApp({ openApi: document })
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method.toLowerCase()} ${route.path}`);
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));
    expect([...new Set(served)].sort()).toEqual(documented.sort());
  });

  it("passes Redocly's lint with its default (recommended) ruleset: no error, no warning", async () => {
    const lint = await new Promise<{ code: number; output: string }>((done) =>
      execFile(process.execPath, [join(root, "node_modules/@redocly/cli/bin/cli.js"), "lint", "public/openapi.json", "--format=stylish"], { cwd: root }, (error, stdout, stderr) =>
        done({ code: typeof error?.code === "number" ? error.code : 0, output: stdout + stderr }),
      ),
    );
    expect(lint.code, lint.output).toBe(0);
    expect(lint.output).toContain("Your API description is valid");
    expect(lint.output).not.toMatch(/\bwarning\b/);
  }, 60_000);

  it("is what `wrangler dev` serves (from the static assets) and what the other hosts serve, with every answer's headers", async () => {
    const signer = await startSigner({});
    const expectApiHeaders = (response: Response) => {
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    };
    try {
      const response = await fetch(`${signer.url}/openapi.json`);
      expect(response.status).toBe(200);
      expectApiHeaders(response);
      expect(await response.json()).toEqual(document);
    } finally {
      await signer.dispose();
    }
    const node = await createApp({ openApi: document }).request("http://signer.test/openapi.json", {}, env);
    expectApiHeaders(node);
    expect(await node.json()).toEqual(document);
  }, 60_000);
});

describe("real answers validate against the document", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const seen = new Map<string, Set<number>>();

  /** One request to the app; its answer is checked against the document's schema for that route and status. */
  async function exchange(method: "GET" | "POST", path: string, body?: unknown, useEnv = env, headers: Record<string, string> = {}, withLedger = true) {
    const init: RequestInit = { method, headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await createApp({ openApi: document, ...(withLedger ? { ledger: () => ledger, moderation: () => desk } : {}) }).request(`http://signer.test${path}`, init, useEnv);
    const type = response.headers.get("Content-Type")?.startsWith("text/plain") ? "text/plain" : "application/json";
    const text = await response.text();
    const json = (type === "text/plain" ? text : JSON.parse(text)) as Record<string, unknown> & { error?: { code: ErrorCode } };
    const pathname = path.split("?")[0]!;
    const route = ROUTES.find((candidate) => candidate.path === pathname && candidate.method === method.toLowerCase());
    if (route && response.status !== 405) {
      const operation = document.paths[pathname]![method.toLowerCase()]!;
      const documented = operation.responses[String(response.status)];
      expect(documented, `${method} ${path} answered ${response.status}, which the document does not list`).toBeDefined();
      expect(Object.keys(documented!.content), `${method} ${path} ${response.status} answered ${type}`).toEqual([type]);
      const validate = ajv.compile({ ...documented!.content[type]!.schema, components: document.components });
      expect(validate(json), `${method} ${path} ${response.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
      if (json.error) expect([...route.errors, "config_invalid", "internal_error", "not_found", "method_not_allowed"]).toContain(json.error.code);
    } else {
      const validate = ajv.compile({ $ref: "#/components/schemas/Error", components: document.components });
      expect(validate(json)).toBe(true);
    }
    if (json.error) expect(ERROR_STATUS[json.error.code]).toBe(response.status);
    seen.set(`${method.toLowerCase()} ${pathname}`, (seen.get(`${method.toLowerCase()} ${pathname}`) ?? new Set()).add(response.status));
    return { status: response.status, body: json };
  }

  it("for every route: its success, and refusals", async () => {
    expect((await exchange("GET", "/healthz")).status).toBe(200);
    expect((await exchange("GET", "/openapi.json")).status).toBe(200);
    expect((await exchange("GET", "/v1/profiles")).status).toBe(200);
    expect((await exchange("GET", "/put-sign?ext=jpg")).status).toBe(200);
    expect((await exchange("GET", "/post-policy?ext=png")).status).toBe(200);
    expect((await exchange("GET", "/put-sign?ext=exe")).status).toBe(400);
    expect((await exchange("GET", "/nope")).status).toBe(404);
    expect((await exchange("POST", "/healthz")).status).toBe(405);

    const session = await exchange("POST", "/v1/session", { code: "code-openapi" }, wechatEnv);
    expect(session.status).toBe(200);
    expect((await exchange("POST", "/v1/session", { code: "a b" }, wechatEnv)).status).toBe(400);
    expect((await exchange("POST", "/v1/uploads", { ext: "jpg", size: 3 }, wechatEnv)).status).toBe(401);
    expect((await exchange("POST", "/v1/uploads", "not json", env)).status).toBe(400);

    const put = await exchange("POST", "/v1/uploads", { ext: "jpg", size: 3, method: "put" });
    expect(put.status).toBe(200);
    expect((await exchange("POST", "/v1/uploads", { ext: "jpg", size: 3, method: "post", contentType: "image/*" })).status).toBe(200);
    for (const body of [{ ext: "exe" }, { ext: "jpg", size: -1 }, { ext: "jpg", key: "x" }, { ext: "jpg", method: "put" }, { ext: "jpg", size: 1, contentType: "text/html" }]) {
      expect((await exchange("POST", "/v1/uploads", body)).status).toBe(400);
    }
    const descriptor = put.body as { url: string; key: string; headers: Record<string, string> };
    const stored = await fetch(descriptor.url, { method: "PUT", headers: { ...descriptor.headers, "Content-Type": "image/jpeg" }, body: new Uint8Array([1, 2, 3]) });
    expect(stored.status).toBe(200);
    expect((await exchange("POST", "/v1/uploads/receipt", { key: descriptor.key })).status).toBe(200);
    expect((await exchange("POST", "/v1/uploads/receipt", { key: descriptor.key.replace(/[0-9a-f]{32}/, "0".repeat(32)) })).status).toBe(404);
    expect((await exchange("POST", "/v1/objects/url", { key: descriptor.key, process: "thumbnail" })).status).toBe(200);
    expect((await exchange("POST", "/v1/objects/url", { key: descriptor.key, expiresIn: 5 })).status).toBe(400);
    expect((await exchange("POST", "/v1/objects/list", {})).status).toBe(200);
    expect((await exchange("POST", "/v1/objects/list", { cursor: "x" })).status).toBe(400);
    expect((await exchange("POST", "/v1/objects/list", {}, env, {}, false)).status).toBe(501);
    expect((await exchange("GET", "/v1/usage")).status).toBe(200);
    expect((await exchange("GET", "/v1/usage", undefined, env, {}, false)).status).toBe(501);
    expect((await exchange("POST", "/v1/uploads", { ext: "jpg", size: 30 }, { ...env, UPLOAD_QUOTA_BYTES: "20" })).status).toBe(403);
    expect((await exchange("POST", "/v1/objects/delete", { key: descriptor.key })).status).toBe(200);
    expect((await exchange("POST", "/v1/objects/delete", { key: descriptor.key })).status).toBe(404);

    const started = await exchange("POST", "/v1/multipart", { ext: "mp4", size: 6 * MiB });
    expect(started.status).toBe(200);
    const token = started.body.token as string;
    const signed = await exchange("POST", "/v1/multipart/parts", { token, partNumbers: [1, 2] });
    expect(signed.status).toBe(200);
    expect((await exchange("POST", "/v1/multipart/parts", { token, partNumbers: [9] })).status).toBe(400);
    expect((await exchange("POST", "/v1/multipart/complete", { token })).status).toBe(409);
    for (const [index, part] of (signed.body.parts as { url: string; headers: Record<string, string> }[]).entries()) {
      const sent = await fetch(part.url, { method: "PUT", headers: part.headers, body: new Uint8Array(index === 0 ? 5 * MiB : MiB) });
      expect(sent.status).toBe(200);
    }
    expect((await exchange("POST", "/v1/multipart/list", { token })).status).toBe(200);
    expect((await exchange("POST", "/v1/multipart/complete", { token })).status).toBe(200);
    const other = (await exchange("POST", "/v1/multipart", { ext: "mp4", size: 6 * MiB })).body.token as string;
    expect((await exchange("POST", "/v1/multipart/abort", { token: other })).status).toBe(200);
    expect((await exchange("POST", "/v1/multipart/list", { token: other })).status).toBe(404);
    expect((await exchange("POST", "/v1/multipart/parts", { token: "x.y.z", partNumbers: [1] })).status).toBe(401);

    const { Key } = (await exchange("POST", "/v1/cos/keys", { ext: "jpg" })).body as { Key: string };
    const host = new URL(emulator.url).host;
    const sdk = { Bucket: OLD_BUCKET.name, Region: OLD_BUCKET.region, Method: "put", Pathname: `/${OLD_BUCKET.name}/${Key}`, Headers: { "Content-Length": 3, Host: host, "x-cos-forbid-overwrite": "true" } };
    expect((await exchange("POST", "/v1/cos/authorization", sdk)).status).toBe(200);
    expect((await exchange("POST", "/v1/cos/authorization", { ...sdk, Method: "delete" })).status).toBe(403);
    expect((await exchange("POST", "/v1/cos/authorization", { ...sdk, Headers: { Host: host } })).status).toBe(400);
    expect((await exchange("POST", "/v1/cos/credentials", {})).status).toBe(403);
    const keys = { ...env, UPLOAD_PROFILES: JSON.stringify({ keys: { bucket: OLD_BUCKET.name, forbidOverwrite: false } }) };
    expect((await exchange("POST", "/v1/cos/credentials", { profile: "keys" }, keys)).status).toBe(200);
    expect((await exchange("POST", "/v1/cos/credentials", { profile: "keys" }, { ...keys, STS_ENDPOINT: "http://127.0.0.1:1" })).status).toBe(502);
    expect((await exchange("POST", "/v1/cos/keys", { ext: "jpg" }, { ...env, COS_BUCKET: "NoAppId" })).status).toBe(500);

    // The moderation verdicts' way in (docs/moderation.md): WeChat's push URL check and pushes, COS's callbacks.
    const pushEnv = { ...wechatEnv, WX_PUSH_TOKEN: STANDIN_PUSH_TOKEN, WX_PUSH_AES_KEY: STANDIN_PUSH_AES_KEY };
    const signature = createHash("sha1").update([STANDIN_PUSH_TOKEN, "1700000000", "n0nce"].sort().join("")).digest("hex");
    const check = await exchange("GET", `/v1/wechat/push?signature=${signature}&timestamp=1700000000&nonce=n0nce&echostr=echo123`, undefined, pushEnv);
    expect(check).toEqual({ status: 200, body: "echo123" });
    expect((await exchange("GET", `/v1/wechat/push?signature=${"0".repeat(40)}&timestamp=1700000000&nonce=n0nce&echostr=echo123`, undefined, pushEnv)).status).toBe(401);
    expect((await exchange("GET", "/v1/wechat/push?timestamp=1", undefined, pushEnv)).status).toBe(400);
    expect((await exchange("GET", "/v1/wechat/push?timestamp=1", undefined, wechatEnv)).status).toBe(404);
    const push = sealPush(JSON.stringify({ MsgType: "event", Event: "wxa_media_check", appid: STUB_APPID, trace_id: "openapi-unknown-trace", version: 2, result: { suggest: "pass", label: 100 } }));
    expect(await exchange("POST", `/v1/wechat/push?${push.query}`, push.body, pushEnv)).toEqual({ status: 200, body: "success" });
    expect((await exchange("POST", `/v1/wechat/push?${push.query.replace(/msg_signature=\w+/, `msg_signature=${"0".repeat(40)}`)}`, push.body, pushEnv)).status).toBe(401);
    const foreign = sealPush(JSON.stringify({ Event: "wxa_media_check" }), "wx00000000000000ff");
    expect((await exchange("POST", `/v1/wechat/push?${foreign.query}`, foreign.body, pushEnv)).status).toBe(403);
    expect(await exchange("POST", "/v1/moderation/cos-callback?kind=video", { data: { trace_id: "avunknown" } }, pushEnv)).toEqual({ status: 200, body: "success" });
    expect((await exchange("POST", "/v1/moderation/cos-callback", { data: {} }, pushEnv)).status).toBe(400);
  }, 30_000);

  it("and every documented operation answered at least once", () => {
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));
    for (const operation of documented) expect(seen.get(operation)?.has(200), operation).toBe(true);
  });
});
