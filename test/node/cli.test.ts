/** `npm run upload` as a user runs it: a child process against the Worker in workerd and the emulator. */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, OLD_BUCKET, type RunningSigner, runTool, startEmulator, startSigner } from "./harness";

const root = resolve(import.meta.dirname, "../..");
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  signer = await startSigner({ COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, UPLOAD_ALLOWED_EXTENSIONS: "md,bin" });
  files = await fixtures("cli-files");
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

function runCli(args: string[]) {
  return runTool("cli/upload.ts", args, { env: { COS_SIGNER_URL: signer.url } });
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

  it("exits 2 on usage errors", async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([join(files.dir, "missing.bin")])).stderr).toContain("no such file");
    expect((await runCli([join(root, "README.md"), "--method", "patch"])).code).toBe(2);
  }, 30_000);
});
