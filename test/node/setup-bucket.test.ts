/**
 * `npm run setup:bucket` as a user runs it, against the COS emulator: it shows the lifecycle and CORS rules it would
 * add, changes nothing without a yes, applies them with `--yes` keeping the bucket's other rules, and has nothing to
 * do the second time.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyTimeAt, signRequest } from "../../worker/src/cos/index.js";
import { fixtures, OLD_BUCKET, SECRET_ID, SECRET_KEY, startEmulator } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let files: Awaited<ReturnType<typeof fixtures>>;
let config: string;
const root = join(import.meta.dirname, "../..");

beforeAll(async () => {
  emulator = await startEmulator();
  files = await fixtures("setup-bucket");
  config = join(files.dir, "wrangler.toml");
  await writeFile(
    config,
    [
      'name = "setup-bucket-test"',
      'main = "worker/src/index.ts"',
      'compatibility_date = "2026-10-01"',
      "[vars]",
      `COS_BUCKET = "${OLD_BUCKET.name}"`,
      `COS_REGION = "${OLD_BUCKET.region}"`,
      `COS_ENDPOINT = "${emulator.url}"`,
      'CORS_ORIGINS = "https://app.example.com"',
      "[vars.UPLOAD_PROFILES.default]",
      `bucket = "${OLD_BUCKET.name}"`,
      "[vars.UPLOAD_PROFILES.video]",
      `bucket = "${OLD_BUCKET.name}"`,
      'keyPrefix = "video"',
    ].join("\n"),
  );
});

afterAll(async () => {
  await emulator?.dispose();
  await files?.dispose();
});

/** The script in a child process, stdin closed (no one to answer the question). */
function setup(args: string[], env: Record<string, string | undefined> = { ...process.env, COS_SECRET_ID: SECRET_ID, COS_SECRET_KEY: SECRET_KEY }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "scripts/setup-bucket.ts"), "--config", config, ...args], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      cwd: root,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** A signed bucket request of our own, to set and read what the script must keep. */
async function bucket(method: "GET" | "PUT", resource: "lifecycle" | "cors", body?: string): Promise<{ status: number; xml: string }> {
  const host = new URL(emulator.url).host;
  const headers: Record<string, string> = body === undefined ? {} : { "content-md5": createHash("md5").update(body).digest("base64") };
  const { authorization } = await signRequest(
    { secretId: SECRET_ID, secretKey: SECRET_KEY },
    { method, pathname: `/${OLD_BUCKET.name}/`, query: { [resource]: "" }, headers: { host, ...headers } },
    keyTimeAt(new Date(), 600),
  );
  const response = await fetch(`${emulator.url}/${OLD_BUCKET.name}/?${resource}`, { method, headers: { Authorization: authorization, ...headers }, ...(body ? { body } : {}) });
  return { status: response.status, xml: await response.text() };
}

describe("npm run setup:bucket", () => {
  it("shows the rules, asks, applies them with --yes keeping other rules, then has nothing to do", async () => {
    const theirs = "<Rule><ID>archive</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>";
    expect((await bucket("PUT", "lifecycle", `<LifecycleConfiguration>${theirs}</LifecycleConfiguration>`)).status).toBe(200);
    expect((await fetch(`${emulator.url}/${OLD_BUCKET.name}/?lifecycle`, { method: "PUT", body: "<LifecycleConfiguration/>" })).status).toBe(403);

    const asked = await setup(["--days", "3"]);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain("+ <Rule><ID>cos-edge-signer-default</ID><Filter><Prefix>uploads/</Prefix></Filter>");
    expect(asked.stdout).toContain("<ID>cos-edge-signer-video</ID><Filter><Prefix>video/</Prefix></Filter>");
    expect(asked.stdout).toContain("<DaysAfterInitiation>3</DaysAfterInitiation>");
    expect(asked.stdout).toContain("<AllowedOrigin>https://app.example.com</AllowedOrigin>");
    expect(asked.stdout).toContain("Nothing changed");
    expect((await bucket("GET", "cors")).status).toBe(404);

    const applied = await setup(["--days", "3", "--yes"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`applied: ${OLD_BUCKET.name} lifecycle`);
    const lifecycle = (await bucket("GET", "lifecycle")).xml;
    expect(lifecycle).toContain(theirs);
    expect(lifecycle).toContain("<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>");
    expect((await bucket("GET", "cors")).xml).toContain("<AllowedMethod>PUT</AllowedMethod>");

    const again = await setup(["--days", "3", "--yes"]);
    expect(again.stdout).toContain("Nothing to change");

    const longer = await setup(["--days", "7"]);
    expect(longer.stdout).toContain("- <Rule><ID>cos-edge-signer-default</ID>");
    expect(longer.stdout).toContain("<DaysAfterInitiation>7</DaysAfterInitiation>");
  }, 60_000);

  it("refuses a bad --days and a missing key pair by name", async () => {
    expect((await setup(["--days", "0"])).stderr).toContain("--days must be a whole number");
    const withoutKeys = (await setup([], { PATH: process.env.PATH })).stderr;
    expect(withoutKeys).toContain("COS_SECRET_ID is not set");
  }, 30_000);
});
