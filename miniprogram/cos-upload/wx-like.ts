/** The part of `wx` the uploader uses, so it can run against the real `wx` or any adapter (tests, CLI). */

export interface WxFail {
  errMsg: string;
}

export interface WxRequestOptions {
  url: string;
  method: "GET" | "POST" | "PUT";
  header?: Record<string, string>;
  data?: string | ArrayBuffer | Record<string, unknown>;
  timeout?: number;
  dataType?: string;
  responseType?: "text" | "arraybuffer";
  success(result: { statusCode: number; data: unknown; header?: Record<string, string> }): void;
  fail(error: WxFail): void;
}

export interface WxUploadFileOptions {
  url: string;
  filePath: string;
  name: string;
  formData?: Record<string, string>;
  header?: Record<string, string>;
  timeout?: number;
  success(result: { statusCode: number; data: string }): void;
  fail(error: WxFail): void;
}

export interface WxProgress {
  progress: number;
  totalBytesSent: number;
  totalBytesExpectedToSend: number;
}

export interface WxLike {
  login(options: { success(result: { code: string }): void; fail(error: WxFail): void }): void;
  request(options: WxRequestOptions): { abort(): void };
  uploadFile(options: WxUploadFileOptions): { abort(): void; onProgressUpdate(listener: (progress: WxProgress) => void): void };
  getFileSystemManager(): {
    /** `position` and `length` read a byte range (base library 2.10.0). */
    readFile(options: { filePath: string; position?: number; length?: number; success(result: { data: string | ArrayBuffer }): void; fail(error: WxFail): void }): void;
    /** The file's size and modification time (seconds): what ties a pending upload to the file it was made from. */
    stat?(options: { path: string; success(result: { stats: object }): void; fail(error: WxFail): void }): void;
  };
  /** App lifecycle (WeChat fails requests still open 5 s after the app goes to the background): uploads pause and go on. */
  onAppHide?(listener: () => void): void;
  onAppShow?(listener: () => void): void;
  /** Where a multipart upload keeps what it needs to go on after the app is killed. */
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
  getStorageInfoSync(): { keys: string[] };
}
