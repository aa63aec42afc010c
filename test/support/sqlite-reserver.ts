/**
 * A second process on a SQLite ledger file (`node --import tsx test/support/sqlite-reserver.ts <file> <prefix>
 * <count>`): reserves `count` keys of 10 bytes for one user against a quota of 1000 and prints how many were granted.
 */
import { openSqliteLedger } from "../../worker/src/ledger/sqlite.js";

const [path, prefix, count] = process.argv.slice(2) as [string, string, string];
const ledger = await openSqliteLedger(path);
let granted = 0;
for (let i = 0; i < Number(count); i++) {
  const now = Date.now();
  const answer = await ledger.of("default", "two-processes").reserve({ key: `${prefix}/${i}.jpg`, bytes: 10, contentType: "image/jpeg", expiresAt: now + 600_000, now, limits: { quotaBytes: 1000 } });
  if ("bytes" in answer) granted++;
}
ledger.close();
process.stdout.write(String(granted));
