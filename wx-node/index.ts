/**
 * A Node implementation of the `wx` calls the Mini Program uploader uses — `request`, `uploadFile` (multipart, with
 * upload progress), `getFileSystemManager().readFile` and `.stat`, storage — doing real HTTP and real file I/O, the way WeChat's own
 * runtime does. Used by the CLI and by the end-to-end tests. Names under `.localhost` resolve to 127.0.0.1 (RFC 6761),
 * so bucket-domain uploads can be tried against a local emulator.
 */
import { randomBytes } from "node:crypto";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { WxLike, WxProgress, WxRequestOptions, WxUploadFileOptions } from "../miniprogram/cos-upload/wx-like";

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function lookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    return options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
  }
  dnsLookup(hostname, options as never, callback as never);
}

interface Sent {
  abort(): void;
  /** Called with the bytes written so far. */
  onSent?: (bytes: number) => void;
}

/** One HTTP exchange; `body` is written in chunks so progress can be reported. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array> | Uint8Array | undefined,
  timeout: number | undefined,
  prefix: string,
  done: (response: IncomingMessage, data: Buffer) => void,
  fail: (errMsg: string) => void,
): Sent {
  const target = new URL(url);
  const options: RequestOptions = { method, headers, lookup: lookup as never };
  let settled = false;
  const settle = (action: () => void) => {
    if (!settled) {
      settled = true;
      clearTimeout(timer);
      action();
    }
  };
  const req = (target.protocol === "https:" ? httpsRequest : httpRequest)(target, options, (response) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => settle(() => done(response, Buffer.concat(chunks))));
    response.on("error", (error) => settle(() => fail(`${prefix}:fail ${error.message}`)));
  });
  const sent: Sent = {
    abort() {
      settle(() => fail(`${prefix}:fail abort`));
      req.destroy();
    },
  };
  // WeChat's `timeout` covers the whole request, however busy the connection (default 60 s), not idle time.
  const timer = setTimeout(() => {
    settle(() => fail(`${prefix}:fail timeout`));
    req.destroy();
  }, timeout ?? 60000);
  req.on("error", (error) => settle(() => fail(`${prefix}:fail ${error.message}`)));
  void (async () => {
    let written = 0;
    // isView, not instanceof: under jsdom (the page tests) Node's buffers come from another realm.
    if (ArrayBuffer.isView(body)) {
      req.end(body);
      sent.onSent?.(body.byteLength);
      return;
    }
    for await (const chunk of body ?? []) {
      if (req.destroyed) return;
      if (!req.write(chunk)) await new Promise((resolve) => req.once("drain", resolve));
      written += chunk.byteLength;
      sent.onSent?.(written);
    }
    req.end();
  })().catch((error: Error) => settle(() => fail(`${prefix}:fail ${error.message}`)));
  return sent;
}

function request(options: WxRequestOptions) {
  const headers = { ...options.header };
  let body: Uint8Array | undefined;
  if (Object.prototype.toString.call(options.data) === "[object ArrayBuffer]") body = new Uint8Array(options.data as ArrayBuffer);
  else if (typeof options.data === "string") body = Buffer.from(options.data);
  else if (options.data !== undefined && options.method !== "GET") body = Buffer.from(JSON.stringify(options.data));
  // WeChat defaults to JSON; a caller that sends bytes sets its own type.
  if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  if (body) headers["content-length"] = String(body.byteLength);
  return send(options.url, options.method, headers, body, options.timeout, "request", (response, data) => {
    let parsed: unknown = options.responseType === "arraybuffer" ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data.toString("utf8");
    if ((options.dataType ?? "json") === "json" && typeof parsed === "string") {
      try {
        parsed = JSON.parse(parsed);
      } catch {
        // WeChat hands the text through when it is not JSON.
      }
    }
    const header = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : (value ?? "")]));
    options.success({ statusCode: response.statusCode ?? 0, data: parsed, header });
  }, (errMsg) => options.fail({ errMsg }));
}

function uploadFile(options: WxUploadFileOptions) {
  const listeners: ((progress: WxProgress) => void)[] = [];
  let sent: Sent | undefined;
  let abortedEarly = false;
  void (async () => {
    const size = (await stat(options.filePath)).size;
    const boundary = `----wxnode${randomBytes(12).toString("hex")}`;
    const fieldParts = Object.entries(options.formData ?? {}).map(
      ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
    const head = Buffer.from(
      `${fieldParts.join("")}--${boundary}\r\nContent-Disposition: form-data; name="${options.name}"; filename="${basename(options.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const total = head.byteLength + size + tail.byteLength;
    async function* body() {
      yield head;
      for await (const chunk of createReadStream(options.filePath, { highWaterMark: 64 * 1024 })) yield chunk as Buffer;
      yield tail;
    }
    const headers = { ...options.header, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(total) };
    if (abortedEarly) return options.fail({ errMsg: "uploadFile:fail abort" });
    sent = send(options.url, "POST", headers, body(), options.timeout, "uploadFile", (response, data) => {
      options.success({ statusCode: response.statusCode ?? 0, data: data.toString("utf8") });
    }, (errMsg) => options.fail({ errMsg }));
    let lastPercent = -1;
    sent.onSent = (bytes) => {
      const percent = Math.floor((bytes / total) * 100);
      if (percent === lastPercent) return;
      lastPercent = percent;
      for (const listener of listeners) listener({ progress: percent, totalBytesSent: bytes, totalBytesExpectedToSend: total });
    };
  })().catch((error: Error) => options.fail({ errMsg: `uploadFile:fail ${error.message}` }));
  return {
    abort() {
      abortedEarly = true;
      sent?.abort();
    },
    onProgressUpdate(listener: (progress: WxProgress) => void) {
      listeners.push(listener);
    },
  };
}

/** The whole file, or `length` bytes from `position` (WeChat's byte-range read). */
async function readBytes(filePath: string, position?: number, length?: number): Promise<Uint8Array> {
  if (position === undefined && length === undefined) return readFile(filePath);
  const file = await open(filePath, "r");
  try {
    const size = (await file.stat()).size;
    const start = position ?? 0;
    const count = length ?? size - start;
    if (start < 0 || count < 0 || start + count > size) throw new Error(`the range ${start}+${count} is outside the file (${size} bytes)`);
    const bytes = new Uint8Array(count);
    const { bytesRead } = await file.read(bytes, 0, count, start);
    return bytes.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function getFileSystemManager() {
  return {
    readFile(options: { filePath: string; position?: number; length?: number; success(result: { data: ArrayBuffer }): void; fail(error: { errMsg: string }): void }) {
      readBytes(options.filePath, options.position, options.length).then(
        (data) => options.success({ data: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer }),
        (error: Error) => options.fail({ errMsg: `readFile:fail ${error.message}` }),
      );
    },
    /** WeChat's Stats: size, times in seconds, isFile()/isDirectory() (Tencent's wx SDK reads them). */
    stat(options: { path: string; success(result: { stats: WxStats }): void; fail(error: { errMsg: string }): void }) {
      stat(options.path).then(
        (found) =>
          options.success({
            stats: {
              mode: found.mode,
              size: found.size,
              lastAccessedTime: Math.floor(found.atimeMs / 1000),
              lastModifiedTime: Math.floor(found.mtimeMs / 1000),
              isDirectory: () => found.isDirectory(),
              isFile: () => found.isFile(),
            },
          }),
        (error: Error) => options.fail({ errMsg: `stat:fail ${error.message}` }),
      );
    },
  };
}

export interface WxStats {
  readonly mode: number;
  readonly size: number;
  readonly lastAccessedTime: number;
  readonly lastModifiedTime: number;
  isDirectory(): boolean;
  isFile(): boolean;
}

/**
 * wx's storage, kept in one JSON file so that an upload interrupted by Ctrl-C goes on when the same command runs
 * again: $COS_UPLOAD_STATE, else cos-edge-signer-uploads.json in the system's temp folder.
 */
function storagePath(): string {
  return process.env.COS_UPLOAD_STATE ?? join(tmpdir(), "cos-edge-signer-uploads.json");
}

function storage(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(storagePath(), "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function saveStorage(values: Record<string, unknown>): void {
  // The upload tokens in it are for this user alone.
  writeFileSync(storagePath(), JSON.stringify(values), { mode: 0o600 });
}

const storageApi = {
  getStorageSync: (key: string) => storage()[key] ?? "",
  setStorageSync: (key: string, value: unknown) => saveStorage({ ...storage(), [key]: value }),
  removeStorageSync: (key: string) => {
    const { [key]: _removed, ...rest } = storage();
    saveStorage(rest);
  },
  getStorageInfoSync: () => ({ keys: Object.keys(storage()) }),
};

/** Outside WeChat there is no WeChat user to log in: signers with AUTH_MODE=wechat need the real Mini Program. */
function login(options: { fail(error: { errMsg: string }): void }) {
  setTimeout(() => options.fail({ errMsg: "login:fail wx.login exists only inside WeChat; run the signer with AUTH_MODE=none for the CLI" }), 0);
}

/**
 * The base-library facts cos-wx-sdk-v5 reads before it slices a file: without a reported base library ≥ 2.10.0
 * (ranged readFile, which this adapter has) it silently falls back to one POST.
 */
const baseLibrary = {
  canIUse: (api: string) => api === "getAppBaseInfo" || api === "getDeviceInfo",
  getAppBaseInfo: () => ({ SDKVersion: "3.6.0" }),
  getDeviceInfo: () => ({ platform: "devtools" }),
};

/** The adapter: pass it as `createUploader({ wx: wxNode, … })`, or as the global `wx` of cos-wx-sdk-v5. */
export const wxNode = { request, uploadFile, getFileSystemManager, login, ...storageApi, ...baseLibrary } satisfies WxLike;
