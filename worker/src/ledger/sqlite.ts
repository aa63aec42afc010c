/**
 * The ledger on one Node instance: a SQLite file (LEDGER_SQLITE_PATH) through Node's built-in node:sqlite, for a
 * signer that runs alone (several instances share Redis, redis.ts). The same books as Redis, in rows: `objects` (one
 * per profile, user and key, with `sort` = `sortKey` for the list and `due_at` = the signature's expiry while
 * reserved, for the sweep), `totals` (used, reserved, files) and `days` (bytes signed per UTC day, kept two days);
 * the moderation desk's tables share the file (moderation/sqlite.ts).
 * Each method is one synchronous transaction — nothing else in the process runs meanwhile — begun IMMEDIATE, so a
 * second process opening the same file by mistake waits for the lock instead of interleaving. WAL with synchronous
 * NORMAL: a crash of the process loses nothing, a power cut at most the last commits (as Redis's appendfsync everysec);
 * FULL's fsync per commit would take a reservation from 0.035 to 0.09 ms of CPU (bench/ledger-sqlite.ts).
 */
import { closeSync, openSync } from "node:fs";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { checkSortCursor, dayOf, grant, type Ledger, type LedgerObject, type LedgerState, type Page, SETTLE_DELAY_MS, sortKey, type UserLedger } from "./books.js";

