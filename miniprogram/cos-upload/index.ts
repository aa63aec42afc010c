/**
 * cos-upload: upload a file from a Mini Program straight to Tencent COS with a descriptor from cos-edge-signer.
 * No crypto and no keys here: the signer decides the key and signs; this only asks and sends.
 */
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
  /** Tries in all, for network errors, 429 (after its Retry-After, if at most a minute) and 5xx only. Default 3. */
  maxAttempts?: number;
  /** Per request. Default 60 000 ms. */
  timeoutMs?: number;
  /** Parts of a multipart upload in flight at once (WeChat allows 10 requests). Default 3. */
  concurrency?: number;
  /** First retry delay, doubled each time. Default 500 ms. */
  backoffMs?: number;
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
  /** Bytes a part, when the upload goes multipart (at least 1 MiB; default: the signer's, 5 MiB). */
  partSize?: number;
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadResult {
  key: string;
  /** The object's URL. */
  url: string;
  method: "PUT" | "POST";
  /** After a multipart upload: the object's size, ETag and CRC-64 (x-cos-hash-crc64ecma) as COS reports them. */
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

const readFailed = (message: string) => new UploadError("read_failed", message, "client");

/** Storage keys of pending multipart uploads: this prefix and the file path. */
const STORE = "cos-upload:";

export function extensionOf(filePath: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(filePath);
  return match ? match[1]!.toLowerCase() : "";
}

export function createUploader(options: UploaderOptions) {
  const maxAttempts = options.maxAttempts ?? 3;
  const timeout = options.timeoutMs ?? 60000;
  const backoff = options.backoffMs ?? 500;
  const signer = options.signerUrl.replace(/\/+$/, "");
  const wx = () => options.wx ?? (globalThis as unknown as { wx: WxLike }).wx;
  // The session token, shared by every upload of this uploader (one login for all of them).
  let token: Promise<string> | undefined;

  /** The calls of one upload (or cancel): each wx call is tracked, so `stop()` cancels every one in flight. */
  function operation() {
    const cancels = new Set<() => void>();
    let aborted = false;

    // Runs one wx call; `abort()` cancels every call in flight.
    const call = <T>(start: (done: (value: T) => void, fail: (error: UploadError) => void) => { abort(): void } | void) =>
      new Promise<T>((resolve, reject) => {
        let task: { abort(): void } | void;
        const cancel = () => {
          task?.abort();
          reject(networkError("aborted"));
        };
        if (aborted) return cancel();
        task = start(
          (value) => (cancels.delete(cancel), resolve(value)),
          (error) => (cancels.delete(cancel), reject(error)),
        );
        cancels.add(cancel);
      });

    // One wx.request (an answer that is not JSON, such as COS's XML, arrives as text).
    const send = (url: string, method: "POST" | "PUT", header: Record<string, string> | undefined, data: ArrayBuffer | Record<string, unknown>) =>
      call<{ statusCode: number; data: unknown; header?: Record<string, string> }>((done, fail) =>
        wx().request({ url, method, header, data, timeout, success: done, fail: (error) => fail(networkError(error.errMsg)) }),
      );

    // POSTs JSON to the signer; anything but 200 becomes the signer's coded error.
    const askSigner = async <T>(path: string, data: Record<string, unknown>, header: Record<string, string>): Promise<T> => {
      const { statusCode, data: body, header: headers = {} } = await send(`${signer}${path}`, "POST", { "Content-Type": "application/json", ...header }, data);
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

    return {
      call,
      send,
      ask,
      stopped: () => aborted,
      stop() {
        aborted = true;
        for (const cancel of cancels) cancel();
      },
    };
  }

  function upload(request: UploadOptions): UploadTask {
    const method = request.method ?? "post";
    const { call, send, ask, stop, stopped } = operation();
    let pending: PendingUpload | undefined;

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

    const terms = (size: number | undefined) => ({ profile: request.profile, ext: request.ext ?? extensionOf(request.filePath), size, contentType: request.contentType });

    const put = async (url: string, header: Record<string, string> | undefined, data: ArrayBuffer) => {
      const { statusCode, data: body } = await send(url, "PUT", header, data);
      if (statusCode > 299) throw cosError(statusCode, body);
    };

    const post = (descriptor: Descriptor) =>
      call<void>((done, fail) => {
        const task = wx().uploadFile({
          url: descriptor.url,
          filePath: request.filePath,
          name: "file",
          formData: descriptor.fields,
          timeout,
          success: ({ statusCode, data }) => (statusCode < 300 ? done() : fail(cosError(statusCode, data))),
          fail: (error) => fail(networkError(error.errMsg)),
        });
        task.onProgressUpdate((p) => progress(p.totalBytesSent, p.totalBytesExpectedToSend));
        return task;
      });

    const progress = (sentBytes: number, totalBytes: number) =>
      request.onProgress?.({ percent: totalBytes ? Math.floor((sentBytes / totalBytes) * 100) : 100, sentBytes, totalBytes });

    // Retries `work` on network errors, 429 (after Retry-After, at most a minute) and 5xx — and on 403 for a part,
    // whose signature may have expired — with backoff.
    async function retrying<T>(work: (tries: number) => Promise<T>, retry403 = false): Promise<T> {
      for (let tries = 1; ; tries++) {
        try {
          return await work(tries);
        } catch (error) {
          const { retryAfter } = error as UploadError;
          const wait = retryAfter! >= 0 ? retryAfter! * 1000 : backoff * 2 ** (tries - 1) * (0.75 + Math.random() / 2);
          if (!(error instanceof UploadError) || !(error.retryable || (retry403 && error.status === 403)) || tries >= maxAttempts || stopped() || wait > 60000) throw error;
          await call<void>((done) => {
            const timer = setTimeout(done, wait);
            return { abort: () => clearTimeout(timer) };
          });
        }
      }
    }

    // One PUT or POST; the signer sends files above its threshold to multipart, before a PUT reads a byte of them.
    async function single(): Promise<UploadResult> {
      let data = method === "put" && request.size === undefined ? await readFile() : undefined;
      const size = data?.byteLength ?? request.size;
      // An empty file goes as a form: the signer never signs an empty PUT (the shape of a copy).
      const how = size === 0 ? "post" : method;
      const descriptor = await ask<Descriptor>("/v1/uploads", { ...terms(size), method: how });
      if (how === "put") {
        data ??= await readFile();
        await put(descriptor.url, descriptor.headers, data);
        progress(data.byteLength, data.byteLength);
      } else {
        await post(descriptor);
      }
      return { key: descriptor.key, url: descriptor.objectUrl, method: descriptor.method };
    }

    // Part by part: what is kept in storage lets `resume()` go on after the app was killed.
    async function multipart(size: number): Promise<UploadResult> {
      const storeKey = `${STORE}${request.filePath}`;
      const stored = wx().getStorageSync(storeKey) as PendingUpload | "";
      pending = stored && stored.size === size ? stored : { ...(await ask<PendingUpload>("/v1/multipart", { ...terms(size), partSize: request.partSize })), filePath: request.filePath };
      const { token: uploadToken, partSize, partCount } = pending;
      wx().setStorageSync(storeKey, pending);
      const length = (n: number) => Math.min(partSize, size - (n - 1) * partSize);
      // COS's own list is the truth: a part counts as sent only when COS holds it whole. An upload the signer no
      // longer knows (expired, aborted, completed elsewhere) is forgotten, so that the next try starts afresh.
      const complete = () => retrying(() => ask<UploadResult>("/v1/multipart/complete", { token: uploadToken }));
      let listed: { parts: { partNumber: number; size: number }[] };
      try {
        listed = await retrying(() => ask<typeof listed>("/v1/multipart/list", { token: uploadToken }));
      } catch (caught) {
        const error = caught as UploadError;
        // Completed already (the answer to an earlier complete was lost): the signer answers from the object.
        const done = error.code === "upload_not_found" ? await complete().catch(() => undefined) : undefined;
        if (done || (error.status ?? 500) < 500) wx().removeStorageSync(storeKey);
        if (done) return { ...done, method: "PUT" };
        throw error;
      }
      const held = new Set(listed.parts.filter((part) => part.size === length(part.partNumber)).map((part) => part.partNumber));
      const queue = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
      let sent = size - queue.reduce((sum, n) => sum + length(n), 0);
      progress(sent, size);
      const signed = new Map<number, { url: string; headers: Record<string, string> }>();
      // Signatures for the next 100 parts in one call, shared by the parts in flight.
      let signing: Promise<unknown> | undefined;
      const sign = async (n: number) => {
        while (!signed.has(n)) {
          signing ??= ask<{ parts: { partNumber: number; url: string; headers: Record<string, string> }[] }>("/v1/multipart/parts", {
            token: uploadToken,
            partNumbers: [n, ...queue.filter((m) => !signed.has(m)).slice(0, 99)],
          })
            .then((batch) => batch.parts.map((part) => signed.set(part.partNumber, part)))
            .finally(() => (signing = undefined));
          await signing;
        }
      };
      const send = (n: number) =>
        retrying(async (tries) => {
          // A part refused once (an expired signature) is signed afresh.
          if (tries > 1) signed.delete(n);
          await sign(n);
          const part = signed.get(n)!;
          await put(part.url, part.headers, await readFile((n - 1) * partSize, length(n)));
          progress((sent += length(n)), size);
        }, true);
      await Promise.all(
        Array.from({ length: options.concurrency ?? 3 }, async () => {
          while (queue.length) await send(queue.shift()!);
        }),
      );
      const done = await complete();
      wx().removeStorageSync(storeKey);
      return { ...done, method: "PUT" };
    }

    async function run(): Promise<UploadResult> {
      const { size } = request;
      // A multipart upload of this file already under way goes on.
      if (size && (wx().getStorageSync(`${STORE}${request.filePath}`) as Partial<PendingUpload>).size === size) return multipart(size);
      // Each try of a single upload gets a fresh descriptor: a new key and a signature that has not expired.
      try {
        return await retrying(single);
      } catch (error) {
        if (!(error instanceof UploadError && error.code === "multipart_required" && size !== undefined)) throw error;
        return multipart(size);
      }
    }

    return Object.assign(run(), {
      abort() {
        // Once: a second abort() has nothing left to stop or to abort on COS.
        if (stopped()) return;
        stop();
        if (pending) cancelPending(pending);
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

  /** Goes on with a pending upload: only the parts COS does not hold yet are sent. */
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
