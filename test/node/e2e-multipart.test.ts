/**
 * Large files end to end with the Mini Program's own library: the library (through the Node `wx` adapter) → the
 * Worker in workerd → the COS emulator. Multipart above the profile's threshold, an interruption and a resume that
 * sends only the missing parts (counted at the emulator), abort, and how often the signer is asked.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createUploader, type UploadProgress } from "../../miniprogram/cos-upload/index";
import type { WxLike, WxRequestOptions } from "../../miniprogram/cos-upload/wx-like";
import { wxNode } from "../../wx-node/index";
import { fixtures, OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const MiB = 1024 * 1024;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  // Multipart above 8 MiB here, files up to 200 MiB.
  signer = await startSigner({
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    UPLOAD_MAX_BYTES: String(200 * MiB),
    UPLOAD_MULTIPART_THRESHOLD: String(8 * MiB),
  });
  files = await fixtures("e2e-multipart");
  // The adapter's storage (what resume() reads) goes to this test's own file.
  process.env.COS_UPLOAD_STATE = join(files.dir, "uploads.json");
}, 60_000);

afterAll(async () => {
  delete process.env.COS_UPLOAD_STATE;
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

beforeEach(async () => {
  await rm(join(files.dir, "uploads.json"), { force: true });
});

/** The Node adapter, counting the signer's routes asked and failing part PUTs after `partsBeforeFailure`. */
function countingWx(partsBeforeFailure = Number.POSITIVE_INFINITY) {
  const asked: string[] = [];
  let parts = 0;
  const wx: WxLike = {
    ...wxNode,
    request(options: WxRequestOptions) {
      if (options.url.startsWith(signer.url)) asked.push(new URL(options.url).pathname);
      if (options.method === "PUT" && options.url.includes("partNumber=") && ++parts > partsBeforeFailure) {
        setTimeout(() => options.fail({ errMsg: "request:fail the app went to the background" }), 0);
        return { abort() {} };
      }
      return wxNode.request(options);
    },
  };
  return { wx, asked };
}

const partPuts = () => emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes("partNumber=") && entry.status === 200).length;

describe("upload() of a large file goes multipart by itself", () => {
  it("a 52 MiB file: 1 MiB parts on a link not measured yet, 3 in flight, one signer call before the first byte, bytes equal, progress to 100 %", async () => {
    const bytes = randomBytes(52 * MiB + 4321);
    const filePath = await files.write("video.mp4", bytes);
    const { wx, asked } = countingWx();
    const progress: UploadProgress[] = [];
    const result = await createUploader({ signerUrl: signer.url, wx }).upload({ filePath, size: bytes.length, method: "put", onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ method: "PUT", size: bytes.length });
    expect(emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes(result.key.split("/").pop()!) && entry.status === 200)).toHaveLength(53);
    expect(result.key).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.mp4$/);
    expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
    // One signer call before the first byte: the size is known, and the answer carries the parts' signatures.
    expect(asked).toEqual(["/v1/multipart", "/v1/multipart/complete"]);
    expect(progress.at(-1)).toEqual({ percent: 100, sentBytes: bytes.length, totalBytes: bytes.length });
    expect(progress.map((p) => p.sentBytes)).toEqual([...progress.map((p) => p.sentBytes)].sort((a, b) => a - b));
    expect(await createUploader({ signerUrl: signer.url, wx: wxNode }).pendingUploads()).toEqual([]);
  }, 60_000);

  it("a POST above the threshold goes multipart too (POST has no resume of its own)", async () => {
    const bytes = randomBytes(9 * MiB);
    const filePath = await files.write("clip.mov", bytes);
    const result = await createUploader({ signerUrl: signer.url, wx: wxNode }).upload({ filePath, size: bytes.length, method: "post" });
    expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
  }, 30_000);

  it("an interruption keeps the upload pending; resume() sends only the parts COS does not hold", async () => {
    const bytes = randomBytes(31 * MiB + 7);
    const filePath = await files.write("long.mp4", bytes);
    const before = partPuts();
    // The network goes away after 3 parts (and stays away for every retry).
    const broken = countingWx(3);
    await expect(
      createUploader({ signerUrl: signer.url, wx: broken.wx, concurrency: 1, backoffMs: 1, giveUpAfterMs: 300 }).upload({ filePath, size: bytes.length, method: "put", partSize: 5 * MiB }),
    ).rejects.toMatchObject({
      code: "network_error",
    });
    expect(partPuts() - before).toBe(3);
    // Later — after a restart: a new uploader, the same storage.
    const uploader = createUploader({ signerUrl: signer.url, wx: wxNode });
    const [pending] = uploader.pendingUploads();
    expect(pending).toMatchObject({ filePath, size: bytes.length, partCount: 7 });
    const progress: UploadProgress[] = [];
    const result = await uploader.resume(pending!, (p) => progress.push(p));
    expect(partPuts() - before).toBe(7);
    expect(progress[0]!.sentBytes).toBe(3 * 5 * MiB);
    expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
    expect(uploader.pendingUploads()).toEqual([]);
  }, 60_000);

  it("abort() stops the parts in flight and aborts the upload on COS", async () => {
    const bytes = randomBytes(20 * MiB);
    const filePath = await files.write("abort.mp4", bytes);
    const uploader = createUploader({ signerUrl: signer.url, wx: wxNode });
    const aborts = () => emulator.log.filter((entry) => entry.method === "DELETE" && entry.url.includes("uploadId=")).length;
    const before = aborts();
    let task: ReturnType<typeof uploader.upload> | undefined;
    // Aborted twice, as an impatient user taps twice: only the first call does anything.
    task = uploader.upload({ filePath, size: bytes.length, method: "put", onProgress: (p) => p.sentBytes > 0 && (task?.abort(), task?.abort()) });
    await expect(task).rejects.toMatchObject({ code: "aborted" });
    await expect.poll(() => emulator.log.some((entry) => entry.method === "DELETE" && entry.url.includes("uploadId=") && entry.status === 204)).toBe(true);
    expect(uploader.pendingUploads()).toEqual([]);
    await new Promise((done) => setTimeout(done, 500));
    expect(aborts() - before).toBe(1);
  }, 30_000);

  it("cancel() gives a pending upload up: forgotten, and aborted on COS", async () => {
    const bytes = randomBytes(10 * MiB);
    const filePath = await files.write("cancel.mp4", bytes);
    const broken = countingWx(0);
    await expect(createUploader({ signerUrl: signer.url, wx: broken.wx, maxAttempts: 1 }).upload({ filePath, size: bytes.length, method: "put" })).rejects.toThrow();
    const uploader = createUploader({ signerUrl: signer.url, wx: wxNode });
    const [pending] = uploader.pendingUploads();
    // This upload's aborts only: the test before may still have its own DELETEs arriving.
    const name = pending!.key.split("/").pop()!;
    const deletes = () => emulator.log.filter((entry) => entry.method === "DELETE" && entry.url.includes(name) && entry.url.includes("uploadId=")).length;
    const before = deletes();
    uploader.cancel(pending!);
    expect(uploader.pendingUploads()).toEqual([]);
    await expect.poll(deletes).toBe(before + 1);
  }, 30_000);

  it("a pending upload COS no longer has (aborted elsewhere) fails once with its code, is forgotten, and the next try starts afresh", async () => {
    const bytes = randomBytes(10 * MiB);
    const filePath = await files.write("stale.mp4", bytes);
    await expect(createUploader({ signerUrl: signer.url, wx: countingWx(0).wx, maxAttempts: 1 }).upload({ filePath, size: bytes.length, method: "put" })).rejects.toThrow();
    const uploader = createUploader({ signerUrl: signer.url, wx: wxNode });
    const [pending] = uploader.pendingUploads();
    // Aborted behind the library's back (another device, an operator, a lifecycle rule).
    await fetch(`${signer.url}/v1/multipart/abort`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: pending!.token }) });
    await expect(uploader.upload({ filePath, size: bytes.length, method: "put" })).rejects.toMatchObject({ code: "upload_not_found", status: 404 });
    expect(uploader.pendingUploads()).toEqual([]);
    const result = await uploader.upload({ filePath, size: bytes.length, method: "put" });
    expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
  }, 30_000);
});

