/** `npm run upload` as a user runs it: a child process against the Worker in workerd and the emulator. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, OLD_BUCKET, type RunningSigner, runTool, startEmulator, startSigner } from "./harness";

const root = resolve(import.meta.dirname, "../..");
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  signer = await startSigner({
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    UPLOAD_ALLOWED_EXTENSIONS: "md,bin",
    UPLOAD_MULTIPART_THRESHOLD: String(1024 * 1024),
  });
  files = await fixtures("cli-files");
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

const cliEnv = () => ({ COS_SIGNER_URL: signer.url, COS_UPLOAD_STATE: join(files.dir, "uploads.json") });

function runCli(args: string[]) {
  return runTool("cli/upload.ts", args, { env: cliEnv() });
}

describe("npm run upload", () => {
  for (const method of ["post", "put"]) {
    it(`uploads a file with --method ${method} and prints the object URL`, async () => {
      const bytes = randomBytes(300 * 1024);
      const file = await files.write(`data-${method}.bin`, bytes);
      const result = await runCli([file, "--method", method]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const url = result.stdout.trim();
      expect(url).toMatch(new RegExp(`^${emulator.url}/${OLD_BUCKET.name}/uploads/\\d{4}/\\d{2}/\\d{2}/[0-9a-f]{32}\\.bin$`));
      const downloaded = Buffer.from(await (await fetch(url)).arrayBuffer());
      expect(downloaded.equals(bytes)).toBe(true);
    }, 30_000);
  }

  it("uploads the README, as the quick start says", async () => {
    const result = await runCli([join(root, "README.md")]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/\.md$/);
  }, 30_000);

  it("exits 1 with the signer's code when the upload is refused", async () => {
    const file = await files.write("tool.exe", "MZ");
    const result = await runCli([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("upload failed: ext_not_allowed (HTTP 400) from signer");
  }, 30_000);

  it("exits 1 with COS's code when COS refuses", async () => {
    emulator.failNext(403, 1);
    const file = await files.write("denied.bin", "x");
    const result = await runCli([file, "--method", "put"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("upload failed: AccessDenied (HTTP 403) from cos");
  }, 30_000);

  it("exits 1 with unknown_profile for a profile the signer does not have", async () => {
    const result = await runCli([join(root, "README.md"), "--profile", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("upload failed: unknown_profile (HTTP 400) from signer");
  }, 30_000);

  it("a big file goes multipart with --part-size; after Ctrl-C the same command goes on where it stopped", async () => {
    const bytes = randomBytes(24 * 1024 * 1024 + 99);
    const file = await files.write("big.bin", bytes);
    const parts = () => emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes("partNumber=") && entry.status === 200).length;
    const before = parts();
    emulator.setPartDelay(60);
    try {
      // Interrupted like a user would: Ctrl-C once a few parts are in.
      const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "cli/upload.ts"), file, "--part-size", "1"], {
        env: { ...process.env, ...cliEnv() },
        stdio: "ignore",
      });
      await expect.poll(() => parts() - before, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(4);
      child.kill("SIGINT");
      await new Promise((done) => child.once("close", done));
      const sentFirst = parts() - before;
      expect(sentFirst).toBeLessThan(25);
    } finally {
      emulator.setPartDelay(0);
    }
    // The parts whose landing the first run saw confirmed (CRC-64 recorded); one COS took as Ctrl-C came is sent again.
    const [pending] = Object.values(JSON.parse(await readFile(cliEnv().COS_UPLOAD_STATE, "utf8")) as { crcs: Record<string, string> }[]);
    const confirmed = Object.keys(pending!.crcs).length;
    // The parts in flight at Ctrl-C reach the emulator's log once its delay is over: counted before the rerun.
    await new Promise((done) => setTimeout(done, 300));
    const sentBeforeRerun = parts();
    const result = await runCli([file, "--part-size", "1"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("going on with the interrupted upload");
    const url = result.stdout.trim();
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true);
    // 25 parts of 1 MiB in all: the rerun sent only those not confirmed held.
    expect(confirmed).toBeGreaterThanOrEqual(1);
    expect(parts() - sentBeforeRerun).toBe(25 - confirmed);
  }, 60_000);

  it("exits 2 on usage errors", async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([join(files.dir, "missing.bin")])).stderr).toContain("no such file");
    expect((await runCli([join(root, "README.md"), "--method", "patch"])).code).toBe(2);
    expect((await runCli([join(root, "README.md"), "--part-size", "0"])).code).toBe(2);
  }, 30_000);
});
