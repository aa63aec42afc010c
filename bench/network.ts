/**
 * `npm run bench:network [-- --full]`: uploads over shaped links (bench/shaper.ts) with the Mini Program library and
 * with cos-wx-sdk-v5's `uploadFile` at its defaults (per-request authorization and temporary keys), both through the
 * Node `wx` adapter (WeChat's whole-request timeout), to the COS emulator, signed by the signer's Node host, all on
 * 127.0.0.1. Reports per profile and file size: time, time ÷ the link's floor (size × 8 / uplink + 2 RTT),
 * success rate, requests and uplink bytes beyond the file's. `--quick` (the default) is a few minutes; `--full` runs
 * files to 96 MiB and 5 runs a cell. Results: bench/results/network.json, and a Markdown table on stdout.
 */
import { randomBytes } from "node:crypto";
import dns from "node:dns";
import { createRequire } from "node:module";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCosEmulator } from "../emulator/cos-emulator.js";
import { createUploader } from "../miniprogram/cos-upload/index.js";
import { startNodeServer } from "../worker/src/hosts/node.js";
import { wxNode } from "../wx-node/index.js";
import { Link, type LinkProfile } from "./shaper.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const Mbit = 1_000_000;

const PROFILES: LinkProfile[] = [
  { name: "wifi", uplinkBitsPerSecond: 30 * Mbit, rttMs: 20 },
  { name: "4G", uplinkBitsPerSecond: 8 * Mbit, rttMs: 60 },
  { name: "3G", uplinkBitsPerSecond: 1 * Mbit, rttMs: 150 },
  { name: "flaky 4G", uplinkBitsPerSecond: 8 * Mbit, rttMs: 60, resetEveryBytes: 4 * MiB, stallEveryBytes: 8 * MiB, stallMs: 3000 },
  { name: "outage", uplinkBitsPerSecond: 8 * Mbit, rttMs: 60, outage: { atMs: 1500, forMs: 30_000 } },
];

const { values } = parseArgs({
  options: {
    full: { type: "boolean" },
    quick: { type: "boolean" },
    // A subset, to look at one cell: `--only "flaky 4G:32 MiB"` (repeatable), `--runs 5`, `--clients library`.
    only: { type: "string", multiple: true },
    runs: { type: "string" },
    clients: { type: "string" },
    // One line per request on stderr (start, end, method, path, bytes, outcome): where the time goes.
    trace: { type: "boolean" },
    // The faults' draw: run N of every cell gives every client the same fault points (seed + N; a cell's faults are
    // the start of a larger cell's); default random.
    seed: { type: "string" },
  },
});
const full = values.full === true;
// Quick: each profile with the sizes that show it in seconds; the outage cell takes its 30 s.
const CELLS: Record<string, number[]> = full
  ? { wifi: [256 * KiB, 4 * MiB, 32 * MiB, 96 * MiB], "4G": [256 * KiB, 4 * MiB, 32 * MiB, 96 * MiB], "3G": [256 * KiB, 4 * MiB, 20 * MiB], "flaky 4G": [4 * MiB, 32 * MiB], outage: [8 * MiB] }
  : { wifi: [256 * KiB, 4 * MiB, 32 * MiB], "4G": [256 * KiB, 4 * MiB], "3G": [256 * KiB], "flaky 4G": [4 * MiB, 32 * MiB], outage: [4 * MiB] };
const RUNS = () => Number(values.runs ?? (full ? 5 : 1));
const label = (size: number) => (size < MiB ? `${size / KiB} KiB` : `${size / MiB} MiB`);
const chosen = (profile: string, size: number) => !values.only || values.only.some((cell) => cell === profile || cell === `${profile}:${label(size)}`);

// The signer's own COS calls (fetch) to the SDK's bucket domain under .localhost: resolved to 127.0.0.1 as the wx adapter
// does (RFC 6761), where glibc's resolver does not.
const systemLookup = dns.lookup;
dns.lookup = ((host: string, options: unknown, callback?: (...args: unknown[]) => void) => {
  if (!host.endsWith(".localhost")) return (systemLookup as (...args: unknown[]) => void)(host, options, callback);
  const done = (typeof options === "function" ? options : callback) as (...args: unknown[]) => void;
  (options as { all?: boolean } | undefined)?.all ? done(null, [{ address: "127.0.0.1", family: 4 }]) : done(null, "127.0.0.1", 4);
}) as typeof dns.lookup;

const credentials = { id: "AKIDBENCHNETWORKxxxxxxxxxxxxxxxxxxxx", key: "bench-network-secret-key" };
const bucket = { name: "examplebucket-1250000000", region: "ap-guangzhou" };
const dataDir = await mkdtemp(join(tmpdir(), "bench-network-"));
process.env.COS_UPLOAD_STATE = join(dataDir, "wx-storage.json");
const emulator = await startCosEmulator({ buckets: [bucket], credentials: { [credentials.id]: credentials.key }, dataDir: join(dataDir, "cos") });

