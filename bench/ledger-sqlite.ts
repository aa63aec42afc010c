/**
 * `npx tsx bench/ledger-sqlite.ts`: the CPU and wall time of one reservation in the SQLite ledger (ledger/sqlite.ts)
 * as the Node host opens it (WAL, synchronous NORMAL), the file on disk in a temporary folder of this checkout
 * (not tmpfs): 10,000 reservations of new keys, for one user and spread over 1,000.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { openSqliteLedger } from "../worker/src/ledger/sqlite.js";

const RUNS = 10_000;
const dir = await mkdtemp(join(import.meta.dirname, ".ledger-sqlite-"));
try {
  const ledger = await openSqliteLedger(join(dir, "ledger.db"));
  for (const users of [1, 1000]) {
    const now = Date.now();
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const request = { key: `uploads/${users}/${i}.jpg`, bytes: 100, contentType: "image/jpeg", expiresAt: now + 600_000, now, limits: { quotaBytes: 1e12, dailyBytes: 1e12 } };
      await ledger.of("default", `user-${i % users}`).reserve(request);
    }
    const used = process.cpuUsage(cpu);
    const wall = performance.now() - started;
    console.log(`${users} user(s): ${((used.user + used.system) / RUNS).toFixed(1)} µs CPU, ${((wall * 1000) / RUNS).toFixed(1)} µs wall per reservation`);
  }
  ledger.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
