/**
 * `npm run bench`: signing-core speed, HTTP throughput and latency against a Tencent-style Node baseline, and sizes.
 * Everything runs on this machine, both sides in the same run, loading 127.0.0.1 only; every server started here is
 * stopped. Prints one table and writes it as JSON to bench/results/run-<time>.json (git-ignored); with --record, to
 * the committed bench/results/latest.json, the run the docs quote.
 */
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import COS from "cos-nodejs-sdk-v5";
import { build } from "esbuild";
import { issueSession } from "../worker/src/auth/session.js";
import { DEFAULT_WECHAT_API_ORIGIN, parseProfiles } from "../worker/src/config/index.js";
import { issueUploadToken, planParts } from "../worker/src/multipart/index.js";
import { createPostForm, signRequest } from "../worker/src/cos/index.js";
import { nodeDigest } from "../scripts/node-digest.js";
import { createClient } from "redis";
import { type RedisClient, redisLedger } from "../worker/src/ledger/redis.js";
import { startRedis } from "../test/support/redis-server.js";
import { freePort, startWorkerd, stopProcess, waitForHttp } from "./workerd.js";

const root = resolve(import.meta.dirname, "..");
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [1, 16, 64];
const CORE_SIGNATURES = 20_000;
const STARTUP_ROUNDS = 15;
const COMPATIBILITY_DATE = /compatibility_date = "([^"]+)"/.exec(await readFile(join(root, "wrangler.toml"), "utf8"))![1]!;
const credentials = { secretId: "AKIDBENCHxxxxxxxxxxxxxxxxxxxxxxxxxxx", secretKey: "bench-secret-key-0123456789abcdef" };
const credentialsVars = { COS_SECRET_ID: credentials.secretId, COS_SECRET_KEY: credentials.secretKey };
const keyTime = { start: 1795600000, end: 1795600660 };
const bucket = "examplebucket-1250000000";
const host = "cos.ap-guangzhou.myqcloud.com";
// The production default, AUTH_MODE=wechat: every signing request carries a session token.
const SESSION_SECRET = "bench-session-secret-0123456789abcdef-0123456789";
const WX_APPID = "wx0123456789abcdef";
const { token: sessionToken } = await issueSession(
  {
    mode: "wechat",
    appId: WX_APPID,
    appSecret: "bench",
    wechatApiOrigin: DEFAULT_WECHAT_API_ORIGIN,
    sessionSecret: SESSION_SECRET,
    userSegmentSecret: SESSION_SECRET,
    sessionTtlSeconds: 3600,
  },
  "bench-openid",
  new Date(),
);

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`${command} ${args.join(" ")} failed:\n${stderr}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const objectKey = (i: number) => `uploads/2026/11/25/${i.toString(16).padStart(32, "0")}.jpg`;

// ---------------------------------------------------------------- 1. signing core
async function timeLoop(n: number, body: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 2000; i++) await body(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) await body(i);
  return ((performance.now() - start) * 1000) / n;
}

async function coreInWorkerd(): Promise<{ put: number; post: number; push: number }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-core-"));
  const bundle = join(dir, "core.js");
  await build({ entryPoints: [join(root, "bench/core.worker.ts")], bundle: true, format: "esm", minify: true, outfile: bundle, logLevel: "error" });
  const worker = await startWorkerd(bundle, {}, COMPATIBILITY_DATE);
  // workerd's clock stands still while a request computes, so time whole requests and subtract an empty one.
  const time = async (query: string) => {
    const start = performance.now();
    await (await fetch(`${worker.url}/?${query}`)).text();
    return performance.now() - start;
  };
  try {
    const result = { put: 0, post: 0, push: 0 };
    for (const kind of ["put", "post", "push"] as const) {
      await time(`kind=${kind}&n=2000`);
      const samples: number[] = [];
      for (let round = 0; round < 3; round++) {
        const empty = await time(`kind=${kind}&n=0`);
        samples.push(((await time(`kind=${kind}&n=${CORE_SIGNATURES}`)) - empty) * 1000 / CORE_SIGNATURES);
      }
      result[kind] = median(samples);
    }
    return result;
  } finally {
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function coreInNode() {
  const putRequest = (i: number) => ({ method: "PUT", pathname: `/${bucket}/${objectKey(i)}`, headers: { host } });
  const ours = {
    put: await timeLoop(CORE_SIGNATURES, (i) => signRequest(credentials, putRequest(i), keyTime)),
    post: await timeLoop(CORE_SIGNATURES, (i) => createPostForm(credentials, { bucket, key: objectKey(i), keyTime, contentLengthRange: [0, 104857600] })),
  };
  const sdkPut = await timeLoop(CORE_SIGNATURES, (i) =>
    COS.getAuthorization({ SecretId: credentials.secretId, SecretKey: credentials.secretKey, Method: "put", Pathname: `/${bucket}/${objectKey(i)}`, Headers: { host }, KeyTime: "1795600000;1795600660" }),
  );
  // The SDK has no POST-policy helper; Tencent's samples sign the policy with node:crypto like this.
  const nodeCryptoPost = await timeLoop(CORE_SIGNATURES, (i) => {
    const policy = JSON.stringify({
      expiration: "2026-11-25T16:00:00.000Z",
      conditions: [{ "q-sign-algorithm": "sha1" }, { "q-ak": credentials.secretId }, { "q-sign-time": "1795600000;1795600660" }, { bucket }, { key: objectKey(i) }, ["content-length-range", 0, 104857600]],
    });
    const signKey = createHmac("sha1", credentials.secretKey).update("1795600000;1795600660").digest("hex");
    return [Buffer.from(policy).toString("base64"), createHmac("sha1", signKey).update(createHash("sha1").update(policy).digest("hex")).digest("hex")];
  });
  // The Node and SCF builds put digest-node.ts (node:crypto) in place of digest.ts: the same core, bundled so.
  const bundled = join(await mkdtemp(join(tmpdir(), "bench-core-")), "core.mjs");
  await build({ entryPoints: [join(root, "worker/src/cos/index.ts")], bundle: true, platform: "node", format: "esm", outfile: bundled, plugins: [nodeDigest], logLevel: "error" });
  const nodeBuild = (await import(bundled)) as typeof import("../worker/src/cos/index.js");
  const oursNodeCrypto = {
    put: await timeLoop(CORE_SIGNATURES, (i) => nodeBuild.signRequest(credentials, putRequest(i), keyTime)),
    post: await timeLoop(CORE_SIGNATURES, (i) => nodeBuild.createPostForm(credentials, { bucket, key: objectKey(i), keyTime, contentLengthRange: [0, 104857600] })),
  };
  return { ours, oursNodeCrypto, sdkPut, nodeCryptoPost };
}

/**
 * The ledger's call from Node: one reservation (a Lua script in a real redis-server), 64 at a time, as the Node host
 * makes it per signed request; this process's CPU per call (Redis's own is the store's, with its round trip).
 */
async function ledgerInNode(): Promise<{ cpuMsPerReserve: number; wallMsPerReserve: number }> {
  const redis = await startRedis();
  const client: RedisClient = createClient({ url: redis.url });
  await client.connect();
  try {
    const books = redisLedger(client).of("default", "bench");
    const limits = { quotaBytes: Number.MAX_SAFE_INTEGER, dailyBytes: Number.MAX_SAFE_INTEGER };
    let next = 0;
    const reserve = () => books.reserve({ key: `bench/${next++}`, bytes: 123456, contentType: "image/jpeg", expiresAt: Date.now() + 600_000, now: Date.now(), limits });
    const calls = 20_000;
    const round = async (n: number) => Promise.all(Array.from({ length: 64 }, async () => { for (let i = 0; i < n / 64; i++) await reserve(); }));
    await round(1_000);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await round(calls);
    const cpu = process.cpuUsage(cpuBefore);
    return { cpuMsPerReserve: (cpu.user + cpu.system) / 1000 / calls, wallMsPerReserve: (performance.now() - started) / calls };
  } finally {
    await client.close();
    await redis.dispose();
  }
}

// ---------------------------------------------------------------- 2. HTTP
interface LoadResult {
  target: string;
  route: string;
  connections: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  cpuMsPerRequest: number;
}

async function processCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  // utime and stime (fields 14 and 15 of proc(5)), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Route {
  name: string;
  path: string;
  method?: "GET" | "POST";
  body?: string;
}

const ROUTES: Route[] = [
  { name: "GET /put-sign", path: "/put-sign?ext=jpg" },
  { name: "POST /v1/uploads put", path: "/v1/uploads", method: "POST", body: JSON.stringify({ ext: "jpg", size: 123456, method: "put" }) },
  { name: "POST /v1/uploads post", path: "/v1/uploads", method: "POST", body: JSON.stringify({ ext: "jpg", size: 123456, method: "post" }) },
];

/** One multipart request: 100 part signatures, with an upload token minted for the bench's key pair. */
async function partsRoute(vars: Record<string, string>): Promise<Route> {
  const profile = parseProfiles({ ...vars, ...credentialsVars }).get("default")!;
  const plan = planParts(2 * 1024 ** 3);
  const claims = { sub: "", profile: "default", key: "uploads/2026/11/29/0123456789abcdef0123456789abcdef.mp4", uploadId: "1764000000bench", contentType: "video/mp4", ...plan };
  const { token } = await issueUploadToken(profile, claims, new Date());
  const partNumbers = Array.from({ length: 100 }, (_, i) => i + 1);
  return { name: "POST /v1/multipart/parts (100 part signatures)", path: "/v1/multipart/parts", method: "POST", body: JSON.stringify({ token, partNumbers }) };
}

/** What cos-wx-sdk-v5 asks for each part of a slice upload (regional domain, as wrangler.toml's default profile). */
function sdkPartRoute(vars: Record<string, string>): Route {
  const key = "uploads/2026/11/29/0123456789abcdef0123456789abcdef.mp4";
  const options = {
    Bucket: vars.COS_BUCKET,
    Region: vars.COS_REGION,
    Method: "put",
    Key: key,
    Pathname: `/${vars.COS_BUCKET}/${key}`,
    Query: { partNumber: 7, uploadId: "1764000000f0e1d2c3b4a59687" },
    Headers: { "Content-Length": 1048576, Host: `cos.${vars.COS_REGION}.myqcloud.com` },
  };
  return { name: "POST /v1/cos/authorization (an SDK's UploadPart)", path: "/v1/cos/authorization", method: "POST", body: JSON.stringify(options) };
}

async function load(target: string, url: string, pid: number, route: Route, connections: number, seconds: number): Promise<LoadResult> {
  const options = {
    url: `${url}${route.path}`,
    method: route.method ?? "GET",
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${sessionToken}`, ...(route.body ? { "content-type": "application/json" } : {}) },
    ...(route.body ? { body: route.body } : {}),
  };
  const cpuBefore = await processCpuMs(pid);
  const result = await autocannon(options);
  const cpuMs = (await processCpuMs(pid)) - cpuBefore;
  const requests = result.requests.total;
  return {
    target,
    route: route.name,
    connections,
    requests,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuMsPerRequest: requests > 0 ? cpuMs / requests : Number.NaN,
  };
}

