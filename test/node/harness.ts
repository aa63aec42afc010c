/** Real parts for end-to-end tests: the COS emulator and the Worker in workerd (wrangler's unstable_startWorker). */
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { type CosEmulator, type EmulatedBucket, startCosEmulator } from "../../emulator/cos-emulator.js";
import type { Policy } from "../../emulator/sts.js";
import type { WxRequestOptions } from "../../miniprogram/cos-upload/wx-like.js";
import { wxNode } from "../../wx-node/index.js";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "../support/wechat-stub.js";

export const SECRET_ID = "AKIDE2ETESTxxxxxxxxxxxxxxxxxxxxxxxxx";
export const SECRET_KEY = "e2e-secret-key-never-in-output";
/** The read key pair (COS_READ_SECRET_ID / COS_READ_SECRET_KEY), kept apart from the write pair above. */
export const READ_SECRET_ID = "AKIDE2EREADONLYxxxxxxxxxxxxxxxxxxxxx";
export const READ_SECRET_KEY = "e2e-read-secret-key-never-in-output";

export const OLD_BUCKET: EmulatedBucket = { name: "examplebucket-1250000000", region: "ap-guangzhou" };
export const NEW_BUCKET: EmulatedBucket = { name: "newbucket-1250000000", region: "ap-guangzhou", pathStyleForbidden: true };
export const OTHER_BUCKET: EmulatedBucket = { name: "otherbucket-1250000000", region: "ap-guangzhou" };

