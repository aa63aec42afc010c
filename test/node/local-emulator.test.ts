/**
 * `npm run cos:local` as local mode starts it (emulator/main.ts): dev/local.env's two key pairs, each with the
 * least-privilege CAM policy of docs/security.md (dev/cam-policies.json). The write pair uploads under uploads/ and
 * nothing else; the read pair reads there and writes nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyTimeAt, presignUrl, signRequest } from "../../worker/src/cos/index.js";

const root = join(import.meta.dirname, "../..");
const BUCKET = "examplebucket-1250000000";
let child: ChildProcess;
let origin: string;
let dataDir: string;
let dev: Record<string, string | undefined>;

beforeAll(async () => {
  dev = parseEnv(await readFile(join(root, "dev/local.env"), "utf8"));
  dataDir = await mkdtemp(join(tmpdir(), "cos-local-"));
  child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "emulator/main.ts")], {
    env: { ...process.env, COS_LOCAL_PORT: "0", COS_LOCAL_DATA: dataDir },
  });
  origin = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code})`)));
  });
}, 30_000);

afterAll(async () => {
  child?.kill("SIGTERM");
  await rm(dataDir, { recursive: true, force: true });
});

const write = () => ({ secretId: dev.COS_SECRET_ID!, secretKey: dev.COS_SECRET_KEY! });
const read = () => ({ secretId: dev.COS_READ_SECRET_ID!, secretKey: dev.COS_READ_SECRET_KEY! });

async function send(credentials: ReturnType<typeof write>, method: "PUT" | "DELETE" | "GET", key: string, body?: Uint8Array<ArrayBuffer>) {
  const host = new URL(origin).host;
  const headers: Record<string, string> = { host, ...(body ? { "content-length": String(body.length) } : {}) };
  const { authorization } = await signRequest(credentials, { method, pathname: `/${BUCKET}/${key}`, query: {}, headers }, keyTimeAt(new Date(), 600));
  return fetch(`${origin}/${BUCKET}/${key}`, { method, headers: { Authorization: authorization }, ...(body ? { body } : {}) });
}

describe("local mode's emulator gives each key pair its least privilege", () => {
  it("the write pair uploads under uploads/ only, and deletes and reads nothing", async () => {
    expect((await send(write(), "PUT", "uploads/a.txt", new Uint8Array([1, 2]))).status).toBe(200);
    expect((await send(write(), "PUT", "site/index.html", new Uint8Array([1]))).status).toBe(403);
    expect((await send(write(), "DELETE", "uploads/a.txt")).status).toBe(403);
    expect((await send(write(), "GET", "uploads/a.txt")).status).toBe(403);
  });

  it("the read pair reads under uploads/ and writes nothing; a read URL takes no response-content-type", async () => {
    expect((await send(read(), "PUT", "uploads/b.txt", new Uint8Array([1]))).status).toBe(403);
    expect((await send(write(), "PUT", "uploads/c.txt", new Uint8Array([3]))).status).toBe(200);
    const { url } = await presignUrl(read(), { method: "GET", url: `${origin}/${BUCKET}/uploads/c.txt`, keyTime: keyTimeAt(new Date(), 600) });
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(`${url}&response-content-type=text%2Fhtml`)).status).toBe(403);
  });
});