async function http(bundle: string, bundleDir: string): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  const vars = Object.fromEntries([...(await readFile(join(root, "wrangler.toml"), "utf8")).matchAll(/^([A-Z_]+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
  // No rate-limit bindings here: the benchmark measures the signer, not the limiter.
  const secrets = { ...credentialsVars, WX_APPID, WX_APPSECRET: "bench", SESSION_SECRET };
  // SDK_ROUTES on for the SDK part route; SEED_ROUTES on, so that /put-sign (off by default with sessions) can be compared with the baseline's.
  const worker = await startWorkerd(bundle, { ...vars, ...secrets, AUTH_MODE: "wechat", SEED_ROUTES: "true", SDK_ROUTES: "true" }, COMPATIBILITY_DATE);
  try {
    for (const route of ROUTES) {
      await load("workerd", worker.url, worker.pid, route, 16, 1);
      for (const connections of CONNECTIONS) {
        log(`  workerd   ${route.name}, ${connections} connections`);
        results.push(await load("workerd", worker.url, worker.pid, route, connections, DURATION_SECONDS));
      }
    }
  } finally {
    await worker.stop();
  }

  // Where the time goes, at 64 connections: the same app without sessions, and a route that signs nothing.
  const open = await startWorkerd(bundle, { ...vars, ...secrets, AUTH_MODE: "none", SDK_ROUTES: "true" }, COMPATIBILITY_DATE);
  try {
    for (const route of [{ name: "GET /healthz (no signing)", path: "/healthz" }, ...ROUTES, await partsRoute(vars), sdkPartRoute(vars)]) {
      await load("without sessions", open.url, open.pid, route, 16, 1);
      log(`  without sessions  ${route.name}, 64 connections`);
      results.push(await load("without sessions", open.url, open.pid, route, 64, DURATION_SECONDS));
    }
  } finally {
    await open.stop();
  }

  const bareHono = join(bundleDir, "bare-hono.js");
  await build({ entryPoints: [join(root, "bench/bare-hono.worker.ts")], bundle: true, format: "esm", minify: true, outfile: bareHono, logLevel: "error" });
  const hono = await startWorkerd(bareHono, {}, COMPATIBILITY_DATE);
  try {
    await load("bare Hono", hono.url, hono.pid, ROUTES[0]!, 16, 1);
    log("  bare Hono, 64 connections");
    results.push(await load("bare Hono", hono.url, hono.pid, ROUTES[0]!, 64, DURATION_SECONDS));
  } finally {
    await hono.stop();
  }

  const empty = await startWorkerd(join(root, "bench/empty.worker.js"), {}, COMPATIBILITY_DATE);
  try {
    await load("empty Worker", empty.url, empty.pid, ROUTES[0]!, 16, 1);
    for (const connections of CONNECTIONS) {
      log(`  empty Worker, ${connections} connections`);
      results.push(await load("empty Worker", empty.url, empty.pid, ROUTES[0]!, connections, DURATION_SECONDS));
    }
  } finally {
    await empty.stop();
  }

  // The Node host (npm run start:node, SCF) as built: node:crypto signing, sessions on, no in-process limits.
  const nodeServer = join(bundleDir, "node-server.mjs");
  await build({ entryPoints: [join(root, "worker/src/hosts/node-main.ts")], bundle: true, platform: "node", format: "esm", minify: true, outfile: nodeServer, plugins: [nodeDigest], logLevel: "error", banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' } });
  const nodePort = await freePort();
  const nodeEnv = { ...vars, ...secrets, AUTH_MODE: "wechat", SEED_ROUTES: "true", RATE_LIMITS: "off", PORT: String(nodePort), HOST: "127.0.0.1" };
  const node = spawn(process.execPath, [nodeServer], { env: { PATH: process.env.PATH, ...nodeEnv } as unknown as NodeJS.ProcessEnv, stdio: "ignore" });
  try {
    const url = `http://127.0.0.1:${nodePort}`;
    await waitForHttp(url);
    for (const route of ROUTES.slice(0, 2)) {
      await load("node server", url, node.pid!, route, 16, 1);
      log(`  node server  ${route.name}, 64 connections`);
      results.push(await load("node server", url, node.pid!, route, 64, DURATION_SECONDS));
    }
  } finally {
    await stopProcess(node);
  }

  // The ledger's cost per signed request: the same route with a quota, its books in the LEDGER Durable Object (in the
  // same workerd process, so its CPU is counted) and in a real redis-server (whose own CPU is the store's, not ours).
  const unlimited = { UPLOAD_QUOTA_BYTES: String(Number.MAX_SAFE_INTEGER), UPLOAD_DAILY_BYTES: String(Number.MAX_SAFE_INTEGER) };
  const withLedger = await startWorkerd(bundle, { ...vars, ...secrets, AUTH_MODE: "wechat", ...unlimited }, COMPATIBILITY_DATE, { LEDGER: "UserLedgerObject" });
  try {
    await load("workerd + ledger", withLedger.url, withLedger.pid, ROUTES[1]!, 16, 1);
    log(`  workerd + ledger  ${ROUTES[1]!.name}, 16 connections`);
    results.push(await load("workerd + ledger", withLedger.url, withLedger.pid, ROUTES[1]!, 16, DURATION_SECONDS));
  } finally {
    await withLedger.stop();
  }
  // The store's round trip alone, for the same one object: a Durable Object call, and one that writes a row.
  const referenceBundle = join(bundleDir, "durable-object.js");
  await build({ entryPoints: [join(root, "bench/durable-object.worker.ts")], bundle: true, format: "esm", minify: true, outfile: referenceBundle, external: ["cloudflare:workers"], logLevel: "error" });
  const reference = await startWorkerd(referenceBundle, { BENCH: "reference" }, COMPATIBILITY_DATE, { REFERENCE: "ReferenceObject" });
  try {
    for (const route of [{ name: "a Durable Object call", path: "/call" }, { name: "a Durable Object call writing one row", path: "/write" }]) {
      await load("Durable Object reference", reference.url, reference.pid, route, 16, 1);
      log(`  reference: ${route.name}, 16 connections`);
      results.push(await load("Durable Object reference", reference.url, reference.pid, route, 16, DURATION_SECONDS));
    }
  } finally {
    await reference.stop();
  }
  const redis = await startRedis();
  const redisPort = await freePort();
  const redisNode = spawn(process.execPath, [nodeServer], {
    env: { PATH: process.env.PATH, ...nodeEnv, ...unlimited, REDIS_URL: redis.url, PORT: String(redisPort) } as unknown as NodeJS.ProcessEnv,
    stdio: "ignore",
  });
  try {
    const url = `http://127.0.0.1:${redisPort}`;
    await waitForHttp(url);
    await load("node server + Redis", url, redisNode.pid!, ROUTES[1]!, 16, 1);
    log(`  node server + Redis  ${ROUTES[1]!.name}, 64 connections`);
    results.push(await load("node server + Redis", url, redisNode.pid!, ROUTES[1]!, 64, DURATION_SECONDS));
  } finally {
    await stopProcess(redisNode);
    await redis.dispose();
  }

  const port = await freePort();
  const baseline = spawn(process.execPath, [join(root, "bench/baseline/server.mjs")], { env: { ...process.env, PORT: String(port) }, stdio: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(url);
    await load("baseline", url, baseline.pid!, ROUTES[0]!, 16, 1);
    for (const connections of CONNECTIONS) {
      log(`  baseline  ${ROUTES[0]!.name}, ${connections} connections`);
      results.push(await load("baseline", url, baseline.pid!, ROUTES[0]!, connections, DURATION_SECONDS));
    }
  } finally {
    await stopProcess(baseline);
  }
  return results;
}

// ---------------------------------------------------------------- 3. startup
/** CPU of every thread of a process so far (ms, from the scheduler's nanoseconds: finer than /proc/<pid>/stat's ticks). */
async function threadsCpuMs(pid: number): Promise<number> {
  let ns = 0;
  for (const thread of await readdir(`/proc/${pid}/task`)) ns += Number((await readFile(`/proc/${pid}/task/${thread}/schedstat`, "utf8")).split(" ")[0]);
  return ns / 1e6;
}

/**
 * A cold isolate: workerd's CPU until the Worker has answered its first request (module evaluated; startWorkerd waits
 * for an answer to GET /), then its first /healthz (the configuration read and validated), beyond an empty Worker's,
 * interleaved rounds, medians.
 */
async function startup(bundle: string, vars: Record<string, string>): Promise<{ moduleMs: number; firstRequestMs: number }> {
  const samples = { empty: [] as number[], module: [] as number[], first: [] as number[] };
  for (let round = 0; round < STARTUP_ROUNDS; round++) {
    const empty = await startWorkerd(join(root, "bench/empty.worker.js"), {}, COMPATIBILITY_DATE);
    samples.empty.push(await threadsCpuMs(empty.pid));
    await empty.stop();
    const worker = await startWorkerd(bundle, vars, COMPATIBILITY_DATE);
    const booted = await threadsCpuMs(worker.pid);
    await (await fetch(`${worker.url}/healthz`)).text();
    samples.module.push(booted);
    samples.first.push((await threadsCpuMs(worker.pid)) - booted);
    await worker.stop();
  }
  return { moduleMs: median(samples.module) - median(samples.empty), firstRequestMs: median(samples.first) };
}

// ---------------------------------------------------------------- 4. sizes
async function sizes(bundleDir: string) {
  const size = (bytes: Buffer) => ({ raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength });
  const worker = size(await readFile(join(bundleDir, "index.js")));
  const library = await build({ entryPoints: [join(root, "miniprogram/cos-upload/index.ts")], bundle: true, minify: true, format: "esm", target: "es2020", write: false, logLevel: "error" });
  return {
    workerBundle: worker,
    uploadLibraryMinified: size(Buffer.from(library.outputFiles[0]!.contents)),
    cosWxSdkMinified: size(await readFile(join(root, "node_modules/cos-wx-sdk-v5/dist/cos-wx-sdk-v5.min.js"))),
  };
}

// ---------------------------------------------------------------- the ledger alone (--ledger)
const LEDGER_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** The Worker bundle of a git revision (its own tree, this checkout's node_modules), to time its ledger beside ours. */
async function bundleOf(revision: string, outdir: string): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), "bench-revision-"));
  try {
    await run("git", ["archive", "--output", join(tree, "tree.tar"), revision]);
    await run("tar", ["-x", "-f", join(tree, "tree.tar"), "-C", tree]);
    await symlink(join(root, "node_modules"), join(tree, "node_modules"));
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [...WRANGLER_BUILD, outdir], { cwd: tree, stdio: "ignore" });
      child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`building ${revision} failed`))));
    });
    return join(outdir, "index.js");
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

