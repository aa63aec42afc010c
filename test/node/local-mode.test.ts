/**
 * `npm run dev` in local mode, exactly as a fresh clone starts it (scripts/dev.mjs: no .dev.vars, so dev/local.env
 * and the COS emulator of `npm run cos:local` under it), in a project folder of its own that also holds a Node
 * host's `.env`, which must not change anything. Through it: docs/sdk.md's local-mode snippet, run as written there
 * through cos-wx-sdk-v5 (a slice upload, a refusal with the signer's code), and receipts, on dev/local.env's
 * dev-only secret.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { verify } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/workerd.js";
import { wxNode } from "../../wx-node/index";
import { wxRequest } from "./harness";

const root = resolve(import.meta.dirname, "../..");
const MiB = 1024 * 1024;
const local = parseEnv(await readFile(join(root, "dev/local.env"), "utf8"));

let dir: string;
let dev: ChildProcess;
let signer: string;
let cosPort: number;
let output = "";

async function waitFor(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (dev.exitCode !== null) throw new Error(`npm run dev exited early:\n${output}`);
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`npm run dev did not answer in time:\n${output}`);
}

beforeAll(async () => {
  dir = join(root, ".wrangler", `local-mode-test-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  const toml = (await readFile(join(root, "wrangler.toml"), "utf8"))
    .replace('main = "worker/src/index.ts"', `main = "${join(root, "worker/src/index.ts")}"`)
    .replace('directory = "./public"', `directory = "${join(root, "public")}"`);
  await writeFile(join(dir, "wrangler.toml"), toml);
  // A .env made for `npm run start:node`: it must neither switch local mode off nor reach the Worker.
  await writeFile(join(dir, ".env"), "AUTH_MODE=wechat\nCOS_SECRET_ID=AKIDNODEHOSTxxxxxxxxxxxxxxxxxxxxxxxx\nCOS_SECRET_KEY=node-host-key\n");
  const port = await freePort();
  cosPort = await freePort();
  signer = `http://127.0.0.1:${port}`;
  dev = spawn(
    process.execPath,
    [join(root, "scripts/dev.mjs"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", join(dir, "state")],
    {
      cwd: dir,
      env: { ...process.env, CI: "true", COS_LOCAL_PORT: String(cosPort), COS_LOCAL_DATA: join(dir, "cos") },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  dev.stdout!.on("data", (chunk) => (output += chunk));
  dev.stderr!.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  await waitFor(`${signer}/healthz`, deadline);
  await waitFor(`http://127.0.0.1:${cosPort}/`, deadline);
  process.env.COS_UPLOAD_STATE = join(dir, "wx-storage.json");
}, 90_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    // The whole group: npm run dev's script, the emulator, and the wrangler and workerd under it.
    process.kill(-dev.pid!, "SIGTERM");
    await new Promise((done) => dev.once("exit", done));
  }
  delete process.env.COS_UPLOAD_STATE;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const response = await fetch(`${signer}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string } } };
}

/** A receipt for `key`: the facts COS (the emulator) holds about it, signed with dev/local.env's RECEIPT_SECRET. */
async function receiptFor(key: string): Promise<{ size: number; key: string }> {
  const answer = await post("/v1/uploads/receipt", { key });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const claims = await verify(answer.body.receipt as string, local.RECEIPT_SECRET!, "HS256");
  return claims as unknown as { size: number; key: string };
}

