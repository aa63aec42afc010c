/**
 * `npm run cos:local`: the local COS emulator on 127.0.0.1:9000 (COS_LOCAL_PORT), objects under .cos-local/
 * (COS_LOCAL_DATA), accepting the dev credentials of dev/local.env: its write and read key pairs, each with its CAM
 * policy from dev/cam-policies.json (COS_LOCAL_POLICIES: another file of the same shape, `{"write": …, "read": …}`). Buckets: COS_LOCAL_BUCKETS, a comma-separated list
 * of `name:region` (append `:new` for a bucket created after 2024-01-01, which refuses path-style requests).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";
import { type EmulatedBucket, startCosEmulator } from "./cos-emulator.js";
import type { Policy } from "./sts.js";

const root = resolve(import.meta.dirname, "..");
const dev = parseEnv(readFileSync(resolve(root, "dev/local.env"), "utf8"));
const port = Number(process.env.COS_LOCAL_PORT ?? 9000);
const dataDir = resolve(root, process.env.COS_LOCAL_DATA ?? ".cos-local");
const buckets: EmulatedBucket[] = (process.env.COS_LOCAL_BUCKETS ?? "examplebucket-1250000000:ap-guangzhou").split(",").map((spec) => {
  const [name = "", region = "", age] = spec.trim().split(":");
  return { name, region, pathStyleForbidden: age === "new" };
});

const policies = JSON.parse(readFileSync(resolve(root, process.env.COS_LOCAL_POLICIES ?? "dev/cam-policies.json"), "utf8")) as { write: Policy; read: Policy };
// The first bucket also answers on the emulator's own address without its name in the path (dev/local.env's
// COS_ENDPOINT), like a custom domain bound to it.
const emulator = await startCosEmulator(
  {
    buckets,
    credentials: { [dev.COS_SECRET_ID!]: dev.COS_SECRET_KEY!, [dev.COS_READ_SECRET_ID!]: dev.COS_READ_SECRET_KEY! },
    permissions: { [dev.COS_SECRET_ID!]: policies.write, [dev.COS_READ_SECRET_ID!]: policies.read },
    dataDir,
    customDomainBucket: buckets[0]?.name,
  },
  port,
  process.env.COS_LOCAL_HOST ?? "127.0.0.1",
);
console.log(`COS emulator (local stand-in for Tencent COS, not the real service) on ${emulator.url}`);
for (const bucket of buckets) {
  console.log(
    `  bucket ${bucket.name} (${bucket.region})${bucket.pathStyleForbidden ? ", path-style forbidden" : ""}${bucket === buckets[0] ? `, also at ${emulator.url}/<key>` : ""}`,
  );
}
console.log(`  objects in ${dataDir}`);

let answered = 0;
setInterval(() => {
  for (const entry of emulator.log.slice(answered)) {
    console.log(`  ${entry.status} ${entry.method} ${entry.url.slice(0, 120)}${entry.code ? ` ${entry.code}` : ""}`);
  }
  answered = emulator.log.length;
}, 250).unref();

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void emulator.close().then(() => process.exit(0)));