/**
 * The ledger's rows only: per round, a fresh workerd for each of the route without and with the LEDGER object (and
 * with each `against` revision's bundle), the reference Worker's two Durable Object calls and the empty Worker, one
 * after another, so that a shared machine's load falls on every row alike; medians and ranges over the rounds.
 */
async function ledgerOnly(bundle: string, bundleDir: string, against: string[]): Promise<string> {
  const vars = Object.fromEntries([...(await readFile(join(root, "wrangler.toml"), "utf8")).matchAll(/^([A-Z_]+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]));
  const secrets = { ...credentialsVars, WX_APPID, WX_APPSECRET: "bench", SESSION_SECRET };
  const unlimited = { UPLOAD_QUOTA_BYTES: String(Number.MAX_SAFE_INTEGER), UPLOAD_DAILY_BYTES: String(Number.MAX_SAFE_INTEGER) };
  const referenceBundle = join(bundleDir, "durable-object.js");
  await build({ entryPoints: [join(root, "bench/durable-object.worker.ts")], bundle: true, format: "esm", minify: true, outfile: referenceBundle, external: ["cloudflare:workers"], logLevel: "error" });
  const revisions: [string, string][] = [];
  for (const [i, revision] of against.entries()) revisions.push([revision, await bundleOf(revision, join(bundleDir, `revision-${i}`))]);
  const targets: { name: string; start: () => ReturnType<typeof startWorkerd>; route: Route }[] = [
    { name: "without", start: () => startWorkerd(bundle, { ...vars, ...secrets, AUTH_MODE: "wechat" }, COMPATIBILITY_DATE), route: ROUTES[1]! },
    { name: "ledger", start: () => startWorkerd(bundle, { ...vars, ...secrets, AUTH_MODE: "wechat", ...unlimited }, COMPATIBILITY_DATE, { LEDGER: "UserLedgerObject" }), route: ROUTES[1]! },
    ...revisions.map(([revision, revisionBundle]) => ({
      name: `ledger@${revision}`,
      start: () => startWorkerd(revisionBundle, { ...vars, ...secrets, AUTH_MODE: "wechat", ...unlimited }, COMPATIBILITY_DATE, { LEDGER: "UserLedgerObject" }),
      route: ROUTES[1]!,
    })),
    { name: "call", start: () => startWorkerd(referenceBundle, { BENCH: "reference" }, COMPATIBILITY_DATE, { REFERENCE: "ReferenceObject" }), route: { name: "call", path: "/call" } },
    { name: "write", start: () => startWorkerd(referenceBundle, { BENCH: "reference" }, COMPATIBILITY_DATE, { REFERENCE: "ReferenceObject" }), route: { name: "write", path: "/write" } },
    { name: "empty", start: () => startWorkerd(join(root, "bench/empty.worker.js"), {}, COMPATIBILITY_DATE), route: ROUTES[0]! },
  ];
  const cpu = new Map<string, number[]>(targets.map((target) => [target.name, []]));
  for (let round = 0; round < LEDGER_ROUNDS; round++) {
    for (const target of targets) {
      const worker = await target.start();
      try {
        await load(target.name, worker.url, worker.pid, target.route, 16, 1);
        log(`  round ${round + 1}/${LEDGER_ROUNDS}: ${target.name}, 16 connections`);
        const result = await load(target.name, worker.url, worker.pid, target.route, 16, DURATION_SECONDS);
        if (result.errors + result.non2xx > 0) throw new Error(`${target.name}: ${result.errors} errors, ${result.non2xx} non-2xx`);
        cpu.get(target.name)!.push(result.cpuMsPerRequest);
      } finally {
        await worker.stop();
      }
    }
  }
  // Differences within a round, where the machine's load was alike; then their median and range over the rounds.
  const perRound = (f: (i: number) => number) => Array.from({ length: LEDGER_ROUNDS }, (_, i) => f(i));
  const at = (name: string, i: number) => cpu.get(name)![i]!;
  const roundTrip = perRound((i) => at("write", i) - at("empty", i));
  const rows: [string, number[]][] = [["the store's round trip: a Durable Object call writing one row, beyond an empty Worker", roundTrip], ["of which the call alone (no storage)", perRound((i) => at("call", i) - at("empty", i))]];
  for (const name of [...cpu.keys()].filter((key) => key.startsWith("ledger"))) {
    const adds = perRound((i) => at(name, i) - at("without", i));
    const label = name === "ledger" ? "this checkout" : name.slice("ledger@".length);
    rows.push([`${label}: the ledger adds (POST /v1/uploads put, with − without)`, adds], [`${label}: the ledger's own work beyond the round trip`, perRound((i) => adds[i]! - roundTrip[i]!)]);
  }
  const range = (values: number[]) => `${Math.min(...values).toFixed(3)} – ${Math.max(...values).toFixed(3)}`;
  const lines = [`| The ledger in workerd, 16 connections, ${LEDGER_ROUNDS} interleaved rounds of ${DURATION_SECONDS} s | median CPU ms/req | range |`, "|---|---:|---:|"];
  for (const [label, values] of rows) lines.push(`| ${label} | ${median(values).toFixed(3)} | ${range(values)} |`);
  lines.push("", "| Raw CPU ms/req per round | " + Array.from({ length: LEDGER_ROUNDS }, (_, i) => i + 1).join(" | ") + " |", "|---|" + "---:|".repeat(LEDGER_ROUNDS));
  for (const [name, values] of cpu) lines.push(`| ${name} | ${values.map((value) => value.toFixed(3)).join(" | ")} |`);
  return lines.join("\n");
}

// ---------------------------------------------------------------- report
const LABELS: Record<string, string> = {
  workerd: "ours (workerd)",
  "without sessions": "breakdown: ours with AUTH_MODE=none,",
  baseline: "baseline (express + node:crypto)",
  "node server": "Node server (npm run start:node, SCF),",
  "workerd + ledger": "ours (workerd) with a quota: the LEDGER Durable Object,",
  "node server + Redis": "Node server with a quota: the ledger in Redis (RATE_LIMITS=off),",
  "Durable Object reference": "reference: a Worker whose request makes",
  "empty Worker": "reference: empty Worker in workerd, any path",
  "bare Hono": "reference: bare Hono JSON app in workerd, any path",
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const us = (value: number) => `${value.toFixed(2)} µs`;
const perSecond = (microseconds: number) => Math.round(1e6 / microseconds).toLocaleString("en-US");

const WRANGLER_BUILD = [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--minify", "--outdir"];

// `npm run bench -- --ledger [--against=<git revision>,…]`: the ledger's rows alone, printed, nothing written.
if (process.argv.includes("--ledger")) {
  const against = process.argv.find((arg) => arg.startsWith("--against="))?.slice("--against=".length).split(",") ?? [];
  const dir = await mkdtemp(join(tmpdir(), "bench-bundle-"));
  try {
    await run(process.execPath, [...WRANGLER_BUILD, dir]);
    log(`the ledger's rows alone, ${LEDGER_ROUNDS} rounds${against.length > 0 ? `, beside ${against.join(", ")}` : ""}…`);
    process.stdout.write(`${await ledgerOnly(join(dir, "index.js"), dir, against)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const started = Date.now();
const bundleDir = await mkdtemp(join(tmpdir(), "bench-bundle-"));
try {
  log("building the Worker bundle (wrangler deploy --dry-run --minify)…");
  await run(process.execPath, [...WRANGLER_BUILD, bundleDir]);
  log("signing core in workerd and in Node…");
  const workerdCore = await coreInWorkerd();
  const nodeCore = await coreInNode();
  log("the ledger's Redis call in Node…");
  const ledgerNode = await ledgerInNode();
  log(`HTTP load, ${DURATION_SECONDS} s per run…`);
  const load = await http(join(bundleDir, "index.js"), bundleDir);
  log("startup of a cold isolate…");
  const cold = await startup(join(bundleDir, "index.js"), { AUTH_MODE: "none", COS_BUCKET: "examplebucket-1250000000", COS_REGION: "ap-guangzhou", ...credentialsVars });
  const size = await sizes(bundleDir);

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.versions.node}, workerd ${COMPATIBILITY_DATE} compat`;
  const lines: string[] = [];
  lines.push(`Machine: ${machine}`, "");
  lines.push("| Signing core (one signature) | µs | per second |", "|---|---:|---:|");
  for (const [label, value] of [
    ["PUT Authorization — ours in workerd", workerdCore.put],
    ["PUT Authorization — ours in Node (WebCrypto)", nodeCore.ours.put],
    ["PUT Authorization — ours in Node (node:crypto: the Node / SCF build)", nodeCore.oursNodeCrypto.put],
    ["PUT Authorization — cos-nodejs-sdk-v5 getAuthorization in Node", nodeCore.sdkPut],
    ["POST policy — ours in workerd", workerdCore.post],
    ["POST policy — ours in Node (WebCrypto)", nodeCore.ours.post],
    ["POST policy — ours in Node (node:crypto: the Node / SCF build)", nodeCore.oursNodeCrypto.post],
    ["POST policy — node:crypto (Tencent sample style) in Node", nodeCore.nodeCryptoPost],
    ["WeChat push opened (msg_signature, AES-256-CBC, appid) — ours in workerd", workerdCore.push],
  ] as const) {
    lines.push(`| ${label} | ${us(value)} | ${perSecond(value)} |`);
  }
  lines.push("", "| HTTP | connections | req/s | p50 ms | p99 ms | errors | non-2xx | CPU ms/req | vs baseline req/s |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of load) {
    const baseline = load.find((b) => b.target === "baseline" && b.connections === row.connections);
    const ratio = (row.target === "workerd" || row.target === "without sessions" || row.target === "node server") && baseline ? `${(row.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}×` : "";
    lines.push(
      `| ${LABELS[row.target]}${row.target === "empty Worker" || row.target === "bare Hono" ? "" : ` ${row.route}`} | ${row.connections} | ${row.requestsPerSecond.toLocaleString("en-US")} | ${row.p50Ms} | ${row.p99Ms} | ${row.errors} | ${row.non2xx} | ${row.cpuMsPerRequest.toFixed(3)} | ${ratio} |`,
    );
  }
  const ledgerCost = (target: string, without: string, connections: number) => {
    const on = load.find((row) => row.target === target);
    const off = load.find((row) => row.target === without && row.route === ROUTES[1]!.name && row.connections === connections);
    return on && off ? { cpuMs: on.cpuMsPerRequest - off.cpuMsPerRequest, p50Ms: on.p50Ms - off.p50Ms } : undefined;
  };
  lines.push("", "| The ledger's cost per signed request (POST /v1/uploads put, with − without) | CPU ms/req | p50 ms |", "|---|---:|---:|");
  // The store's round trip on Workers: the reference Worker's Durable Object call beyond the empty Worker's request.
  const roundTrip = (route: string) => {
    const on = load.find((row) => row.target === "Durable Object reference" && row.route === route);
    const off = load.find((row) => row.target === "empty Worker" && row.connections === 16);
    return on && off ? { cpuMs: on.cpuMsPerRequest - off.cpuMsPerRequest, p50Ms: on.p50Ms - off.p50Ms } : undefined;
  };
  const durable = ledgerCost("workerd + ledger", "workerd", 16);
  const write = roundTrip("a Durable Object call writing one row");
  for (const [label, cost] of [
    ["workerd: the ledger's Durable Object call (Worker and object CPU), 16 connections", durable],
    ["workerd: the store's round trip — a Durable Object call writing one row, beyond an empty Worker", write],
    ["workerd: of which the call alone (no storage)", roundTrip("a Durable Object call")],
    ["workerd: the ledger's own work beyond that round trip", durable && write ? { cpuMs: durable.cpuMs - write.cpuMs, p50Ms: durable.p50Ms - write.p50Ms } : undefined],
    ["Node: a Redis script call (the signer's CPU; Redis's own not counted), 64 connections", ledgerCost("node server + Redis", "node server", 64)],
  ] as const) {
    if (cost) lines.push(`| ${label} | ${cost.cpuMs.toFixed(3)} | ${cost.p50Ms} |`);
  }
  lines.push(`| Node: one reservation alone (Redis Lua script, 64 at a time; this process's CPU, mean wall time per call) | ${ledgerNode.cpuMsPerReserve.toFixed(3)} | ${ledgerNode.wallMsPerReserve.toFixed(3)} (mean) |`);
  lines.push("", `| Startup of a cold isolate in workerd (median of ${STARTUP_ROUNDS}, interleaved with an empty Worker) | CPU ms |`, "|---|---:|");
  lines.push(`| the module evaluated and its first answer (a 404), beyond an empty Worker's | ${cold.moduleMs.toFixed(2)} |`);
  lines.push(`| its first GET /healthz (the configuration read and validated) | ${cold.firstRequestMs.toFixed(2)} |`);
  lines.push("", "| Size | raw | gzip |", "|---|---:|---:|");
  lines.push(`| Worker bundle (wrangler deploy --dry-run --minify) | ${kb(size.workerBundle.raw)} | ${kb(size.workerBundle.gzip)} |`);
  lines.push(`| Mini Program upload library, minified | ${kb(size.uploadLibraryMinified.raw)} | ${kb(size.uploadLibraryMinified.gzip)} |`);
  lines.push(`| cos-wx-sdk-v5 dist/cos-wx-sdk-v5.min.js | ${kb(size.cosWxSdkMinified.raw)} | ${kb(size.cosWxSdkMinified.gzip)} |`);
  lines.push("", `Ran in ${((Date.now() - started) / 1000).toFixed(0)} s (${DURATION_SECONDS} s per load run).`);
  const table = lines.join("\n");
  process.stdout.write(`${table}\n`);

  await mkdir(join(root, "bench/results"), { recursive: true });
  const json = { date: new Date().toISOString(), machine, durationSecondsPerRun: DURATION_SECONDS, core: { workerd: workerdCore, node: nodeCore }, ledgerNode, http: load, startup: cold, sizes: size, table };
  // Only a run meant to be quoted replaces the committed record; any other stays beside it, untracked.
  const file = process.argv.includes("--record") ? "bench/results/latest.json" : `bench/results/run-${json.date.replace(/[:.]/g, "-")}.json`;
  await writeFile(join(root, file), `${JSON.stringify(json, null, 2)}\n`);
  log(`written to ${file}${file.endsWith("latest.json") ? "" : " (npm run bench -- --record replaces bench/results/latest.json)"}`);
} finally {
  await rm(bundleDir, { recursive: true, force: true });
}
