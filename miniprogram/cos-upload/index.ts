/**
 * cos-upload: upload a file from a Mini Program straight to Tencent COS with a descriptor from cos-edge-signer.
 * No crypto and no keys here: the signer decides the key and signs; this only asks and sends.
 */
import { crc64, crc64Combine, fromDecimal } from "./crc64";
import { cosError, networkError, UploadError } from "./errors";
import type { WxLike } from "./wx-like";

export { UploadError } from "./errors";
export type { UploadErrorSource } from "./errors";
export type { WxLike } from "./wx-like";

export interface UploaderOptions {
  /** The signer's origin, e.g. https://sign.example.com */
  signerUrl: string;
  /** Defaults to the global `wx`. */
  wx?: WxLike;
  /** Extra headers for the signer (your own authentication). */
  signerHeaders?: () => Record<string, string>;
  /**
   * When the signer answers 401 (AUTH_MODE=wechat), log in with `wx.login()` + `POST /v1/session`, keep the token
   * for later uploads, and ask again — once. Default true.
   */
  login?: boolean;
  /**
   * How long an upload may go without progress (no part landed at COS, no byte of a POST reported sent)
   * before it gives up; until then network errors, timeouts, 429 and 5xx are retried with backoff. A multipart upload
   * that gives up stays pending for `resume()`. Default 120 000 ms (a 30 s outage passes).
   */
  giveUpAfterMs?: number;
  /** Tries per request at most, on top of giveUpAfterMs. Default: no limit. */
  maxAttempts?: number;
  /** A POST with no progress event for this long, or a signer call without an answer, is cut and retried. Default 20 000 ms. */
  stallMs?: number;
  /** Parts of a multipart upload in flight at once (WeChat allows 10 requests). Default 3. */
  concurrency?: number;
  /**
   * The first failure since bytes last landed is retried at once; the next after this delay, doubled after each
   * further failure without progress up to 4 s, with jitter. Default 500 ms.
   */
  backoffMs?: number;
  /** A file of known size above this goes multipart at once, so a dropped connection costs one part. Default 4 MiB. */
  multipartAboveBytes?: number;
}

export interface UploadProgress {
  /** 0–100 */
  percent: number;
  sentBytes: number;
  totalBytes: number;
}

