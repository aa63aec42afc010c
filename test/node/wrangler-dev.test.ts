/**
 * `npm run dev` with a `.dev.vars`, exactly as a user starts it (scripts/dev.mjs → `wrangler dev`), not with bindings
 * injected by a test harness: WeChat sessions (code2Session answered by a stub on 127.0.0.1 through WX_API_ORIGIN),
 * the optional secrets, and a profile signed with a named key pair, checked by the COS emulator.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import COS from "cos-nodejs-sdk-v5";
import { freePort } from "../../bench/workerd.js";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../support/wechat-stub.js";
import { startEmulator, wxRequest } from "./harness";

const root = resolve(import.meta.dirname, "../..");
const PARTNER = { id: "AKIDPARTNERDEVxxxxxxxxxxxxxxxxxxxxxx", key: "partner-key-from-dev-vars-never-shown" };
const PHOTOS = { name: "photos-1250000000", region: "ap-guangzhou" };

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let wechat: Server;
let dir: string;
let dev: ChildProcess;
let signer: string;
let output = "";

/** WeChat's code2Session as a real HTTP server on 127.0.0.1, answering like test/support/wechat-stub.ts. */
async function startWechat(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    const answer = wechatStub(new Request(`https://api.weixin.qq.com${req.url}`));
    res.writeHead(answer.status, { "Content-Type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function waitForHealth(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (dev.exitCode !== null) throw new Error(`npm run dev exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).status !== 0) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`npm run dev did not answer in time:\n${output}`);
}

beforeAll(async () => {
  emulator = await startEmulator([PHOTOS], { [PARTNER.id]: PARTNER.key, AKIDDEVVARSxxxxxxxxxxxxxxxxxxxxxxxxx: "dev-vars-default-key-never-shown" });
  const stub = await startWechat();
  wechat = stub.server;
  // A project folder of the user's own: wrangler.toml (its entry pointing back at the code) and a .dev.vars beside it.
  dir = join(root, ".wrangler", `dev-test-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  const toml = (await readFile(join(root, "wrangler.toml"), "utf8"))
    .replace('main = "worker/src/index.ts"', `main = "${join(root, "worker/src/index.ts")}"`)
    .replace('directory = "./public"', `directory = "${join(root, "public")}"`);
  await writeFile(join(dir, "wrangler.toml"), toml);
  // Temporary keys need a profile that accepts overwrites (CAM cannot bind x-cos-forbid-overwrite).
  const profiles = { photo: { bucket: PHOTOS.name, endpoint: emulator.url, credentials: "partner", extensions: ["jpg"], forbidOverwrite: false } };
  await writeFile(
    join(dir, ".dev.vars"),
    [
      "COS_SECRET_ID=AKIDDEVVARSxxxxxxxxxxxxxxxxxxxxxxxxx",
      "COS_SECRET_KEY=dev-vars-default-key-never-shown",
      `COS_SECRET_ID_PARTNER=${PARTNER.id}`,
      `COS_SECRET_KEY_PARTNER=${PARTNER.key}`,
      "AUTH_MODE=wechat",
      "SDK_ROUTES=true",
      `WX_APPID=${STUB_APPID}`,
      `WX_APPSECRET=${STUB_APPSECRET}`,
      "SESSION_SECRET=dev-vars-session-secret-0123456789abcdef",
      "USER_SEGMENT_SECRET=dev-vars-segment-secret-0123456789abcdef",
      `WX_API_ORIGIN=${stub.origin}`,
      `STS_ENDPOINT=${emulator.url}`,
      `UPLOAD_PROFILES='${JSON.stringify(profiles)}'`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  signer = `http://127.0.0.1:${port}`;
  dev = spawn(
    process.execPath,
    [join(root, "scripts/dev.mjs"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", join(dir, "state")],
    { cwd: dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  dev.stdout!.on("data", (chunk) => (output += chunk));
  dev.stderr!.on("data", (chunk) => (output += chunk));
  await waitForHealth(signer, Date.now() + 60_000);
}, 90_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    // The whole group: npm run dev's script and the wrangler and workerd under it.
    process.kill(-dev.pid!, "SIGTERM");
    await new Promise((done) => dev.once("exit", done));
  }
  await new Promise((done) => wechat?.close(done));
  await emulator?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm run dev with a .dev.vars (wrangler dev, as users start it)", () => {
  it("runs in WeChat mode: healthy, and every secret of .dev.vars reaches the Worker", async () => {
    const health = await fetch(`${signer}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(health.headers.get("X-Signer-Warning")).toBeNull();
    const refused = await fetch(`${signer}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"ext":"jpg","size":3}' });
    expect(refused.status).toBe(401);
  });

  it("logs in through code2Session, then signs a named key pair's profile that COS accepts", async () => {
    const session = await fetch(`${signer}/v1/session`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"code":"code-devvars"}' });
    expect(session.status).toBe(200);
    const { token } = (await session.json()) as { token: string };
    const response = await fetch(`${signer}/v1/uploads`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ profile: "photo", ext: "jpg", size: 3 }),
    });
    expect(response.status).toBe(200);
    const descriptor = (await response.json()) as { key: string; url: string; headers: Record<string, string> };
    expect(descriptor.headers.Authorization).toContain(`q-ak=${PARTNER.id}`);
    expect(descriptor.key).toMatch(/^uploads\/[0-9a-f]{20}\//);
    const put = await wxRequest({ url: descriptor.url, method: "PUT", header: descriptor.headers, data: new Uint8Array([1, 2, 3]).buffer, dataType: "text" });
    expect(put.status).toBe(200);
    expect((await emulator.store.get(PHOTOS.name, descriptor.key))?.body).toEqual(Buffer.from([1, 2, 3]));
  });

  it("gets temporary keys from STS (the emulator's) with the named key pair, and COS takes an upload signed with them", async () => {
    const session = await fetch(`${signer}/v1/session`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"code":"code-devvars-sts"}' });
    const { token } = (await session.json()) as { token: string };
    const post = (path: string, body: unknown) =>
      fetch(`${signer}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const { Key } = (await (await post("/v1/cos/keys", { profile: "photo", ext: "jpg" })).json()) as { Key: string };
    const credentials = await post("/v1/cos/credentials", { profile: "photo" });
    expect(credentials.status).toBe(200);
    const keys = (await credentials.json()) as { TmpSecretId: string; TmpSecretKey: string; SecurityToken: string; ExpiredTime: number };
    const host = new URL(emulator.url).host;
    const pathname = `/${PHOTOS.name}/${Key}`;
    const Authorization = COS.getAuthorization({ SecretId: keys.TmpSecretId, SecretKey: keys.TmpSecretKey, Method: "put", Pathname: pathname, Headers: { host, "content-length": "3", "content-type": "image/jpeg" } });
    const put = await wxRequest({
      url: `${emulator.url}${pathname}`,
      method: "PUT",
      // The keys' policy binds the type to the suffix's (cos:content-type).
      header: { Authorization, "x-cos-security-token": keys.SecurityToken, "Content-Type": "image/jpeg" },
      data: new Uint8Array([4, 5, 6]).buffer,
      dataType: "text",
    });
    expect(put.status).toBe(200);
    expect((await emulator.store.get(PHOTOS.name, Key))?.body).toEqual(Buffer.from([4, 5, 6]));
  });

  it("serves the OpenAPI document", async () => {
    const response = await fetch(`${signer}/openapi.json`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("prints no secret of .dev.vars", () => {
    for (const secret of [STUB_APPSECRET, PARTNER.key, "dev-vars-default-key-never-shown", "dev-vars-session-secret", "dev-vars-segment-secret"]) {
      expect(output).not.toContain(secret);
    }
  });
});
