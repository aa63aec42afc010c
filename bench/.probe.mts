import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { startWorkerd } from "./workerd.ts";
const dir = await mkdtemp(join(tmpdir(), "probe-"));
await new Promise((done) => spawn(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", dir, "--minify"], { stdio: "ignore" }).on("exit", done));
const cpu = async (pid: number) => { const f = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
const base = { COS_SECRET_ID: "AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", COS_SECRET_KEY: "k", COS_BUCKET: "examplebucket-1250000000", COS_REGION: "ap-guangzhou", AUTH_MODE: "none" };
const w = await startWorkerd(join(dir, "index.js"), { ...base, UPLOAD_QUOTA_BYTES: String(Number.MAX_SAFE_INTEGER) }, "2026-10-01", { LEDGER: "UserLedgerObject" });
const split = async (pid: number) => { const f = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" "); return [Number(f[11]) * 10, Number(f[12]) * 10]; };
for (const [label, path] of [["put-no-ledger?", "/v1/uploads"]] as const) {
  const opts = { url: `${w.url}${path}`, method: "POST" as const, connections: 16, duration: 4, headers: { "content-type": "application/json" }, body: JSON.stringify({ ext: "jpg", size: 123456 }) };
  const s0 = await split(w.pid);
  await autocannon({ ...opts, duration: 1 });
  const c0 = await cpu(w.pid); const r = await autocannon(opts); const c1 = await cpu(w.pid);
  const s1 = await split(w.pid); console.log("user ms/req", ((s1[0]! - s0[0]!) / r.requests.total).toFixed(3), "sys ms/req", ((s1[1]! - s0[1]!) / r.requests.total).toFixed(3));
  console.log(label, "req/s", r.requests.average, "non2xx", r.non2xx, "cpu ms/req", ((c1 - c0) / r.requests.total).toFixed(3), "p50", r.latency.p50);
}
await w.stop();
