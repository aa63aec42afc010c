/** `npm run upload` as a user runs it: a child process against the Worker in workerd and the emulator. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const root = resolve(import.meta.dirname, "../..");
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: string;

beforeAll(async () => {
  emulator = await startEmulator();
  signer = await startSigner({ COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, UPLOAD_ALLOWED_EXTENSIONS: "md,bin" });
  files = await mkdtemp(join(tmpdir(), "cli-files-"));
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await rm(files, { recursive: true, force: true });
});

/** Runs the CLI without blocking the event loop (the Worker and the emulator serve from this process). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "cli/upload.ts"), ...args], {
      env: { ...process.env, COS_SIGNER_URL: signer.url },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

describe("npm run upload", () => {
  for (const method of ["post", "put"]) {
    it(`uploads a file with --method ${method} and prints the object URL`, async () => {
      const bytes = randomBytes(300 * 1024);
      const file = join(files, `data-${method}.bin`);
      await writeFile(file, bytes);
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
    const file = join(files, "tool.exe");
    await writeFile(file, "MZ");
    const result = await runCli([file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("upload failed: ext_not_allowed (HTTP 400) from signer");
  }, 30_000);

  it("exits 1 with COS's code when COS refuses", async () => {
    emulator.failNext(403, 1);
    const file = join(files, "denied.bin");
    await writeFile(file, "x");
    const result = await runCli([file, "--method", "put"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("upload failed: AccessDenied (HTTP 403) from cos");
  }, 30_000);

  it("exits 1 with unknown_profile for a profile the signer does not have", async () => {
    const result = await runCli([join(root, "README.md"), "--profile", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("upload failed: unknown_profile (HTTP 400) from signer");
  }, 30_000);

  it("exits 2 on usage errors", async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([join(files, "missing.bin")])).stderr).toContain("no such file");
    expect((await runCli([join(root, "README.md"), "--method", "patch"])).code).toBe(2);
  }, 30_000);
});