type Client = "library" | "cos-wx-sdk-v5 per request" | "cos-wx-sdk-v5 temporary keys";
const CLIENTS = (["library", "cos-wx-sdk-v5 per request", "cos-wx-sdk-v5 temporary keys"] as Client[]).filter((client) => !values.clients || values.clients.split(",").some((name) => client.includes(name)));

/** cos-wx-sdk-v5's published build with `wx` as the Node adapter and the base-library facts it reads (as tests/node/tencent-sdks). */
type WxSdk = new (options: Record<string, unknown>) => { uploadFile(params: Record<string, unknown>, callback: (error: unknown) => void): void };
function loadWxSdk(): WxSdk {
  const global = globalThis as { wx?: unknown; window?: unknown };
  global.wx = { ...wxNode, canIUse: (api: string) => api === "getAppBaseInfo" || api === "getDeviceInfo", getAppBaseInfo: () => ({ SDKVersion: "3.6.0" }), getDeviceInfo: () => ({ platform: "android" }) };
  global.window = globalThis;
  try {
    return createRequire(import.meta.url)("cos-wx-sdk-v5") as WxSdk;
  } finally {
    delete global.window;
  }
}
const WxCos = loadWxSdk();

/** wxNode, with each request written to stderr when `--trace` is on: ms since `t0`, method, path, bytes, outcome. */
let t0 = 0;
const traced: typeof wxNode = !values.trace
  ? wxNode
  : {
      ...wxNode,
      request(options) {
        const started = performance.now() - t0;
        const path = new URL(options.url).pathname.replace(/^.*\//, "/") + new URL(options.url).search.replace(/uploadId=[^&]*/, "");
        const bytes = options.data instanceof ArrayBuffer ? options.data.byteLength : 0;
        const line = (outcome: string) => process.stderr.write(`  ${started.toFixed(0).padStart(6)} → ${(performance.now() - t0).toFixed(0).padStart(6)} ms ${options.method} ${path} ${bytes} B: ${outcome}\n`);
        return wxNode.request({
          ...options,
          success: (result) => (line(String(result.statusCode)), options.success(result)),
          fail: (error) => (line(error.errMsg), options.fail(error)),
        });
      },
      uploadFile(options) {
        const started = performance.now() - t0;
        const line = (outcome: string) => process.stderr.write(`  ${started.toFixed(0).padStart(6)} → ${(performance.now() - t0).toFixed(0).padStart(6)} ms uploadFile ${new URL(options.url).pathname}: ${outcome}\n`);
        return wxNode.uploadFile({
          ...options,
          success: (result) => (line(String(result.statusCode)), options.success(result)),
          fail: (error) => (line(error.errMsg), options.fail(error)),
        });
      },
    };

/** One POST of JSON to the signer through the link, as the SDK's getAuthorization does it. */
const askSigner = (url: string, data: Record<string, unknown>) =>
  new Promise<unknown>((resolve) => traced.request({ url, method: "POST", data, success: ({ data: answer }) => resolve(answer), fail: ({ errMsg }) => resolve({ errMsg }) }));

async function sdkUpload(mode: "authorization" | "credentials", signerUrl: string, file: string): Promise<void> {
  const profile = mode === "authorization" ? "wx" : "wx-keys";
  const { Key } = (await askSigner(`${signerUrl}/v1/cos/keys`, { ext: "bin", profile })) as { Key: string };
  const cos = new WxCos({
    getAuthorization: (options: Record<string, unknown>, callback: (data: unknown) => void) =>
      void askSigner(`${signerUrl}/v1/cos/${mode}`, mode === "authorization" ? { ...options, profile } : { profile }).then(callback),
    Domain: `http://{Bucket}.cos.{Region}.localhost:${new URL(cosOrigin).port}`,
    // Per request, a small file goes by PUT: the signer refuses the SDK's POST signature, which binds no key or size.
    ...(mode === "authorization" && { SimpleUploadMethod: "putObject" }),
  });
  await new Promise<void>((resolve, reject) => cos.uploadFile({ Bucket: bucket.name, Region: bucket.region, Key, FilePath: file, ...(mode === "authorization" && { Headers: { "x-cos-forbid-overwrite": "true" } }) }, (error) => (error ? reject(new Error(JSON.stringify(error))) : resolve())));
}
let cosOrigin = "";
const sdkEndpoint = (cos: string) => `http://${bucket.name}.cos.${bucket.region}.localhost:${new URL(cos).port}`;

interface Run {
  client: Client;
  profile: string;
  size: number;
  ok: boolean;
  seconds: number;
  floorSeconds: number;
  requests: number;
  wastedBytes: number;
  error?: string;
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed takes a whole number ≥ 0, not ${values.seed}`);
process.stderr.write(`faults seed ${seed} (--seed ${seed} puts them at the same bytes again)\n`);

async function once(client: Client, profile: LinkProfile, size: number, file: string, faults: number): Promise<Run> {
  const link = new Link(profile, faults);
  const cos = await link.proxy(emulator.port);
  cosOrigin = cos;
  // The signer signs for COS as the phone reaches it (through the link); its own COS calls cross the link too.
  const signer = await startNodeServer({
    env: {
      COS_SECRET_ID: credentials.id,
      COS_SECRET_KEY: credentials.key,
      COS_BUCKET: bucket.name,
      COS_REGION: bucket.region,
      COS_ENDPOINT: cos,
      AUTH_MODE: "none",
      RATE_LIMITS: "off",
      UPLOAD_ALLOWED_EXTENSIONS: "bin",
      UPLOAD_MAX_BYTES: String(200 * MiB),
      UPLOAD_MULTIPART_MAX_BYTES: String(200 * MiB),
      STS_ENDPOINT: emulator.url,
      SDK_ROUTES: "true",
      // The SDK's own: the bucket's domain under .localhost (the wx adapter resolves it to 127.0.0.1), through the link.
      // Per request the profile forbids overwrites (the default) and the SDK sends the header docs/sdk.md shows; temporary
      // keys cannot bind that header, so they get a profile without it.
      UPLOAD_PROFILES: JSON.stringify({
        wx: { bucket: bucket.name, pathStyle: false, endpoint: sdkEndpoint(cos) },
        "wx-keys": { bucket: bucket.name, pathStyle: false, endpoint: sdkEndpoint(cos), forbidOverwrite: false },
      }),
    },
    port: 0,
    hostname: "127.0.0.1",
  });
  const signerUrl = await link.proxy(Number(new URL(signer.url).port));
  const started = performance.now();
  t0 = started;
  (globalThis as { wx?: typeof wxNode }).wx!.request = traced.request;
  let error: string | undefined;
  try {
    if (client === "library") await createUploader({ signerUrl, wx: traced }).upload({ filePath: file, size });
    else await sdkUpload(client === "cos-wx-sdk-v5 per request" ? "authorization" : "credentials", signerUrl, file);
  } catch (caught) {
    error = (caught as Error).message;
  }
  const seconds = (performance.now() - started) / 1000;
  await link.close();
  await signer.close();
  await rm(process.env.COS_UPLOAD_STATE!, { force: true });
  const floorSeconds = (size * 8) / profile.uplinkBitsPerSecond + (2 * profile.rttMs) / 1000;
  return { client, profile: profile.name, size, ok: !error, seconds, floorSeconds, requests: link.stats.requests, wastedBytes: link.stats.bytesUp - size, ...(error && { error }) };
}

const runs: Run[] = [];
const budgetEnds = Date.now() + (full ? 90 : 10) * 60_000;
for (const profile of PROFILES) {
  for (const size of (CELLS[profile.name] ?? []).filter((size) => chosen(profile.name, size))) {
    const file = join(dataDir, `${size}.bin`);
    await writeFile(file, randomBytes(size));
    for (let run = 0; run < RUNS() && Date.now() < budgetEnds; run++) {
      for (const client of CLIENTS) {
        const result = await once(client, profile, size, file, seed + run);
        runs.push(result);
        process.stderr.write(`${client}, ${profile.name} ${size / KiB} KiB: ${result.ok ? "ok" : `FAILED (${result.error?.slice(0, 200)})`} ${result.seconds.toFixed(2)} s, ${(result.floorSeconds / result.seconds).toFixed(2)} of the floor\n`);
      }
    }
  }
}

const lines = ["| link (uplink, RTT) | file | client | runs | succeeded | time: median (range) | floor ÷ time | requests | uplink bytes beyond the file |", "|---|---|---|---|---|---|---|---|---|"];
for (const profile of PROFILES) {
  for (const size of CELLS[profile.name] ?? []) {
    for (const client of CLIENTS) {
      const cell = runs.filter((run) => run.client === client && run.profile === profile.name && run.size === size);
      if (!cell.length) continue;
      const times = cell.map((run) => run.seconds).sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      const mean = (pick: (run: Run) => number) => cell.reduce((sum, run) => sum + pick(run), 0) / cell.length;
      const link = `${profile.name} (${profile.uplinkBitsPerSecond / Mbit} Mbit/s, ${profile.rttMs} ms)`;
      lines.push(
        `| ${link} | ${label(size)} | ${client} | ${cell.length} | ${cell.filter((run) => run.ok).length} | ${median.toFixed(2)} s${cell.length > 1 ? ` (${times[0]!.toFixed(1)}–${times.at(-1)!.toFixed(1)})` : ""} | ${(cell[0]!.floorSeconds / median).toFixed(2)} | ${mean((run) => run.requests).toFixed(0)} | ${(mean((run) => run.wastedBytes) / MiB).toFixed(2)} MiB |`,
      );
    }
  }
}
const table = lines.join("\n");
// A subset is written beside the full record, not over it.
const subset = values.only || values.runs || values.clients;
await writeFile(join(import.meta.dirname, subset ? `results/network-${Date.now()}.json` : "results/network.json"), `${JSON.stringify({ date: new Date().toISOString(), mode: full ? "full" : "quick", seed, runs, table }, null, 2)}\n`);
process.stdout.write(`${table}\n`);
// After the results are safe: the emulator may still be finishing a write in its folder.
await emulator.close();
await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
