/**
 * The upload library on a network that fails the way phones' do, with real parts on 127.0.0.1: the library (Node `wx`
 * adapter) → a fault-injecting TCP proxy → the Worker in workerd, and → another proxy → the COS emulator (the
 * Worker's own COS calls pass that proxy too, as they would cross the same outage). Resets in every part, an outage
 * shorter and longer than the give-up time, the app hidden and shown, a file changed between tries, a part changed on
 * the way, a part refused for good, and WeChat's whole-request timeout.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createUploader, type UploadProgress } from "../../miniprogram/cos-upload/index";
import type { WxLike, WxRequestOptions } from "../../miniprogram/cos-upload/wx-like";
import { wxNode } from "../../wx-node/index";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy";
import { fixtures, OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const MiB = 1024 * 1024;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let cosProxy: FaultProxy;
let signerProxy: FaultProxy;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  cosProxy = await startFaultProxy(emulator.port);
  signer = await startSigner({ COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: cosProxy.url, UPLOAD_MAX_BYTES: String(64 * MiB) });
  signerProxy = await startFaultProxy(Number(new URL(signer.url).port));
  files = await fixtures("unreliable-network");
  process.env.COS_UPLOAD_STATE = join(files.dir, "uploads.json");
}, 60_000);

afterAll(async () => {
  delete process.env.COS_UPLOAD_STATE;
  await signerProxy?.close();
  await cosProxy?.close();
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

beforeEach(async () => {
  await rm(join(files.dir, "uploads.json"), { force: true });
  cosProxy.resetEachPartOnce = false;
  cosProxy.corruptPart = undefined;
  cosProxy.resetNextUpload = false;
  cosProxy.answerDelayMs = 0;
  emulator.setPartDelay(0);
});

/** Successful part PUTs of one object, by part number. */
const landed = (key: string) =>
  emulator.log
    .filter((entry) => entry.method === "PUT" && entry.status === 200 && entry.url.includes(key.split("/").pop()!))
    .map((entry) => Number(/partNumber=(\d+)/.exec(entry.url)?.[1]));
const stored = async (key: string) => (await emulator.store.get(OLD_BUCKET.name, key))?.body;
const both = (ms: number) => (cosProxy.outage(ms), signerProxy.outage(ms));
const uploaderWith = (options: Partial<Parameters<typeof createUploader>[0]> = {}) => createUploader({ signerUrl: signerProxy.url, wx: wxNode, ...options });
/** Runs `action` once, the first time an upload reports bytes sent. */
const onFirstBytes = (action: () => void) => {
  let done = false;
  return (progress: UploadProgress) => progress.sentBytes > 0 && !done && ((done = true), action());
};