describe("a complete that already happened answers the same success (issue 18)", () => {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${signer.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("three concurrent completes while COS merges, and a retry after: all 200 with the same object", async () => {
    const started = await post("/v1/multipart", { ext: "mp4", size: 6 * MiB });
    const token = started.body.token as string;
    const { body } = await post("/v1/multipart/parts", { token, partNumbers: [1, 2] });
    for (const [index, part] of (body.parts as { url: string; headers: Record<string, string> }[]).entries()) {
      expect((await fetch(part.url, { method: "PUT", headers: part.headers, body: new Uint8Array(index === 0 ? 5 * MiB : MiB) })).status).toBe(200);
    }
    emulator.setMergeDelay(300);
    try {
      const answers = await Promise.all([1, 2, 3].map(() => post("/v1/multipart/complete", { token })));
      answers.push(await post("/v1/multipart/complete", { token }));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      for (const answer of answers) expect(answer.body).toMatchObject({ key: started.body.key, size: 6 * MiB });
    } finally {
      emulator.setMergeDelay(0);
    }
  }, 30_000);

  it("the library keeps an upload whose complete answer was lost, and resume() ends it with the object's facts", async () => {
    const bytes = randomBytes(10 * MiB + 3);
    const filePath = await files.write("lost-answer.mp4", bytes);
    // The complete reaches the signer, its answer does not reach the app.
    const wx: WxLike = {
      ...wxNode,
      request(options: WxRequestOptions) {
        if (!options.url.endsWith("/v1/multipart/complete")) return wxNode.request(options);
        return wxNode.request({ ...options, success: () => options.fail({ errMsg: "request:fail the app went to the background" }) });
      },
    };
    await expect(createUploader({ signerUrl: signer.url, wx, maxAttempts: 1 }).upload({ filePath, size: bytes.length, method: "put" })).rejects.toMatchObject({ code: "network_error" });
    const uploader = createUploader({ signerUrl: signer.url, wx: wxNode });
    const [pending] = uploader.pendingUploads();
    expect(pending).toMatchObject({ filePath, size: bytes.length });
    const result = await uploader.resume(pending!);
    expect(result).toMatchObject({ key: pending!.key, size: bytes.length });
    expect((await emulator.store.get(OLD_BUCKET.name, result.key))?.body.equals(bytes)).toBe(true);
    expect(uploader.pendingUploads()).toEqual([]);
  }, 30_000);
});
