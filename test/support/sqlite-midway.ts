/**
 * A SQLite ledger whose third write of a reservation fails (`node --import tsx test/support/sqlite-midway.ts <file>`),
 * as a full disk would fail it: a trigger refuses the day's row. Prints, as JSON, that reservation's error, then the
 * next reservation's answer once the failure is gone, and the books' usage.
 */
import { openSqliteDatabase, sqliteLedger } from "../../worker/src/ledger/sqlite.js";

const [path] = process.argv.slice(2) as [string];
const db = await openSqliteDatabase(path);
const books = sqliteLedger(db).of("default", "midway");
const request = (key: string) => ({ key, bytes: 10, contentType: "image/jpeg", expiresAt: Date.now() + 600_000, now: Date.now(), limits: { quotaBytes: 1000 } });
db.exec("CREATE TEMP TRIGGER full_disk BEFORE INSERT ON days BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
const failed = await books.reserve(request("a.jpg")).then(
  () => "granted",
  (error: Error) => error.message,
);
db.exec("DROP TRIGGER full_disk");
const next = await books.reserve(request("b.jpg")).catch((error: Error) => error.message);
process.stdout.write(JSON.stringify({ failed, next, usage: await books.usage(Date.now()), a: (await books.get("a.jpg")) ?? null }));
db.close();