export async function startEmulator(
  buckets: readonly EmulatedBucket[] = [OLD_BUCKET, NEW_BUCKET, OTHER_BUCKET],
  credentials: Record<string, string> = { [SECRET_ID]: SECRET_KEY },
  permissions?: Record<string, Policy>,
): Promise<CosEmulator & { dispose(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "cos-emulator-"));
  const emulator = await startCosEmulator({ buckets, credentials, dataDir, ...(permissions ? { permissions } : {}) });
  return Object.assign(emulator, {
    async dispose() {
      await emulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/**
 * The least-privilege key pairs docs/security.md prescribes, as local mode runs them (dev/cam-policies.json, for
 * examplebucket-1250000000 in ap-guangzhou, prefix uploads/): the e2e write pair may only upload, the read pair only
 * read. Pass both to `startEmulator`, and COS_READ_SECRET_ID / COS_READ_SECRET_KEY to the signer.
 */
export async function leastPrivilege(): Promise<{ credentials: Record<string, string>; permissions: Record<string, Policy>; vars: Record<string, string> }> {
  const policies = JSON.parse(await readFile(join(import.meta.dirname, "../../dev/cam-policies.json"), "utf8")) as { write: Policy; read: Policy };
  return {
    credentials: { [SECRET_ID]: SECRET_KEY, [READ_SECRET_ID]: READ_SECRET_KEY },
    permissions: { [SECRET_ID]: policies.write, [READ_SECRET_ID]: policies.read },
    vars: { COS_READ_SECRET_ID: READ_SECRET_ID, COS_READ_SECRET_KEY: READ_SECRET_KEY },
  };
}

export interface RunningSigner {
  url: string;
  /** Changes vars and secrets of the running Worker (e.g. to rotate SESSION_SECRET). */
  rebind(vars: Record<string, string>): Promise<void>;
  dispose(): Promise<void>;
}

export const SESSION_SECRET = "e2e-session-secret-0123456789abcdef-never-shown";

/**
 * The Worker's outbound fetches in tests: WeChat's code2Session goes to the stub, the COS emulator on 127.0.0.1 is
 * reached for real (the Worker's own multipart calls), and nothing else leaves the machine.
 */
export async function testOutbound(request: Request): Promise<Response> {
  const { hostname } = new URL(request.url);
  if (cosDomainsTo !== undefined && hostname.endsWith(".myqcloud.com")) return viaEmulator(request, cosDomainsTo);
  // `<bucket>.cos.<region>.localhost:<port>`: the emulator on loopback, addressed by its bucket domain (Host kept).
  if (hostname.endsWith(".localhost")) return viaEmulator(request, `http://127.0.0.1:${new URL(request.url).port}`);
  if (hostname !== "127.0.0.1" && hostname !== "localhost") return wechatStub(request);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  // Node's fetch sets the framing headers itself, from the body it sends.
  const headers = new Headers(request.headers);
  for (const name of ["content-length", "host", "transfer-encoding"]) headers.delete(name);
  // One network hop: a redirect goes back to the runtime, which follows it or not as the Worker's fetch asked.
  const response = await fetch(request.url, { method: request.method, headers, body, redirect: "manual" });
  // Handed back as a plain Response: the body read here, headers copied (the runtime's Response class is not Node's).
  // No body for HEAD, nor for a status that may not carry one (COS's Abort answers 204): Response() throws on those.
  const bodyless = request.method === "HEAD" || response.status === 204 || response.status === 304;
  return new Response(bodyless ? null : await response.arrayBuffer(), { status: response.status, headers: response.headers });
}

let cosDomainsTo: string | undefined;

/**
 * The Worker's own calls to COS's real domains (`*.myqcloud.com`, a profile whose endpoint is COS's bucket domain, as
 * Tencent's Node SDK reaches it through the emulator as its proxy) go to the emulator at `origin`, Host kept.
 */
export function routeCosDomainsTo(origin: string | undefined): void {
  cosDomainsTo = origin;
}

/** One request sent to the emulator at `origin` with its own Host header (which fetch may not set) and body. */
async function viaEmulator(request: Request, origin: string): Promise<Response> {
  const { port, hostname } = new URL(origin);
  const url = new URL(request.url);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : Buffer.from(await request.arrayBuffer());
  const headers = Object.fromEntries([...request.headers].filter(([name]) => name !== "content-length" && name !== "host"));
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname, port, method: request.method, path: `${url.pathname}${url.search}`, headers: { ...headers, host: url.host, "content-length": String(body?.length ?? 0) } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () => {
          const status = incoming.statusCode ?? 502;
          const bodyless = request.method === "HEAD" || status === 204 || status === 304;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === "string") responseHeaders.set(name, value);
          resolve(new Response(bodyless ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/**
 * The Worker of wrangler.toml with these vars on top: the e2e credentials, AUTH_MODE=none unless `vars` says
 * otherwise, and WeChat's code2Session answered by the stub (the Worker's outbound fetches never leave the machine).
 * `persistTo`: where the Worker's state (the ledger's Durable Objects) is kept across restarts, as `--persist-to`.
 */
export async function startSigner(vars: Record<string, string>, options: { persistTo?: string } = {}): Promise<RunningSigner> {
  const all = { COS_SECRET_ID: SECRET_ID, COS_SECRET_KEY: SECRET_KEY, AUTH_MODE: "none", WX_APPID: STUB_APPID, WX_APPSECRET: STUB_APPSECRET, SESSION_SECRET, ...vars };
  const toBindings = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { type: "plain_text" as const, value }]));
  const bindings = toBindings(all);
  const worker = await unstable_startWorker({
    config: join(import.meta.dirname, "../../wrangler.toml"),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      // The Durable Objects' storage (the ledger) in a folder that outlives this Worker, or nowhere.
      persist: options.persistTo ?? false,
      logLevel: "error",
      outboundService: testOutbound,
    },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  return {
    url,
    async rebind(more) {
      await worker.patchConfig({ bindings: toBindings({ ...all, ...more }) });
      await worker.ready;
    },
    dispose: () => worker.dispose(),
  };
}

/** A temporary folder of test files, removed by `dispose()`. */
export async function fixtures(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return {
    dir,
    async write(name: string, bytes: Uint8Array | string): Promise<string> {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's TypeScript tools (`cli/upload.ts`, `scripts/whitelist.ts`) as a user would, in a child
 * process — without blocking this process's event loop, where the Worker and the emulator serve.
 */
export function runTool(script: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<ToolRun> {
  const root = join(import.meta.dirname, "../..");
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, script), ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd ?? root,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

/** One request through the Node `wx` adapter (which, unlike Node's fetch, resolves `*.localhost`), as a promise. */
export function wxRequest(options: Omit<WxRequestOptions, "success" | "fail">): Promise<{ status: number; data: unknown }> {
  return new Promise((resolve, reject) =>
    wxNode.request({ ...options, success: ({ statusCode, data }) => resolve({ status: statusCode, data }), fail: (error) => reject(new Error(error.errMsg)) }),
  );
}