describe("uploads over a network that fails", () => {
  it("a connection reset in every part still completes, each part sent again alone", async () => {
    const bytes = randomBytes(6 * MiB + 123);
    const filePath = await files.write("resets.mp4", bytes);
    cosProxy.resetEachPartOnce = true;
    const before = cosProxy.resets.length;
    const result = await uploaderWith().upload({ filePath, size: bytes.length, method: "put" });
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
    expect(cosProxy.resets.slice(before).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(landed(result.key).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }, 60_000);

  it("a dropped connection is retried at once while parts land; failures without progress wait the backoff", async () => {
    const bytes = randomBytes(4 * MiB + 5);
    const filePath = await files.write("at-once.mp4", bytes);
    cosProxy.resetEachPartOnce = true;
    const from = cosProxy.partRequests.length;
    // One part at a time, so each reset follows a landed part.
    const result = await uploaderWith({ backoffMs: 20_000, concurrency: 1 }).upload({ filePath, size: bytes.length, method: "put" });
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
    const tries = (n: number) => cosProxy.partRequests.slice(from).filter((request) => request.partNumber === n).map((request) => request.at);
    // Each full part's second try left as soon as its first was cut, not after 2–4 s of backoff (20 s, capped at 4 s,
    // with jitter; part 5, 5 bytes, is never cut).
    for (let n = 1; n <= 4; n++) {
      const [first, second] = tries(n);
      expect(second! - first!).toBeLessThan(1500);
    }
    // Part 2 refused twice (503) after part 1 landed: the second try at once, the third after 1–2 s of backoff.
    cosProxy.resetEachPartOnce = false;
    const again = cosProxy.partRequests.length;
    await uploaderWith({ backoffMs: 2000, concurrency: 1 }).upload({ filePath, size: bytes.length, method: "put", onProgress: onFirstBytes(() => emulator.failNext(503, 2)) });
    const [first, second, third] = cosProxy.partRequests.slice(again).filter((request) => request.partNumber === 2).map((request) => request.at);
    expect(second! - first!).toBeLessThan(900);
    expect(third! - second!).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it("a single upload cut on the way goes on part by part, and so do the uploader's later uploads above 1 MiB", async () => {
    const bytes = randomBytes(3 * MiB + 7);
    const filePath = await files.write("cut-single.mp4", bytes);
    cosProxy.resetNextUpload = true;
    const uploader = uploaderWith();
    // Below multipartAboveBytes (4 MiB): one POST first, cut after 64 KiB, then four parts.
    const result = await uploader.upload({ filePath, size: bytes.length });
    expect(cosProxy.resetNextUpload).toBe(false);
    expect(result.method).toBe("PUT");
    expect(landed(result.key).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
    const smaller = randomBytes(2 * MiB);
    const second = await files.write("after-cut.mp4", smaller);
    // Multipart at once (its part size fitted to the rate the first upload's parts landed at: here, loopback's).
    const later = await uploader.upload({ filePath: second, size: smaller.length });
    expect(later.method).toBe("PUT");
    expect(landed(later.key).length).toBeGreaterThan(0);
    expect((await stored(later.key))?.equals(smaller)).toBe(true);
    // An uploader that saw no cut sends the same file in one POST.
    expect((await uploaderWith().upload({ filePath: second, size: smaller.length })).method).toBe("POST");
  }, 60_000);

  it("a POST whose bytes are all handed over is not cut as stalled while its answer takes longer than stallMs", async () => {
    const bytes = randomBytes(2 * MiB);
    const filePath = await files.write("slow-answer.mp4", bytes);
    // As on a slow link: the socket took every byte at once (the last progress event says 100 %), COS's answer comes
    // 1.5 s later.
    cosProxy.answerDelayMs = 1500;
    const uploads = emulator.log.length;
    const result = await uploaderWith({ stallMs: 700 }).upload({ filePath, size: bytes.length });
    expect(result.method).toBe("POST");
    expect(emulator.log.slice(uploads).filter((entry) => entry.method === "POST")).toHaveLength(1);
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
  }, 60_000);

  it("an outage shorter than giveUpAfterMs is waited out: the upload completes", async () => {
    const bytes = randomBytes(8 * MiB);
    const filePath = await files.write("outage.mp4", bytes);
    emulator.setPartDelay(100);
    const started = Date.now();
    const result = await uploaderWith({ giveUpAfterMs: 10_000 }).upload({ filePath, size: bytes.length, method: "put", onProgress: onFirstBytes(() => both(3000)) });
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
  }, 60_000);

  it("an outage longer than giveUpAfterMs gives up with the upload pending; resume() sends only what is missing", async () => {
    const bytes = randomBytes(8 * MiB);
    const filePath = await files.write("long-outage.mp4", bytes);
    emulator.setPartDelay(100);
    const uploader = uploaderWith({ giveUpAfterMs: 1000 });
    await expect(uploader.upload({ filePath, size: bytes.length, method: "put", onProgress: onFirstBytes(() => both(3000)) })).rejects.toMatchObject({ source: "network" });
    const [pending] = uploader.pendingUploads();
    expect(pending).toMatchObject({ filePath, size: bytes.length, partCount: 8 });
    const confirmed = Object.keys(pending!.crcs).map(Number);
    expect(confirmed.length).toBeGreaterThan(0);
    // Later, the network back (and the app perhaps restarted): a new uploader, the same storage.
    await new Promise((done) => setTimeout(done, 3000));
    const before = landed(pending!.key).length;
    const result = await uploaderWith().resume(pending!);
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
    // Sent again: only the parts whose landing the library had not seen confirmed with COS's CRC-64 (a part COS
    // took just as the network went may be one of them).
    const resent = landed(result.key).slice(before).sort((a, b) => a - b);
    expect(resent).toEqual([1, 2, 3, 4, 5, 6, 7, 8].filter((n) => !confirmed.includes(n)));
  }, 60_000);

  it("wx.onAppHide pauses (nothing new starts), wx.onAppShow goes on, landed parts are kept", async () => {
    const bytes = randomBytes(8 * MiB);
    const filePath = await files.write("hidden.mp4", bytes);
    emulator.setPartDelay(100);
    const listeners: { hide?: () => void; show?: () => void } = {};
    const starts: number[] = [];
    const wx: WxLike = {
      ...wxNode,
      onAppHide: (listener) => (listeners.hide = listener),
      onAppShow: (listener) => (listeners.show = listener),
      request(options: WxRequestOptions) {
        starts.push(Date.now());
        return wxNode.request(options);
      },
    };
    let hiddenAt = 0;
    const task = createUploader({ signerUrl: signerProxy.url, wx }).upload({
      filePath,
      size: bytes.length,
      method: "put",
      onProgress: onFirstBytes(() => ((hiddenAt = Date.now()), listeners.hide!())),
    });
    await new Promise((done) => setTimeout(done, 1500));
    expect(hiddenAt).toBeGreaterThan(0);
    // The parts in flight when the app was hidden may finish (they had 5 s); no request starts while hidden.
    expect(starts.filter((at) => at > hiddenAt + 50)).toEqual([]);
    listeners.show!();
    const result = await task;
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
    expect(landed(result.key).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  }, 60_000);

  it("a file changed since its upload began starts afresh, and the old upload is aborted on COS", async () => {
    const first = randomBytes(6 * MiB);
    const filePath = await files.write("changed.mp4", first);
    emulator.setPartDelay(100);
    const uploader = uploaderWith({ giveUpAfterMs: 500 });
    await expect(uploader.upload({ filePath, size: first.length, method: "put", onProgress: onFirstBytes(() => both(1500)) })).rejects.toThrow();
    const [old] = uploader.pendingUploads();
    expect(old).toBeDefined();
    await new Promise((done) => setTimeout(done, 1600));
    // The same size, the first MiB overwritten, as `npm run upload`, Ctrl-C, an edit and a rerun would do.
    const second = Buffer.concat([randomBytes(MiB), first.subarray(MiB)]);
    await writeFile(filePath, second);
    const later = new Date(Date.now() + 5000);
    await utimes(filePath, later, later);
    const result = await uploader.upload({ filePath, size: second.length, method: "put" });
    expect(result.key).not.toBe(old!.key);
    expect((await stored(result.key))?.equals(second)).toBe(true);
    await expect.poll(() => emulator.log.some((entry) => entry.method === "DELETE" && entry.url.includes(old!.key.split("/").pop()!))).toBe(true);
  }, 60_000);

  it("a part changed on the way is caught by its CRC-64 and sent again; the object equals the file", async () => {
    const bytes = randomBytes(6 * MiB);
    const filePath = await files.write("corrupt.mp4", bytes);
    cosProxy.corruptPart = 2;
    const before = cosProxy.corrupted.length;
    const result = await uploaderWith().upload({ filePath, size: bytes.length, method: "put" });
    expect(cosProxy.corrupted.slice(before)).toEqual([2]);
    // COS took the changed bytes once (200), then the good ones.
    expect(landed(result.key).filter((n) => n === 2)).toHaveLength(2);
    expect((await stored(result.key))?.equals(bytes)).toBe(true);
  }, 60_000);

  it("a part refused for good stops every other request of the upload before it rejects", async () => {
    const bytes = randomBytes(12 * MiB);
    const filePath = await files.write("refused.mp4", bytes);
    emulator.setPartDelay(300);
    const started = Date.now();
    const error = await uploaderWith()
      .upload({ filePath, size: bytes.length, method: "put", onProgress: onFirstBytes(() => emulator.failNext(400, 1)) })
      .catch((e: unknown) => e);
    const rejectedAt = Date.now();
    expect(error).toMatchObject({ code: "InjectedFault", status: 400 });
    await new Promise((done) => setTimeout(done, 800));
    const sent = cosProxy.partRequests.filter((request) => request.at >= started);
    expect(sent.filter((request) => request.at > rejectedAt)).toEqual([]);
    // The one landed, the refused one, and those that were in flight beside it: far from the 12 parts.
    expect(sent.length).toBeLessThanOrEqual(6);
  }, 60_000);
});

describe("wx-node keeps WeChat's request semantics", () => {
  it("`timeout` covers the whole request, however busy the connection", async () => {
    // Bytes every 50 ms for 3 s: never idle, yet longer than the timeout.
    const server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      const timer = setInterval(() => res.write("."), 50);
      setTimeout(() => (clearInterval(timer), res.end()), 3000);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const started = Date.now();
    const errMsg = await new Promise<string>((resolve) =>
      wxNode.request({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        method: "GET",
        timeout: 500,
        success: () => resolve("success"),
        fail: (error) => resolve(error.errMsg),
      }),
    );
    server.closeAllConnections();
    server.close();
    expect(errMsg).toBe("request:fail timeout");
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