describe("npm run dev on a fresh clone (local mode)", () => {
  it("runs in local mode although a .env is there, and says the .env is ignored", async () => {
    const health = await fetch(`${signer}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(health.headers.get("X-Signer-Warning")).toContain("dummy dev credentials");
    expect(output).toContain("LOCAL MODE");
    expect(output).toContain(".env is ignored here");
    // AUTH_MODE=none, not the .env's wechat: signing needs no session.
    expect((await post("/v1/uploads", { ext: "jpg", size: 3 })).status).toBe(200);
  });

  it("gives receipts on dev/local.env's dev-only secret, for an upload COS holds", async () => {
    const bytes = randomBytes(1234);
    const descriptor = (await post("/v1/uploads", { ext: "txt", size: bytes.length })).body as { key: string; url: string; headers: Record<string, string> };
    expect(descriptor.url).toBe(`http://127.0.0.1:${cosPort}/${descriptor.key}`);
    const put = await wxRequest({ url: descriptor.url, method: "PUT", header: descriptor.headers, data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), dataType: "text" });
    expect(put.status).toBe(200);
    expect(await receiptFor(descriptor.key)).toMatchObject({ key: descriptor.key, size: bytes.length });
  });

  it("logs an expected multipart_required at info, not as a warning", async () => {
    expect((await post("/v1/uploads", { ext: "mp4", size: 64 * MiB })).body.error?.code).toBe("multipart_required");
    await expect.poll(() => output.includes('"code":"multipart_required"'), { timeout: 5000 }).toBe(true);
    expect(output).toMatch(/"level":"info"[^\n]*"code":"multipart_required"/);
    expect(output).not.toMatch(/"level":"warn"[^\n]*"code":"multipart_required"/);
  });
});

/** docs/sdk.md's local-mode block, as written, with the ports of this run. */
async function sdkSnippet(): Promise<string> {
  const doc = await readFile(join(root, "docs/sdk.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Local mode (`npm run dev`)"));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block).toBeDefined();
  expect(block).toContain("'http://127.0.0.1:8787'");
  expect(block).toContain("'http://127.0.0.1:9000'");
  return block!.replace("'http://127.0.0.1:8787'", `'${signer}'`).replace("'http://127.0.0.1:9000'", `'http://127.0.0.1:${cosPort}'`);
}

interface Snippet {
  upload(filePath: string, ext: string, onProgress?: (progress: unknown) => void): Promise<{ Key: string }>;
  cos: { putObject(params: Record<string, unknown>, callback: (error: unknown) => void): void };
  signerError(): { code: string; message: string } | null;
}

/** cos-wx-sdk-v5's published build (what a Mini Program's npm build takes), with wx-node as `wx`. */
function wxSdk(): unknown {
  const global = globalThis as { wx?: unknown; window?: unknown };
  global.wx = wxNode;
  // Its UMD wrapper names `window` once while loading.
  global.window = globalThis;
  try {
    return createRequire(import.meta.url)("cos-wx-sdk-v5");
  } finally {
    delete global.window;
  }
}

describe("docs/sdk.md's local-mode snippet through cos-wx-sdk-v5", () => {
  let snippet: Snippet;
  beforeAll(async () => {
    const run = new Function("COS", "wx", `${await sdkSnippet()}\nreturn { upload, cos, signerError: () => signerError };`);
    snippet = run(wxSdk(), wxNode) as Snippet;
  });

  it("slice-uploads a file in several parts to the key the signer chose", async () => {
    const bytes = randomBytes(2 * MiB + 4321);
    const filePath = join(dir, "clip.mp4");
    await writeFile(filePath, bytes);
    const progress: unknown[] = [];
    const { Key } = await snippet.upload(filePath, "mp4", (step) => progress.push(step));
    expect(Key).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.mp4$/);
    expect(await receiptFor(Key)).toMatchObject({ size: bytes.length });
    // The emulator's console (npm run dev's output) shows each part.
    await expect.poll(() => output.includes("partNumber=3"), { timeout: 5000 }).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
  }, 60_000);

  it("reports a refusal with the signer's code, not the SDK's 'missing TmpSecretId'", async () => {
    await expect(snippet.upload(join(dir, "clip.mp4"), "exe")).rejects.toMatchObject({ code: "ext_not_allowed" });
    const filePath = join(dir, "a.jpg");
    await writeFile(filePath, randomBytes(100));
    const error = await new Promise((done) =>
      snippet.cos.putObject({ Bucket: "examplebucket-1250000000", Region: "ap-guangzhou", Key: "elsewhere/a.jpg", FilePath: filePath }, done),
    );
    expect(String((error as { message?: string }).message ?? error)).toContain("TmpSecretId");
    expect(snippet.signerError()).toMatchObject({ code: "key_invalid" });
  });
});
