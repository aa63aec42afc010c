/**
 * The signer built for the hosts inside mainland China, started as their users start it: the SCF bundle from its
 * scf_bootstrap, and `node dist/node/server.mjs` reading a `.env` (what `npm run start:node` runs). Each answers
 * /healthz and signs an upload that the COS emulator accepts, through the Mini Program's own library.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../bench/workerd.js";
import { startNodeServer } from "../../worker/src/hosts/node.js";
import { openSqliteLedger } from "../../worker/src/ledger/sqlite.js";
import { createUploader } from "../../miniprogram/cos-upload/index";
import { wxNode } from "../../wx-node/index";
import { fixtures, OLD_BUCKET, runTool, SECRET_ID, SECRET_KEY, startEmulator } from "./harness";

const root = resolve(import.meta.dirname, "../..");
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let files: Awaited<ReturnType<typeof fixtures>>;
const children: ChildProcess[] = [];
/** The process groups of detached children (npm run, npm exec). */
const groups: number[] = [];

beforeAll(async () => {
  const built = await runTool("scripts/build-hosts.ts", ["node", "scf", "edgeone"]);
  expect(built.code, built.stderr).toBe(0);
  emulator = await startEmulator();
  files = await fixtures("hosts");
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  // npm passes no SIGTERM on to the server it started: a detached child's whole group goes (gone already: ESRCH).
  for (const group of groups) {
    try {
      process.kill(-group, "SIGTERM");
    } catch {}
  }
  await emulator?.dispose();
  await files?.dispose();
});

const signerEnv = () => ({ COS_SECRET_ID: SECRET_ID, COS_SECRET_KEY: SECRET_KEY, COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, AUTH_MODE: "none" });

/** Starts a host process and waits until its /healthz answers; `output()`: what it printed so far. */
async function started(command: string, args: string[], options: { cwd: string; env: Record<string, string>; detached?: boolean }, url: string): Promise<ChildProcess & { output(): string }> {
  const child = spawn(command, args, { cwd: options.cwd, env: { PATH: process.env.PATH!, ...options.env } as unknown as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], detached: options.detached ?? false });
  children.push(child);
  if (options.detached) groups.push(child.pid!);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${output}`);
    if (await fetch(`${url}/healthz`).then((response) => response.ok, () => false)) return Object.assign(child, { output: () => output });
    if (Date.now() > deadline) throw new Error(`no answer:\n${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Runs a command to its end; its exit code and everything it printed. */
function finished(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  // npm's own environment (registry, certificates) passes through: `npm run` and `npm exec` need it.
  const child = spawn(command, args, { cwd: options.cwd, env: { ...npmEnvironment(), ...options.env } as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  return new Promise((done) => child.once("close", (code) => done({ code, output })));
}

/** What npm needs to reach its registry here (proxy, certificates, cache), and nothing of the signer's. */
const npmEnvironment = () =>
  Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^(COS_|AUTH_|UPLOAD_|STS_)/.test(entry[0])));

/** `node` of an older release, from the npm registry's `node` package (cached by npm after the first run). */
const olderNode = (major: number, args: string[]) => ["npm", ["exec", "--yes", `--package=node@${major}`, "--", "node", ...args]] as const;

async function uploadThrough(signerUrl: string, method: "put" | "post"): Promise<void> {
  const bytes = randomBytes(40_000);
  const filePath = await files.write(`${method}-${randomBytes(4).toString("hex")}.jpg`, bytes);
  const result = await createUploader({ signerUrl, wx: wxNode }).upload({ filePath, size: bytes.length, method });
  expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
}

describe("Tencent SCF web function bundle", () => {
  it("has an executable scf_bootstrap with LF line endings that starts the server on 0.0.0.0:9000 by default", async () => {
    const bootstrap = join(root, "dist/scf/scf_bootstrap");
    expect((await stat(bootstrap)).mode & 0o111).not.toBe(0);
    const text = await readFile(bootstrap, "utf8");
    expect(text.startsWith("#!/bin/bash\n")).toBe(true);
    expect(text).not.toContain("\r");
    expect(text).toContain('PORT="${PORT:-9000}"');
    expect(text).toContain('HOST="${HOST:-0.0.0.0}"');
  });

  it("started from scf_bootstrap: answers /healthz and signs PUT and POST uploads that COS accepts", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await started(join(root, "dist/scf/scf_bootstrap"), [], { cwd: join(root, "dist/scf"), env: { ...signerEnv(), PORT: String(port), HOST: "127.0.0.1" } }, url);
    await uploadThrough(url, "put");
    await uploadThrough(url, "post");
  }, 30_000);

  it("stops gracefully on SIGTERM", async () => {
    const port = await freePort();
    const child = await started(join(root, "dist/scf/scf_bootstrap"), [], { cwd: join(root, "dist/scf"), env: { ...signerEnv(), PORT: String(port), HOST: "127.0.0.1" } }, `http://127.0.0.1:${port}`);
    child.kill("SIGTERM");
    const code = await new Promise((done) => child.once("exit", done));
    expect(code).toBe(0);
  }, 30_000);
});

