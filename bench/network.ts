/**
 * `npm run bench:network [-- --full]`: uploads over shaped links (bench/shaper.ts) with the Mini Program library
 * (through the Node `wx` adapter, WeChat's whole-request timeout) to the COS emulator, signed by the signer's Node
 * host, all on 127.0.0.1. Reports per profile and file size: time, time ÷ the link's floor (size × 8 / uplink + 2 RTT),
 * success rate, requests and uplink bytes beyond the file's. `--quick` (the default) is a few minutes; `--full` runs
 * files to 96 MiB and 5 runs a cell. Results: bench/results/network.json, and a Markdown table on stdout.
 */
import { randomBytes } from "node:crypto";
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

const { values } = parseArgs({ options: { full: { type: "boolean" }, quick: { type: "boolean" } } });
const full = values.full === true;
// Quick: each profile with the sizes that show it in seconds; the outage cell takes its 30 s.
const CELLS: Record<string, number[]> = full
  ? { wifi: [256 * KiB, 4 * MiB, 32 * MiB, 96 * MiB], "4G": [256 * KiB, 4 * MiB, 32 * MiB, 96 * MiB], "3G": [256 * KiB, 4 * MiB, 20 * MiB], "flaky 4G": [4 * MiB, 32 * MiB], outage: [8 * MiB] }
  : { wifi: [256 * KiB, 4 * MiB, 32 * MiB], "4G": [256 * KiB, 4 * MiB], "3G": [256 * KiB], "flaky 4G": [4 * MiB, 32 * MiB], outage: [4 * MiB] };
const RUNS = (profile: string) => (full ? 5 : profile === "flaky 4G" ? 2 : 1);

const credentials = { id: "AKIDBENCHNETWORKxxxxxxxxxxxxxxxxxxxx", key: "bench-network-secret-key" };
const bucket = { name: "examplebucket-1250000000", region: "ap-guangzhou" };
const dataDir = await mkdtemp(join(tmpdir(), "bench-network-"));
process.env.COS_UPLOAD_STATE = join(dataDir, "wx-storage.json");
const emulator = await startCosEmulator({ buckets: [bucket], credentials: { [credentials.id]: credentials.key }, dataDir: join(dataDir, "cos") });

interface Run {
  profile: string;
  size: number;
  ok: boolean;
  seconds: number;
  floorSeconds: number;
  requests: number;
  wastedBytes: number;
  error?: string;
}

async function once(profile: LinkProfile, size: number, file: string): Promise<Run> {
  const link = new Link(profile);
  const cos = await link.proxy(emulator.port);
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
    },
    port: 0,
    hostname: "127.0.0.1",
  });
  const signerUrl = await link.proxy(Number(new URL(signer.url).port));
  const started = performance.now();
  let error: string | undefined;
  try {
    await createUploader({ signerUrl, wx: wxNode }).upload({ filePath: file, size });
  } catch (caught) {
    error = (caught as Error).message;
  }
  const seconds = (performance.now() - started) / 1000;
  await link.close();
  await signer.close();
  await rm(process.env.COS_UPLOAD_STATE!, { force: true });
  const floorSeconds = (size * 8) / profile.uplinkBitsPerSecond + (2 * profile.rttMs) / 1000;
  return { profile: profile.name, size, ok: !error, seconds, floorSeconds, requests: link.stats.requests, wastedBytes: link.stats.bytesUp - size, ...(error && { error }) };
}

const runs: Run[] = [];
const budgetEnds = Date.now() + (full ? 60 : 8) * 60_000;
for (const profile of PROFILES) {
  for (const size of CELLS[profile.name] ?? []) {
    const file = join(dataDir, `${size}.bin`);
    await writeFile(file, randomBytes(size));
    for (let run = 0; run < RUNS(profile.name) && Date.now() < budgetEnds; run++) {
      const result = await once(profile, size, file);
      runs.push(result);
      process.stderr.write(`${profile.name} ${size / KiB} KiB: ${result.ok ? "ok" : `FAILED (${result.error})`} ${result.seconds.toFixed(2)} s, ${(result.floorSeconds / result.seconds).toFixed(2)} of the floor\n`);
    }
  }
}
await emulator.close();
await rm(dataDir, { recursive: true, force: true });

const label = (size: number) => (size < MiB ? `${size / KiB} KiB` : `${size / MiB} MiB`);
const lines = ["| link (uplink, RTT) | file | runs | succeeded | time (median) | floor ÷ time | requests | uplink bytes beyond the file |", "|---|---|---|---|---|---|---|---|"];
for (const profile of PROFILES) {
  for (const size of CELLS[profile.name] ?? []) {
    const cell = runs.filter((run) => run.profile === profile.name && run.size === size);
    if (!cell.length) continue;
    const times = cell.map((run) => run.seconds).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const mean = (pick: (run: Run) => number) => cell.reduce((sum, run) => sum + pick(run), 0) / cell.length;
    const link = `${profile.name} (${profile.uplinkBitsPerSecond / Mbit} Mbit/s, ${profile.rttMs} ms)`;
    lines.push(
      `| ${link} | ${label(size)} | ${cell.length} | ${cell.filter((run) => run.ok).length} | ${median.toFixed(2)} s | ${(cell[0]!.floorSeconds / median).toFixed(2)} | ${mean((run) => run.requests).toFixed(0)} | ${(mean((run) => run.wastedBytes) / MiB).toFixed(2)} MiB |`,
    );
  }
}
const table = lines.join("\n");
await writeFile(join(import.meta.dirname, "results/network.json"), `${JSON.stringify({ date: new Date().toISOString(), mode: full ? "full" : "quick", runs, table }, null, 2)}\n`);
process.stdout.write(`${table}\n`);
