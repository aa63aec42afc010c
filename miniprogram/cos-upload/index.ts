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
  /** Byte size; binds the signature to it (chooseMedia gives it). */
  size?: number;
  contentType?: string;
  /** "post" (wx.uploadFile: streams from disk, reports progress; default) or "put" (wx.request with the bytes). */
  method?: "put" | "post";
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadResult {
  key: string;
  /** The object's URL. */
  url: string;
  method: "PUT" | "POST";
}

/** A promise of the result that can also be aborted (it then rejects with code "aborted"). */
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

export function extensionOf(filePath: string): string {
  const match = /\.([A-Za-z0-9]+)$/.exec(filePath);
  return match ? match[1]!.toLowerCase() : "";
}

export function createUploader(options: UploaderOptions) {
  const maxAttempts = options.maxAttempts ?? 3;
  const timeout = options.timeoutMs ?? 60000;
  const backoff = options.backoffMs ?? 500;
  const signer = options.signerUrl.replace(/\/+$/, "");
  // The session token, shared by every upload of this uploader (one login for all of them).
  let token: Promise<string> | undefined;

  function upload(request: UploadOptions): UploadTask {
    const wx = options.wx ?? (globalThis as unknown as { wx: WxLike }).wx;
    const method = request.method ?? "post";
    let cancel: (() => void) | undefined;
    let aborted = false;

    // Runs one wx call; `abort()` cancels it.
    const call = <T>(start: (done: (value: T) => void, fail: (error: UploadError) => void) => { abort(): void } | void) =>
      new Promise<T>((resolve, reject) => {
        if (aborted) return reject(networkError("aborted"));
        const task = start(resolve, reject);
        cancel = () => {
          task?.abort();
          reject(networkError("aborted"));
        };
      });

    const readFile = () =>
      call<ArrayBuffer>((done, fail) => {
        wx.getFileSystemManager().readFile({
          filePath: request.filePath,
          success: (result) => (typeof result.data === "string" ? fail(new UploadError("read_failed", "readFile returned text", "client")) : done(result.data)),
          fail: (error) => fail(new UploadError("read_failed", error.errMsg, "client")),
        });
      });

    // POSTs JSON to the signer; anything but 200 becomes the signer's coded error.
    const askSigner = <T>(path: string, data: Record<string, unknown>, header: Record<string, string>) =>
      call<T>((done, fail) =>
        wx.request({
          url: `${signer}${path}`,
          method: "POST",
          header: { "Content-Type": "application/json", ...header },
          data,
          timeout,
          success: ({ statusCode, data: body, header }) => {
            if (statusCode === 200) return done(body as T);
            const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
            const retryAfter = Number(Object.entries(header ?? {}).find(([name]) => name.toLowerCase() === "retry-after")?.[1]);
            fail(
              new UploadError(
                error?.code ?? `http_${statusCode}`,
                error?.message ?? `the signer answered HTTP ${statusCode}`,
                "signer",
                statusCode,
                retryAfter >= 0 ? retryAfter : undefined,
              ),
            );
          },
          fail: (error) => fail(networkError(error.errMsg)),
        }),
      );

    const logIn = async () => {
      const code = await call<string>((done, fail) =>
        wx.login({ success: (result) => done(result.code), fail: (error) => fail(new UploadError("login_failed", error.errMsg, "client")) }),
      );
      return (await askSigner<{ token: string }>("/v1/session", { code }, {})).token;
    };

    const describe = async (size: number | undefined): Promise<Descriptor> => {
      const body = { profile: request.profile, ext: request.ext ?? extensionOf(request.filePath), method, size, contentType: request.contentType };
      const headers = async () => ({ ...options.signerHeaders?.(), ...(token ? { Authorization: `Bearer ${await token}` } : {}) });
      const used = token;
      try {
        return await askSigner<Descriptor>("/v1/uploads", body, await headers());
      } catch (error) {
        if (!(error instanceof UploadError && error.status === 401 && options.login !== false)) throw error;
        // No session yet, or it expired: log in once (unless another upload already did), then ask again.
        if (token === used) {
          token = logIn();
          token.catch(() => (token = undefined));
        }
        return askSigner<Descriptor>("/v1/uploads", body, await headers());
      }
    };

    const finish = (descriptor: Descriptor, statusCode: number, data: unknown, done: (result: UploadResult) => void, fail: (error: UploadError) => void) =>
      statusCode >= 200 && statusCode < 300 ? done({ key: descriptor.key, url: descriptor.objectUrl, method: descriptor.method }) : fail(cosError(statusCode, data));

    const put = (descriptor: Descriptor, data: ArrayBuffer) =>
      call<UploadResult>((done, fail) =>
        wx.request({
          url: descriptor.url,
          method: "PUT",
          header: descriptor.headers,
          data,
          timeout,
          dataType: "text",
          responseType: "text",
          success: ({ statusCode, data: body }) => finish(descriptor, statusCode, body, done, fail),
          fail: (error) => fail(networkError(error.errMsg)),
        }),
      );

    const post = (descriptor: Descriptor) =>
      call<UploadResult>((done, fail) => {
        const task = wx.uploadFile({
          url: descriptor.url,
          filePath: request.filePath,
          name: descriptor.fileField ?? "file",
          formData: descriptor.fields,
          timeout,
          success: ({ statusCode, data }) => finish(descriptor, statusCode, data, done, fail),
          fail: (error) => fail(networkError(error.errMsg)),
        });
        task.onProgressUpdate((p) => request.onProgress?.({ percent: p.progress, sentBytes: p.totalBytesSent, totalBytes: p.totalBytesExpectedToSend }));
        return task;
      });

    async function attempt(): Promise<UploadResult> {
      if (method === "post") return post(await describe(request.size));
      const data = await readFile();
      const descriptor = await describe(data.byteLength);
      request.onProgress?.({ percent: 0, sentBytes: 0, totalBytes: data.byteLength });
      const result = await put(descriptor, data);
      request.onProgress?.({ percent: 100, sentBytes: data.byteLength, totalBytes: data.byteLength });
      return result;
    }

    async function run(): Promise<UploadResult> {
      for (let tries = 1; ; tries++) {
        try {
          // Each try gets a fresh descriptor: a new key and a signature that has not expired.
          return await attempt();
        } catch (error) {
          if (!(error instanceof UploadError) || !error.retryable || tries >= maxAttempts || aborted) throw error;
          // The signer's Retry-After when it sends one (a 429), else exponential backoff with jitter.
          const wait = error.retryAfter !== undefined ? error.retryAfter * 1000 : backoff * 2 ** (tries - 1) * (0.75 + Math.random() / 2);
          if (wait > 60000) throw error;
          await call<void>((done) => {
            const timer = setTimeout(done, wait);
            return { abort: () => clearTimeout(timer) };
          });
        }
      }
    }

    return Object.assign(run(), {
      abort() {
        aborted = true;
        cancel?.();
      },
    });
  }

  return { upload };
}
