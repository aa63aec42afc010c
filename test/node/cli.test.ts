/** `npm run upload` as a user runs it: a child process against the Worker in workerd and the emulator. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
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

/** `npm run upload -- <file> --part-size 1` in a child process, stopped with Ctrl-C (SIGINT) once 4 parts are in. */
async function interruptedUpload(file: string, partsSent: () => number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "cli/upload.ts"), file, "--part-size", "1"], {
    env: { ...process.env, ...cliEnv() },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  await expect.poll(partsSent, { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(4);
  child.kill("SIGINT");
  const code = await new Promise<number | null>((done) => child.once("close", done));
  return { code, stderr };
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
      const { code, stderr } = await interruptedUpload(file, () => parts() - before);
      // It says what stays on COS and how to go on or give up.
      expect(code).toBe(130);
      expect(stderr).toContain("interrupted: the parts sent so far stay on COS (multipart upload of uploads/");
      expect(stderr).toContain(`Go on where it stopped: npm run upload -- ${file}`);
      expect(stderr).toContain(`Give it up:             npm run upload -- ${file} --cancel`);
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

  it("--cancel after Ctrl-C aborts the upload on COS and forgets it", async () => {
    const file = await files.write("given-up.bin", randomBytes(8 * 1024 * 1024));
    const parts = () => emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes("partNumber=") && entry.status === 200).length;
    const before = parts();
    emulator.setPartDelay(60);
    try {
      expect((await interruptedUpload(file, () => parts() - before)).code).toBe(130);
    } finally {
      emulator.setPartDelay(0);
    }
    const aborts = () => emulator.log.filter((entry) => entry.method === "DELETE" && entry.url.includes("uploadId=") && entry.status === 204).length;
    const abortsBefore = aborts();
    const cancelled = await runCli([file, "--cancel"]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stderr).toContain(`cancelled the interrupted upload of ${file}`);
    expect(aborts()).toBe(abortsBefore + 1);
    const again = await runCli([file, "--cancel"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no interrupted upload");
  }, 60_000);

  it("exits 2 on usage errors", async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([join(files.dir, "missing.bin")])).stderr).toContain("no such file");
    expect((await runCli([join(root, "README.md"), "--method", "patch"])).code).toBe(2);
    expect((await runCli([join(root, "README.md"), "--part-size", "0"])).code).toBe(2);
  }, 30_000);
});

describe("npm run clean:local", () => {
  it("removes the emulator's data folder and the CLI's list of interrupted uploads", async () => {
    const data = join(files.dir, "cos-data");
    const state = join(files.dir, "clean-state.json");
    await mkdir(join(data, "examplebucket-1250000000"), { recursive: true });
    await writeFile(join(data, "examplebucket-1250000000", "object"), "x");
    await writeFile(state, "{}");
    const run = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = spawn("npm", ["run", "-s", "clean:local"], { cwd: root, env: { ...process.env, COS_LOCAL_DATA: data, COS_UPLOAD_STATE: state }, stdio: ["ignore", "pipe", "inherit"] });
      let stdout = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.once("close", (code) => done({ code, stdout }));
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`removed ${data}`);
    expect(existsSync(data)).toBe(false);
    expect(existsSync(state)).toBe(false);
  }, 30_000);
});