/** How long a sweep holds the reservations it claimed (as redis.ts): one that throws midway leaves them to a later one. */
const LEASE_MS = 120_000;
const DAYS_KEPT_MS = 2 * 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  profile TEXT NOT NULL, user TEXT NOT NULL, key TEXT NOT NULL,
  bytes INTEGER NOT NULL, content_type TEXT NOT NULL, created_at INTEGER NOT NULL, day TEXT NOT NULL, state TEXT NOT NULL,
  sort TEXT NOT NULL, due_at INTEGER, sealed_openid TEXT, check_id TEXT,
  PRIMARY KEY (profile, user, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_newest ON objects (profile, user, sort);
CREATE INDEX IF NOT EXISTS objects_due ON objects (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS totals (
  profile TEXT NOT NULL, user TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0, files INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (profile, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS days (
  profile TEXT NOT NULL, user TEXT NOT NULL, day TEXT NOT NULL, bytes INTEGER NOT NULL,
  PRIMARY KEY (profile, user, day)
) WITHOUT ROWID;
`;

interface Row {
  key: string;
  bytes: number;
  content_type: string;
  created_at: number;
  day: string;
  state: LedgerState;
  sort: string;
  sealed_openid: string | null;
  check_id: string | null;
}

/** A reservation the sweep claimed: whose books and which key. */
export interface DueReservation {
  readonly profile: string;
  readonly user: string;
  readonly key: string;
}

export interface SqliteLedger extends Ledger {
  /** Up to `batch` reservations whose signatures expired SETTLE_DELAY_MS before `now`, each held a lease ahead. */
  claimDue(now: number, batch: number): DueReservation[];
}

const toObject = (row: Row): LedgerObject => ({
  key: row.key,
  size: row.bytes,
  contentType: row.content_type,
  createdAt: new Date(row.created_at).toISOString(),
  state: row.state,
});

/**
 * Opens (and creates) the SQLite file the Node host keeps its books in (and its moderation desk, moderation/sqlite.ts).
 * node:sqlite is loaded here only: older Node versions lack it.
 */
export async function openSqliteDatabase(path: string): Promise<DatabaseSync> {
  const { DatabaseSync } = await importQuietly();
  // The file keeps the WeChat access token: made for this user alone (SQLite would make it 0644; its -wal and -shm
  // take its mode). An existing file keeps the mode it has.
  if (path !== ":memory:") closeSync(openSync(path, "a", 0o600));
  const db = new DatabaseSync(path);
  // The wait first: switching to WAL (and creating the tables) takes the lock another process may hold.
  db.exec("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  return db;
}

/** The books at `path`, on a connection of their own that `close` ends (tests, bench/ledger-sqlite.ts). */
export async function openSqliteLedger(path: string): Promise<SqliteLedger & { close(): void }> {
  const db = await openSqliteDatabase(path);
  return { ...sqliteLedger(db), close: () => db.close() };
}

/**
 * node:sqlite, without the ExperimentalWarning Node 22 prints on its first import ("SQLite is an experimental feature
 * and might change at any time"): the module is what the ledger was built and tested against; other warnings pass.
 */
async function importQuietly(): Promise<typeof import("node:sqlite")> {
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning" && String(warning).startsWith("SQLite")) return;
    return (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return await import("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
}

/** Runs `work` as one transaction, begun IMMEDIATE (the write lock first); rolled back when it throws. */
export function transactionOf(db: DatabaseSync): <T>(work: () => T) => T {
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  return (work) => {
    begin.run();
    try {
      const result = work();
      commit.run();
      return result;
    } catch (error) {
      // SQLite may have ended it itself (a full disk); before Node 22.16 no isTransaction says so, and ROLLBACK then fails.
      if (db.isTransaction !== false) {
        try {
          rollback.run();
        } catch {}
      }
      throw error;
    }
  };
}

export function sqliteLedger(db: DatabaseSync): SqliteLedger {
  db.exec(SCHEMA);
  const transaction = transactionOf(db);
  const prepare = (sql: string): StatementSync => db.prepare(sql);
  const statements = {
    row: prepare("SELECT * FROM objects WHERE profile = ? AND user = ? AND key = ?"),
    insert: prepare(
      "INSERT INTO objects (profile, user, key, bytes, content_type, created_at, day, state, sort, due_at, sealed_openid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    settle: prepare("UPDATE objects SET bytes = ?, content_type = ?, state = ?, due_at = NULL WHERE profile = ? AND user = ? AND key = ?"),
    moderate: prepare("UPDATE objects SET state = ?, check_id = coalesce(?, check_id) WHERE profile = ? AND user = ? AND key = ?"),
    drop: prepare("DELETE FROM objects WHERE profile = ? AND user = ? AND key = ?"),
    page: prepare("SELECT * FROM objects WHERE profile = ? AND user = ? AND sort < ? ORDER BY sort DESC LIMIT ?"),
    totals: prepare("SELECT used, reserved, files FROM totals WHERE profile = ? AND user = ?"),
    add: prepare(
      "INSERT INTO totals (profile, user, used, reserved, files) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET used = used + excluded.used, reserved = reserved + excluded.reserved, files = files + excluded.files",
    ),
    day: prepare("SELECT bytes FROM days WHERE profile = ? AND user = ? AND day = ?"),
    signDay: prepare("INSERT INTO days (profile, user, day, bytes) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET bytes = bytes + excluded.bytes"),
    // As Redis's day keys: a day that has expired is not brought back by a later commit or release.
    adjustDay: prepare("UPDATE days SET bytes = bytes + ? WHERE profile = ? AND user = ? AND day = ?"),
    forgetDays: prepare("DELETE FROM days WHERE profile = ? AND user = ? AND day < ?"),
    due: prepare("SELECT profile, user, key FROM objects WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?"),
    lease: prepare("UPDATE objects SET due_at = ? WHERE profile = ? AND user = ? AND key = ?"),
  };

  return {
    of(profile, user): UserLedger {
      const book = [profile, user] as const;
      const rowOf = (key: string) => statements.row.get(...book, key) as Row | undefined;
      const add = (used: number, reserved: number, files: number) => statements.add.run(...book, used, reserved, files);
      return {
        async reserve(request) {
          return transaction(() => {
            const held = rowOf(request.key);
            if (held) return held.state === "reserved" ? { bytes: held.bytes } : { settled: held.state };
            const today = dayOf(request.now);
            const totals = statements.totals.get(...book) as { used: number; reserved: number } | undefined;
            const day = statements.day.get(...book, today) as { bytes: number } | undefined;
            const granted = grant(request, { used: totals?.used ?? 0, reserved: totals?.reserved ?? 0, today: day?.bytes ?? 0 });
            if (!("bytes" in granted)) return granted;
            const { key, contentType, now, expiresAt, sealedOpenid } = request;
            statements.insert.run(...book, key, granted.bytes, contentType, now, today, "reserved", sortKey(now, key), expiresAt, sealedOpenid ?? null);
            add(0, granted.bytes, 0);
            statements.signDay.run(...book, today, granted.bytes);
            statements.forgetDays.run(...book, dayOf(request.now - DAYS_KEPT_MS));
            return granted;
          });
        },
        async commit(key, size, contentType, now, state = "stored") {
          return transaction(() => {
            const held = rowOf(key);
            if (!held) {
              statements.insert.run(...book, key, size, contentType, now, dayOf(now), state, sortKey(now, key), null, null);
              add(size, 0, 1);
              return undefined;
            }
            if (held.state === "reserved") {
              add(size, -held.bytes, 1);
              statements.adjustDay.run(size - held.bytes, ...book, held.day);
            } else {
              add(size - held.bytes, 0, 0);
            }
            statements.settle.run(size, contentType, held.state === "reserved" ? state : held.state, ...book, key);
            return held.state;
          });
        },
        async moderate(key, state, checkId) {
          return transaction(() => {
            const held = rowOf(key);
            if (!held || held.state === "reserved") return false;
            statements.moderate.run(state, checkId ?? null, ...book, key);
            return true;
          });
        },
        async checkOf(key) {
          const held = rowOf(key);
          return held && { sealedOpenid: held.sealed_openid ?? undefined, checkId: held.check_id ?? undefined };
        },
        async release(key) {
          transaction(() => {
            const held = rowOf(key);
            if (held?.state !== "reserved") return;
            statements.drop.run(...book, key);
            add(0, -held.bytes, 0);
            statements.adjustDay.run(-held.bytes, ...book, held.day);
          });
        },
        async get(key) {
          const held = rowOf(key);
          return held && toObject(held);
        },
        async list(cursor, limit): Promise<Page> {
          checkSortCursor(cursor);
          // "~" sorts after every sortKey (they start with digits): no cursor, the newest first.
          const rows = statements.page.all(...book, cursor ?? "~", limit + 1) as unknown as Row[];
          const page = rows.slice(0, limit);
          return { objects: page.map(toObject), ...(rows.length > limit ? { cursor: page.at(-1)!.sort } : {}) };
        },
        async remove(key) {
          return transaction(() => {
            const held = rowOf(key);
            if (!held) return false;
            statements.drop.run(...book, key);
            // A reservation's bytes stay signed for the day: its signature could still be used.
            if (held.state === "reserved") add(0, -held.bytes, 0);
            else add(-held.bytes, 0, -1);
            return true;
          });
        },
        async usage(now) {
          // Two reads: one transaction, so a reservation cannot land between them.
          return transaction(() => {
            const totals = statements.totals.get(...book) as { used: number; reserved: number; files: number } | undefined;
            const day = statements.day.get(...book, dayOf(now)) as { bytes: number } | undefined;
            return { usedBytes: totals?.used ?? 0, reservedBytes: totals?.reserved ?? 0, dailyUsedBytes: day?.bytes ?? 0, files: totals?.files ?? 0 };
          });
        },
      };
    },
    claimDue(now, batch) {
      return transaction(() => {
        const due = statements.due.all(now - SETTLE_DELAY_MS, batch) as unknown as DueReservation[];
        for (const { profile, user, key } of due) statements.lease.run(now + LEASE_MS, profile, user, key);
        return due.map(({ profile, user, key }) => ({ profile, user, key }));
      });
    },
  };
}