export interface UploadOptions {
  filePath: string;
  /** The signer's upload profile (GET /v1/profiles); default "default". */
  profile?: string;
  /** File suffix; default: taken from filePath. */
  ext?: string;
  /**
   * Byte size; binds the signature to it (chooseMedia gives it). Needed for multipart: above the profile's threshold
   * the upload goes part by part, resumable by `resume()` even after the app was killed.
   */
  size?: number;
  contentType?: string;
  /** "post" (wx.uploadFile: streams from disk, reports progress; default) or "put" (wx.request with the bytes). */
  method?: "put" | "post";
  /**
   * Bytes a part, when the upload goes multipart (at least 1 MiB). Default: fitted to the rate this uploader's parts
   * landed at — 1 MiB on an unknown or slow link, up to 16 MiB on a fast one (about 2 s of sending a part).
   */
  partSize?: number;
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadResult {
  key: string;
  /** The object's URL. */
  url: string;
  method: "PUT" | "POST";
  /**
   * After a multipart upload: the object's size, ETag and CRC-64 (x-cos-hash-crc64ecma, decimal) as COS reports them;
   * the CRC-64 was checked against the local bytes.
   */
  size?: number;
  etag?: string;
  crc64?: string | null;
}

/** A multipart upload that did not finish, kept in wx storage: `resume()` it, or `cancel()` it. */
export interface PendingUpload {
  filePath: string;
  size: number;
  key: string;
  objectUrl: string;
  token: string;
  partSize: number;
  partCount: number;
  /** The file's modification time (seconds) when the upload began: a changed file starts afresh. */
  modified?: number;
  /** CRC-64 (its 32-bit halves, "hi.lo") of each part COS confirmed holding, by part number. */
  crcs: Record<string, string>;
}

/** A promise of the result that can also be aborted (it then rejects with code "aborted"; a multipart upload is aborted on COS too). */
export type UploadTask = Promise<UploadResult> & { abort(): void };

interface Descriptor {
  method: "PUT" | "POST";
  key: string;
  url: string;
  objectUrl: string;
  headers?: Record<string, string>;
  fields?: Record<string, string>;
  fileField?: string;
}

interface SignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

const readFailed = (message: string) => new UploadError("read_failed", message, "client");
const MiB = 1024 * 1024;

/** A `catch` that rethrows every error but the one with `code`, which the caller handles. */
const unless = (code: string) => (error: unknown): undefined => {
  if ((error as UploadError | undefined)?.code !== code) throw error;
  return undefined;
};

/** Storage keys of pending multipart uploads: this prefix and the file path. */
const STORE = "cos-upload:";

export function extensionOf(filePath: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(filePath);
  return match ? match[1]!.toLowerCase() : "";
}

export function createUploader(options: UploaderOptions) {
  const maxAttempts = options.maxAttempts ?? Infinity;
  const giveUpAfter = options.giveUpAfterMs ?? 120000;
  const stallMs = options.stallMs ?? 20000;
  const backoff = options.backoffMs ?? 500;
  const concurrency = options.concurrency ?? 3;
  const signer = options.signerUrl.replace(/\/+$/, "");
  const wx = () => options.wx ?? (globalThis as unknown as { wx: WxLike }).wx;
  const app = wx() as WxLike | undefined;
  // The session token, shared by every upload of this uploader (one login for all of them).
  let token: Promise<string> | undefined;
  // Bytes a second one request carried, as parts landed (0: not measured yet). Fits part sizes and timeouts.
  let rate = 0;
  // A single upload of this uploader was cut on the way (a dropped connection, a timeout, the app hidden): its next try,
  // and later uploads above 1 MiB, go part by part, so that the next cut costs one part.
  let drops = false;
  // Each upload under way, by file path: a new upload of the same file first stops the old one and waits for it.
  const running = new Map<string, { op: ReturnType<typeof operation>; settled: Promise<unknown> }>();
  // While the app is in the background: resolves when it is shown again.
  let hidden: Promise<void> | undefined;
  let shown = () => {};
  let grace: ReturnType<typeof setTimeout> | undefined;
  app?.onAppHide?.(() => {
    hidden ??= new Promise((resolve) => (shown = resolve));
    // WeChat fails what is still open 5 s after hiding: cut it a little before, to be sent again once shown.
    grace = setTimeout(() => running.forEach(({ op }) => op.interrupt(new UploadError("paused", "app hidden", "network"))), 4000);
  });
  app?.onAppShow?.(() => {
    if (grace) clearTimeout(grace);
    hidden = undefined;
    shown();
  });

  /** The calls of one upload (or cancel): each wx call is tracked, so they can be cut all at once. */
  function operation() {
    const cancels = new Set<(error: UploadError) => void>();
    let stopped: UploadError | undefined;
    let lastProgress = Date.now();
    let failures = 0;

    // Runs one wx call; `interrupt()` and `stop()` cancel every call in flight.
    const call = <T>(start: (done: (value: T) => void, fail: (error: UploadError) => void) => { abort(): void } | void) =>
      new Promise<T>((resolve, reject) => {
        let task: { abort(): void } | void;
        const cancel = (error: UploadError) => {
          cancels.delete(cancel);
          reject(error);
          task?.abort();
        };
        if (stopped) return reject(stopped);
        task = start(
          (value) => (cancels.delete(cancel), resolve(value)),
          (error) => (cancels.delete(cancel), reject(error)),
        );
        cancels.add(cancel);
      });

    const sleep = (ms: number) =>
      call<void>((done) => {
        const timer = setTimeout(done, ms);
        return { abort: () => clearTimeout(timer) };
      });

    // Bytes reached COS: the clock of giving up starts again (a signer that answers while COS cannot be reached is no progress).
    const progressed = () => {
      lastProgress = Date.now();
      failures = 0;
    };

    // One wx.request (an answer that is not JSON, such as COS's XML, arrives as text).
    const send = (url: string, method: "POST" | "PUT", header: Record<string, string> | undefined, data: ArrayBuffer | Record<string, unknown>, timeout = stallMs) =>
      call<{ statusCode: number; data: unknown; header?: Record<string, string> }>((done, fail) =>
        wx().request({ url, method, header, data, timeout, success: done, fail: (error) => fail(networkError(error.errMsg)) }),
      );

    // POSTs JSON to the signer (wx.request's default Content-Type); anything but 200 becomes the signer's coded error.
    const askSigner = async <T>(path: string, data: Record<string, unknown>, header: Record<string, string>): Promise<T> => {
      const { statusCode, data: body, header: headers = {} } = await send(`${signer}${path}`, "POST", header, data);
      if (statusCode === 200) return body as T;
      const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
      const retryAfter = Number(headers["Retry-After"] ?? headers["retry-after"]);
      throw new UploadError(error?.code ?? `http_${statusCode}`, error?.message ?? `HTTP ${statusCode}`, "signer", statusCode, retryAfter >= 0 ? retryAfter : undefined);
    };

    const logIn = async () => {
      const code = await call<string>((done, fail) =>
        wx().login({ success: (result) => done(result.code), fail: (error) => fail(new UploadError("login_failed", error.errMsg, "client")) }),
      );
      return (await askSigner<{ token: string }>("/v1/session", { code }, {})).token;
    };

    // Asks the signer with the session (when there is one); on a 401, logs in once and asks again.
    const ask = async <T>(path: string, data: Record<string, unknown>): Promise<T> => {
      const headers = async () => ({ ...options.signerHeaders?.(), ...(token ? { Authorization: `Bearer ${await token}` } : {}) });
      const used = token;
      try {
        return await askSigner<T>(path, data, await headers());
      } catch (error) {
        if (!(error instanceof UploadError && error.status === 401 && options.login !== false)) throw error;
        // No session yet, or it expired: log in once (unless another upload already did), then ask again.
        if (token === used) {
          token = logIn();
          token.catch(() => (token = undefined));
        }
        return askSigner<T>(path, data, await headers());
      }
    };

    /**
     * Runs `work` until it succeeds, through network errors, timeouts, 429 (after its Retry-After, at most a minute)
     * and 5xx — and 403 for a part, whose signature may have expired — with backoff and jitter, for as long as the
     * upload keeps progressing (giveUpAfterMs); never while the app is hidden.
     */
    async function retrying<T>(work: (tries: number) => Promise<T>, retry403 = false): Promise<T> {
      for (let tries = 1; ; tries++) {
        if (hidden) {
          await call<void>((done) => void hidden!.then(done));
          progressed();
        }
        try {
          return await work(tries);
        } catch (error) {
          if (!(error instanceof UploadError) || stopped) throw error;
          if (error.code === "paused") continue;
          const { retryAfter } = error;
          // The first failure since bytes last landed (a dropped connection) is retried at once, on a new connection.
          const wait = retryAfter! >= 0 ? retryAfter! * 1000 : failures++ && Math.min((backoff * 2 ** failures) / 4, 4000) * (0.5 + Math.random() / 2);
          const retry = error.retryable || (retry403 && error.status === 403);
          if (!retry || tries >= maxAttempts || wait > 60000 || Date.now() + wait - lastProgress > giveUpAfter) throw error;
          await sleep(wait);
        }
      }
    }

    const op = {
      call,
      send,
      ask,
      retrying,
      progressed,
      interrupt(error: UploadError) {
        cancels.forEach((cancel) => cancel(error));
      },
      /** Stops every call, now and later; true the first time. */
      stop(error = networkError("aborted")) {
        const first = !stopped;
        op.interrupt((stopped ??= error));
        return first;
      },
    };
    return op;
  }

  function upload(request: UploadOptions): UploadTask {
    const method = request.method ?? "post";
    const op = operation();
    const { call, send, ask, retrying, progressed } = op;
    let pending: PendingUpload | undefined;
    const storeKey = `${STORE}${request.filePath}`;

    // The whole file, or `length` bytes from `position` (never the whole of a big file).
    const readFile = (position?: number, length?: number) =>
      call<ArrayBuffer>((done, fail) => {
        wx().getFileSystemManager().readFile({
          filePath: request.filePath,
          ...(length === undefined ? {} : { position, length }),
          // Some base libraries pad a range read past the end: a short or long answer is a failure.
          success: ({ data }) => (typeof data === "string" || (length !== undefined && data.byteLength !== length) ? fail(readFailed("bad read")) : done(data)),
          fail: (error) => fail(readFailed(error.errMsg)),
        });
      });

    // The file's modification time, where the runtime can tell it.
    const modified = () =>
      call<number | undefined>((done) => {
        const files = wx().getFileSystemManager();
        if (!files.stat) return done(undefined);
        files.stat({ path: request.filePath, success: ({ stats }) => done((stats as { lastModifiedTime?: number }).lastModifiedTime), fail: () => done(undefined) });
      });

    const terms = (size: number | undefined) => ({ profile: request.profile, ext: request.ext ?? extensionOf(request.filePath), size, contentType: request.contentType });

    // A wx.request has no upload progress: its timeout gives a transfer time for its bytes at half the measured
    // rate (or 8 KB/s before any was measured), doubled on each try, so a slow but moving transfer ends.
    const transferTimeout = (bytes: number, tries: number) => (stallMs + (bytes * 1000) / (rate ? rate / 2 : 8192)) * 2 ** (tries - 1);

    // A PUT whose bytes COS checksummed differently from ours was changed on the way: sent again.
    const put = async (url: string, header: Record<string, string> | undefined, data: ArrayBuffer, tries: number) => {
      const started = Date.now();
      const crc = crc64(data);
      const { statusCode, data: body, header: headers = {} } = await send(url, "PUT", header, data, transferTimeout(data.byteLength, tries));
      if (statusCode > 299) throw cosError(statusCode, body);
      const theirs = headers["x-cos-hash-crc64ecma"];
      if (theirs && fromDecimal(theirs) !== crc) throw new UploadError("part_corrupted", "bytes changed on the way", "network");
      const measured = data.byteLength / Math.max(Date.now() - started, 1) * 1000;
      rate = rate ? (rate + measured) / 2 : measured;
      progressed();
      return crc;
    };

    const post = (descriptor: Descriptor, size: number) =>
      call<void>((done, fail) => {
        // No progress event for stallMs while bytes are left to hand over: the POST is stalled. Once all are handed
        // over, what the socket still buffers drains at the link's pace (many seconds of it on a slow link) with no
        // event: the request's own timeout covers that and the answer.
        const stalled = () => (fail(networkError("uploadFile:fail timeout")), task.abort());
        let watchdog = setTimeout(stalled, stallMs);
        const settle = (then: () => void) => (clearTimeout(watchdog), then());
        const task = wx().uploadFile({
          url: descriptor.url,
          filePath: request.filePath,
          name: "file",
          formData: descriptor.fields,
          timeout: stallMs + (size * 1000) / 8192,
          success: ({ statusCode, data }) => settle(() => (statusCode < 300 ? done() : fail(cosError(statusCode, data)))),
          fail: (error) => settle(() => fail(networkError(error.errMsg))),
        });
        task.onProgressUpdate(({ totalBytesSent: sent, totalBytesExpectedToSend: total }) => {
          clearTimeout(watchdog);
          if (sent < total) watchdog = setTimeout(stalled, stallMs);
          progressed();
          progress(sent, total);
        });
        return task;
      });

    const progress = (sentBytes: number, totalBytes: number) =>
      request.onProgress?.({ percent: totalBytes ? Math.floor((sentBytes / totalBytes) * 100) : 100, sentBytes, totalBytes });

    // One PUT or POST; each try gets a fresh descriptor (a new key and a signature that has not expired).
    async function single(tries: number): Promise<UploadResult> {
      let data = method === "put" && request.size === undefined ? await readFile() : undefined;
      const size = data?.byteLength ?? request.size;
      // An empty file goes as a form: the signer never signs an empty PUT (the shape of a copy).
      const how = size === 0 ? "post" : method;
      const descriptor = await ask<Descriptor>("/v1/uploads", { ...terms(size), method: how });
      await (how === "put" ? put(descriptor.url, descriptor.headers, (data ??= await readFile()), tries).then(() => progress(size!, size!)) : post(descriptor, size ?? 0)).catch(
        (error: UploadError) => {
          drops ||= error.source === "network";
          throw error;
        },
      );
      return { key: descriptor.key, url: descriptor.objectUrl, method: descriptor.method };
    }

    // Part by part: what is kept in storage lets `resume()` go on after the app was killed.
    async function multipart(size: number): Promise<UploadResult> {
      const stored = wx().getStorageSync(storeKey) as PendingUpload | "";
      const mtime = await modified();
      const signed = new Map<number, SignedPart>();
      let held = new Set<number>();
      // The same file as when the upload began (size and modification time), or it starts afresh.
      if (stored && stored.size === size && stored.modified === mtime && stored.crcs) {
        pending = stored;
      } else {
        if (stored) cancelPending(stored);
        const partSize = request.partSize ?? Math.min(16, Math.max(1, Math.round((rate * 2) / MiB))) * MiB;
        const { parts = [], ...fresh } = await retrying(() => ask<PendingUpload & { parts?: SignedPart[] }>("/v1/multipart", { ...terms(size), partSize }));
        for (const part of parts) signed.set(part.partNumber, part);
        pending = { ...fresh, filePath: request.filePath, modified: mtime, crcs: {} };
      }
      const { token: uploadToken, partSize, partCount, crcs } = pending;
      wx().setStorageSync(storeKey, pending);
      const length = (n: number) => Math.min(partSize, size - (n - 1) * partSize);
      const complete = () => retrying(() => ask<UploadResult>("/v1/multipart/complete", { token: uploadToken }));
      if (stored === pending) {
        // COS's own list is the truth: a part counts as sent only when COS holds it whole and its CRC was recorded.
        // An upload the signer no longer knows (expired, aborted, completed elsewhere) is forgotten, so the next try
        // starts afresh.
        const listed = await retrying(() => ask<{ parts: { partNumber: number; size: number }[] }>("/v1/multipart/list", { token: uploadToken })).catch((error: UploadError) => {
          if (error.status! < 500) wx().removeStorageSync(storeKey);
          if (error.code !== "upload_not_found") throw error;
          // Completed already (the answer to an earlier complete was lost)? The signer answers from the object, or
          // says the upload is gone for good.
          return complete();
        });
        if (!("parts" in listed)) return { ...listed, method: "PUT" };
        held = new Set(listed.parts.filter((part) => part.size === length(part.partNumber) && crcs[part.partNumber]).map((part) => part.partNumber));
      }
      const queue = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
      let sent = size - queue.reduce((sum, n) => sum + length(n), 0);
      progress(sent, size);
      // Signatures for the next 100 parts in one call, shared by the parts in flight.
      let signing: Promise<unknown> | undefined;
      const sign = async (n: number) => {
        while (!signed.has(n)) {
          signing ??= ask<{ parts: SignedPart[] }>("/v1/multipart/parts", {
            token: uploadToken,
            partNumbers: [n, ...queue.filter((m) => !signed.has(m)).slice(0, 99)],
          })
            .then((batch) => batch.parts.map((part) => signed.set(part.partNumber, part)))
            .finally(() => (signing = undefined));
          await signing;
        }
      };
      const sendPart = (n: number) =>
        retrying(async (tries) => {
          await sign(n);
          const part = signed.get(n)!;
          crcs[n] = await put(part.url, part.headers, await readFile((n - 1) * partSize, length(n)), tries).catch((error: UploadError) => {
            // A part refused (an expired signature) is signed afresh on its next try.
            if (error.status === 403) signed.delete(n);
            throw error;
          });
          wx().setStorageSync(storeKey, pending);
          progress((sent += length(n)), size);
        }, true);
      // A part that fails for good stops every other request of the upload; the upload rejects only once none is
      // left in flight, so that a resume never races the old workers.
      let failure: unknown;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          try {
            while (queue.length && !failure) await sendPart(queue.shift()!);
          } catch (error) {
            failure ??= error;
            op.stop(error as UploadError);
          }
        }),
      );
      if (failure) throw failure;
      const done = await complete();
      wx().removeStorageSync(storeKey);
      // End to end: COS's CRC-64 of the object against the one the parts' local bytes make.
      let whole = crcs[1]!;
      for (let n = 2; n <= partCount; n++) whole = crc64Combine(whole, crcs[n]!, length(n));
      if (done.crc64 && fromDecimal(done.crc64) !== whole) throw new UploadError("object_mismatch", "the object differs from the file", "cos");
      return { ...done, method: "PUT" };
    }

    async function run(): Promise<UploadResult> {
      const { size } = request;
      const previous = running.get(request.filePath);
      previous?.op.stop();
      await previous?.settled;
      // Multipart where it pays — a large file, a pending upload of this file, above 1 MiB once a single upload was cut
      // on the way (then its next try too) — unless the signer has multipart off; a single upload the signer sends to
      // multipart goes there.
      let off = false;
      const partwise = () =>
        !off &&
        !!size &&
        (size > (drops ? MiB : (options.multipartAboveBytes ?? 4 * MiB)) || (wx().getStorageSync(storeKey) as Partial<PendingUpload>).size === size) &&
        multipart(size).catch((error) => void (off = !unless("multipart_off")(error)));
      return (await partwise()) || retrying(async (tries) => (await partwise()) || single(tries)).catch((error) => {
        if (size === undefined) throw error;
        unless("multipart_required")(error);
        return multipart(size);
      });
    }

    const entry = { op, settled: Promise.resolve() as Promise<unknown> };
    const task = run().finally(() => {
      if (running.get(request.filePath) === entry) running.delete(request.filePath);
    });
    entry.settled = task.catch(() => undefined);
    running.set(request.filePath, entry);
    return Object.assign(task, {
      abort() {
        // Once: a second abort() has nothing left to stop or to abort on COS.
        if (op.stop() && pending) cancelPending(pending);
      },
    });
  }

  /** Multipart uploads that did not finish (the app was killed, the network went away), from wx storage. */
  function pendingUploads(): PendingUpload[] {
    return wx()
      .getStorageInfoSync()
      .keys.filter((key) => key.startsWith(STORE))
      .map((key) => wx().getStorageSync(key) as PendingUpload);
  }

  /** Goes on with a pending upload: only the parts COS holds whole are skipped (a changed file starts afresh). */
  function resume(pendingUpload: PendingUpload, onProgress?: UploadOptions["onProgress"]): UploadTask {
    return upload({ ...pendingUpload, method: "put", onProgress });
  }

  /** Gives a pending upload up: forgotten here, aborted on COS (its parts deleted; best effort, not awaited). */
  function cancelPending(pendingUpload: PendingUpload): void {
    wx().removeStorageSync(`${STORE}${pendingUpload.filePath}`);
    operation()
      .ask("/v1/multipart/abort", { token: pendingUpload.token })
      .catch(() => undefined);
  }

  return { upload, pendingUploads, resume, cancel: cancelPending };
}