describe("npm run start:node (dist/node/server.mjs)", () => {
  it("reads .env beside it (UPLOAD_PROFILES as JSON) and serves a multipart upload end to end", async () => {
    const dir = await mkdtemp(join(tmpdir(), "start-node-"));
    try {
      const port = await freePort();
      const profiles = { video: { bucket: OLD_BUCKET.name, endpoint: emulator.url, extensions: ["mp4"], multipartThreshold: 1024 * 1024 } };
      const dotenv = Object.entries({ ...signerEnv(), PORT: String(port), HOST: "127.0.0.1", UPLOAD_PROFILES: JSON.stringify(profiles) })
        .map(([name, value]) => `${name}='${value}'`)
        .join("\n");
      await writeFile(join(dir, ".env"), `${dotenv}\n`);
      const url = `http://127.0.0.1:${port}`;
      await started(process.execPath, [join(root, "dist/node/server.mjs")], { cwd: dir, env: {} }, url);
      expect(await (await fetch(`${url}/v1/profiles`)).json()).toMatchObject({ profiles: expect.arrayContaining([expect.objectContaining({ name: "video" })]) });
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const filePath = await files.write("clip.mp4", bytes);
      process.env.COS_UPLOAD_STATE = join(dir, "uploads.json");
      const result = await createUploader({ signerUrl: url, wx: wxNode }).upload({ filePath, size: bytes.length, method: "put", profile: "video" });
      delete process.env.COS_UPLOAD_STATE;
      expect(result.size).toBe(bytes.length);
      expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("Node versions (SCF's Node runtimes: 16.13 and older, 18.15, 20.19, 22.21, 24.11)", () => {
  it("on Node 18, the oldest supported: the built server answers and signs PUT and POST uploads that COS accepts", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const [command, args] = olderNode(18, [join(root, "dist/node/server.mjs")]);
    await started(command, [...args], { cwd: root, env: { ...npmEnvironment(), ...signerEnv(), PORT: String(port), HOST: "127.0.0.1" }, detached: true }, url);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
    await uploadThrough(url, "put");
    await uploadThrough(url, "post");
  }, 120_000);

  it("on Node 16: refuses to start, saying which Node it needs", async () => {
    const [command, args] = olderNode(16, [join(root, "dist/node/server.mjs")]);
    const run = await finished(command, [...args], { cwd: root, env: { ...signerEnv(), PORT: String(await freePort()), HOST: "127.0.0.1" } });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain("cos-edge-signer needs Node.js 18 or later");
    expect(run.output).toContain("this is Node.js v16.");
  }, 120_000);
});

describe("a failure the app's error handler cannot answer", () => {
  it("is logged and answered 500 internal_error as JSON, not an empty 500", async () => {
    const running = await startNodeServer({ env: signerEnv(), port: 0, hostname: "127.0.0.1" });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    // The request id comes from crypto.randomUUID in every answer, the error handler's included.
    const uuid = vi.spyOn(crypto, "randomUUID").mockImplementation(() => {
      throw new Error("no randomness today");
    });
    try {
      const response = await fetch(`${running.url}/healthz`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: { code: "internal_error", message: expect.any(String) } });
      expect(logged.mock.calls.flat().join("\n")).toContain("no randomness today");
    } finally {
      uuid.mockRestore();
      logged.mockRestore();
      await running.close();
    }
  });
});

describe("npm run start:node without configuration", () => {
  it.skipIf(existsSync(join(root, ".env")))("fails at start with the configuration error and exit code 1, listening on nothing", async () => {
    const port = await freePort();
    const run = await finished("npm", ["run", "start:node"], { cwd: root, env: { PORT: String(port), HOST: "127.0.0.1" } });
    expect(run.code).toBe(1);
    expect(run.output).toContain('"code":"config_invalid"');
    expect(run.output).toContain("not started: COS_");
    expect(run.output).not.toContain("listening on");
  }, 120_000);
});

describe("npm run start:node with LEDGER_SQLITE_PATH", () => {
  it("keeps the books in that file: a quota set in the environment holds, and the reservation is there after the stop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "start-node-sqlite-"));
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = { ...npmEnvironment(), ...signerEnv(), LEDGER_SQLITE_PATH: join(dir, "ledger.db"), UPLOAD_QUOTA_BYTES: "1000", PORT: String(port), HOST: "127.0.0.1" };
      // Its own process group: npm's shell passes no SIGTERM on to the server it started.
      const child = await started("npm", ["run", "start:node"], { cwd: root, env, detached: true }, url);
      const exited = new Promise((done) => child.once("exit", done));
      const upload = (size: number) => fetch(`${url}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ext: "jpg", size }) });
      expect((await upload(600)).status).toBe(200);
      const refused = await upload(600);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("quota_exceeded");
      // Node 22 would print "ExperimentalWarning: SQLite is an experimental feature…" on every start: the host keeps it quiet.
      expect(child.output()).not.toContain("ExperimentalWarning");
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      // The server itself closes the file as it stops; wait for it to let go of its port.
      for (let i = 0; i < 50 && (await fetch(`${url}/healthz`).then(() => true, () => false)); i++) await new Promise((done) => setTimeout(done, 100));
      const ledger = await openSqliteLedger(join(dir, "ledger.db"));
      expect(await ledger.of("default", "").usage(Date.now())).toMatchObject({ reservedBytes: 600, files: 0 });
      ledger.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("on Node 18: refuses to start with config_invalid, naming the Node version node:sqlite needs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "start-node-sqlite-"));
    try {
      const [command, args] = olderNode(18, [join(root, "dist/node/server.mjs")]);
      const env = { ...npmEnvironment(), ...signerEnv(), LEDGER_SQLITE_PATH: join(dir, "ledger.db"), PORT: String(await freePort()), HOST: "127.0.0.1" };
      const run = await finished(command, [...args], { cwd: root, env });
      expect(run.code).toBe(1);
      expect(run.output).toContain('"code":"config_invalid"');
      expect(run.output).toContain("not started: LEDGER_SQLITE_PATH needs Node.js 22.13.0 or later");
      expect(run.output).toContain("this is Node.js v18.");
      expect(run.output).not.toContain("listening on");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the Node server's in-process rate limits", () => {
  it("60 new uploads a minute per caller, behind a proxy counted by the address the proxy appended", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await started(process.execPath, [join(root, "dist/node/server.mjs")], { cwd: root, env: { ...signerEnv(), PORT: String(port), HOST: "127.0.0.1", CLIENT_ADDRESS_HEADER: "X-Forwarded-For" } }, url);
    const upload = (address: string) =>
      fetch(`${url}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json", "X-Forwarded-For": `10.0.0.1, ${address}` }, body: '{"ext":"jpg","size":1}' });
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await upload("203.0.113.70")).status);
    expect(statuses.slice(0, 60).every((status) => status === 200)).toBe(true);
    const limited = await upload("203.0.113.70");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    // The proxy's own entry (the last one) counts, not the client-written first one.
    expect((await upload("203.0.113.71")).status).toBe(200);
  }, 30_000);
});

describe("EdgeOne edge function bundle", () => {
  it("hands the request and the project's env (secrets included) to the signer; limits per client address", async () => {
    const { onRequest } = (await import(join(root, "dist/edgeone/edge-functions/[[default]].js"))) as typeof import("../../worker/src/hosts/edgeone.js");
    const env = { ...signerEnv(), COS_ENDPOINT: "https://cos.example.invalid" };
    const context = (path: string, clientIp: string) => ({
      request: Object.assign(new Request(`https://sign.example.com${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"ext":"jpg","size":1}' }), { eo: { clientIp } }),
      env,
      waitUntil: () => undefined,
    });
    const first = await onRequest(context("/v1/uploads", "203.0.113.50"));
    expect(first.status).toBe(200);
    expect(((await first.json()) as { headers: Record<string, string> }).headers.Authorization).toContain(`q-ak=${SECRET_ID}`);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await onRequest(context("/v1/uploads", "203.0.113.50"))).status);
    expect(statuses.at(-1)).toBe(429);
    expect((await onRequest(context("/v1/uploads", "203.0.113.51"))).status).toBe(200);
  });
});
