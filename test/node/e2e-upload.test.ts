/**
 * The whole flow with real parts and real protocols on loopback: the Mini Program uploader (miniprogram/cos-upload)
 * with a `wx` that does real HTTP and file I/O → the Worker in workerd → the COS emulator, which verifies every
 * signature independently. Bytes are read back and compared.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adviceFor } from "../../miniprogram/cos-upload/advice";
import { createUploader, UploadError, type UploadProgress } from "../../miniprogram/cos-upload/index";
import { wxNode } from "../../wx-node/index";
import { fixtures, NEW_BUCKET, OLD_BUCKET, type RunningSigner, SECRET_KEY, startEmulator, startSigner, wxRequest } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let pathStyle: RunningSigner;
let virtualHosted: RunningSigner;
let newBucketPathStyle: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  files = await fixtures("e2e-files");
  const common = { COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, UPLOAD_ALLOWED_EXTENSIONS: "jpg,png,mp4,bin", UPLOAD_MAX_BYTES: String(8 * 1024 * 1024) };
  [pathStyle, virtualHosted, newBucketPathStyle] = await Promise.all([
    startSigner({ ...common, COS_ENDPOINT: emulator.url, COS_PATH_STYLE: "true" }),
    // The bucket's own domain, as `<bucket>.cos.<region>.localhost:<port>`: resolved to 127.0.0.1, routed by Host.
    startSigner({ ...common, COS_ENDPOINT: `http://${OLD_BUCKET.name}.cos.${OLD_BUCKET.region}.localhost:${emulator.port}`, COS_PATH_STYLE: "false" }),
    startSigner({ ...common, COS_BUCKET: NEW_BUCKET.name, COS_ENDPOINT: emulator.url, COS_PATH_STYLE: "true" }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([pathStyle?.dispose(), virtualHosted?.dispose(), newBucketPathStyle?.dispose()]);
  await emulator?.dispose();
  await files?.dispose();
});

const fixture = (name: string, bytes: Buffer) => files.write(name, bytes);

/** GET the object back over HTTP, the way a viewer would. */
async function download(url: string): Promise<{ status: number; body: Buffer }> {
  const { status, data } = await wxRequest({ url, method: "GET", responseType: "arraybuffer", dataType: "binary" });
  return { status, body: Buffer.from(data as ArrayBuffer) };
}

const sizes = [0, 1, 5 * 1024 * 1024];
const names = ["photo.jpg", "照片 (1) +~%.jpg"];

for (const [label, signer] of [
  ["regional domain (path-style)", () => pathStyle],
  ["bucket domain (virtual-hosted)", () => virtualHosted],
] as const) {
  describe(`uploads through ${label}`, () => {
    for (const method of ["put", "post"] as const) {
      for (const size of sizes) {
        for (const name of size === 1 ? names : names.slice(0, 1)) {
          it(`${method.toUpperCase()} ${size} B "${name}" arrives byte for byte`, async () => {
            const bytes = randomBytes(size);
            const filePath = await fixture(`${method}-${size}-${name}`, bytes);
            const progress: UploadProgress[] = [];
            // Single uploads: the 5 MiB file stays below the size at which the library goes multipart.
            const uploader = createUploader({ signerUrl: signer().url, wx: wxNode, multipartAboveBytes: 8 * 1024 * 1024 });
            const result = await uploader.upload({ filePath, method, size, onProgress: (p) => progress.push(p) });
            // An empty file goes as a POST form whatever was asked: the signer signs no empty PUT.
            expect(result.method).toBe(size === 0 ? "POST" : method.toUpperCase());
            expect(result.key).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
            const stored = await emulator.store.get(OLD_BUCKET.name, result.key);
            expect(stored?.body.equals(bytes)).toBe(true);
            expect(stored?.object.contentType).toBe("image/jpeg");
            const downloaded = await download(result.url);
            expect(downloaded.status).toBe(200);
            expect(downloaded.body.equals(bytes)).toBe(true);
            expect(progress.at(-1)?.percent).toBe(100);
            if (method === "post" && size > 1024 * 1024) expect(progress.length).toBeGreaterThan(10);
          }, 30_000);
        }
      }
    }
  });
}

describe("what the uploader reports", () => {
  it("retries an injected 503 and succeeds on the next try", async () => {
    const before = emulator.log.length;
    emulator.failNext(503, 1);
    const uploader = createUploader({ signerUrl: pathStyle.url, wx: wxNode, backoffMs: 10 });
    const result = await uploader.upload({ filePath: await fixture("retry.png", randomBytes(100)), method: "put" });
    const puts = emulator.log.slice(before).filter((entry) => entry.method === "PUT");
    expect(puts.map((entry) => entry.status)).toEqual([503, 200]);
    expect(result.key).toMatch(/\.png$/);
  });

  it("does not retry a 403", async () => {
    const before = emulator.log.length;
    emulator.failNext(403, 1);
    const uploader = createUploader({ signerUrl: pathStyle.url, wx: wxNode, backoffMs: 10 });
    const error = await uploader.upload({ filePath: await fixture("no-retry.png", randomBytes(100)), method: "post" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).status).toBe(403);
    expect((error as UploadError).retryable).toBe(false);
    expect(emulator.log.slice(before).filter((entry) => entry.method === "POST")).toHaveLength(1);
  });

  it("gives up after maxAttempts on repeated 5xx", async () => {
    emulator.failNext(500, 5);
    const uploader = createUploader({ signerUrl: pathStyle.url, wx: wxNode, backoffMs: 1, maxAttempts: 2 });
    const error = (await uploader.upload({ filePath: await fixture("give-up.png", randomBytes(10)), method: "put" }).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe("InternalError");
    expect(error.status).toBe(500);
    emulator.failNext(500, 0);
  });

  it("explains PathStyleDomainForbidden for a bucket created after 2024-01-01", async () => {
    const uploader = createUploader({ signerUrl: newBucketPathStyle.url, wx: wxNode });
    const error = (await uploader.upload({ filePath: await fixture("new.jpg", randomBytes(10)), method: "put" }).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe("PathStyleDomainForbidden");
    expect(error.status).toBe(403);
    expect(adviceFor(error)).toContain("COS_PATH_STYLE=false");
  });

  it("passes the signer's refusal through with its code", async () => {
    const uploader = createUploader({ signerUrl: pathStyle.url, wx: wxNode });
    const error = (await uploader.upload({ filePath: await fixture("virus.exe", randomBytes(10)) }).catch((e: unknown) => e)) as UploadError;
    expect(error.source).toBe("signer");
    expect(error.code).toBe("ext_not_allowed");
    expect(error.status).toBe(400);
  });

  it("aborts a running upload", async () => {
    const uploader = createUploader({ signerUrl: pathStyle.url, wx: wxNode });
    const task = uploader.upload({
      filePath: await fixture("abort.mp4", randomBytes(6 * 1024 * 1024)),
      method: "post",
      onProgress: (p) => {
        if (p.percent >= 1) task.abort();
      },
    });
    const error = (await task.catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe("aborted");
  });

  it("never lets the SecretKey reach the emulator's view of any request", () => {
    expect(JSON.stringify(emulator.log)).not.toContain(SECRET_KEY);
  });
});
