/**
 * `npm run dev -- --moderation` as a fresh clone starts it (scripts/dev.mjs in local mode: the COS emulator, the WeChat
 * stand-in, `wrangler dev` with WeChat sessions and UPLOAD_MODERATION=wechat), driven by `npm run moderation:demo`
 * exactly as docs/moderation.md says: a harmless file goes pending → stored and gets a read URL, a RISKY one goes
 * pending → blocked and is refused.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/workerd.js";
import { runTool } from "./harness";

const root = resolve(import.meta.dirname, "../..");
let dir: string;
let dev: ChildProcess;
let signer: string;
let output = "";

beforeAll(async () => {
  dir = join(root, ".wrangler", `dev-moderation-test-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  const toml = (await readFile(join(root, "wrangler.toml"), "utf8"))
    .replace('main = "worker/src/index.ts"', `main = "${join(root, "worker/src/index.ts")}"`)
    .replace('directory = "./public"', `directory = "${join(root, "public")}"`);
  await writeFile(join(dir, "wrangler.toml"), toml);
  const port = await freePort();
  signer = `http://127.0.0.1:${port}`;
  dev = spawn(
    process.execPath,
    [join(root, "scripts/dev.mjs"), "--moderation", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", join(dir, "state")],
    {
      cwd: dir,
      env: { ...process.env, CI: "true", COS_LOCAL_PORT: String(await freePort()), COS_LOCAL_DATA: join(dir, "cos"), WECHAT_LOCAL_PORT: String(await freePort()), WECHAT_PUSH_DELAY_MS: "300" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  dev.stdout!.on("data", (chunk) => (output += chunk));
  dev.stderr!.on("data", (chunk) => (output += chunk));
  for (const deadline = Date.now() + 60_000; ; ) {
    if (dev.exitCode !== null || Date.now() > deadline) throw new Error(`npm run dev -- --moderation did not start:\n${output}`);
    if (await fetch(`${signer}/healthz`).then((response) => response.ok, () => false)) break;
    await new Promise((done) => setTimeout(done, 200));
  }
}, 90_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    process.kill(-dev.pid!, "SIGTERM");
    await new Promise((done) => dev.once("exit", done));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm run dev -- --moderation", () => {
  it("shows the whole flow: pending → stored for a harmless file, pending → blocked for a risky one", async () => {
    await writeFile(join(dir, "ok.jpg"), "a harmless picture");
    await writeFile(join(dir, "bad.jpg"), "RISKY");
    const passed = await runTool("scripts/moderation-demo.ts", [join(dir, "ok.jpg"), "--signer", signer]);
    expect(passed.stdout, passed.stderr).toMatch(/: pending\nverdict: stored\nread URL: http/);
    const blocked = await runTool("scripts/moderation-demo.ts", [join(dir, "bad.jpg"), "--user", "eve", "--signer", signer]);
    expect(blocked.stdout, blocked.stderr).toMatch(/: pending\nverdict: blocked\nread URL refused: moderation_blocked/);
    expect(output).toContain("WeChat stand-in (local, not WeChat's service)");
    expect(output).toMatch(/pushed risky for standin-trace-\S+: HTTP 200/);
  }, 60_000);
});
