/**
 * The ledger on Workers: one Durable Object per user and profile, its books in the object's SQLite storage. Each
 * method runs its reads and writes without an await between them, so the object's single thread makes a reservation
 * atomic (no two requests can both see the same bytes free). An alarm settles reservations nobody settled.
 */
import { DurableObject } from "cloudflare:workers";
import { type SignerEnv, signerConfig } from "../config/index.js";
import { moderateSettled } from "../moderation/settled.js";
import {
  dayOf,
  grant,
  type Ledger,
  type LedgerObject,
  type LedgerState,
  type Page,
  type ReserveRequest,
  type ReserveResult,
  SETTLE_DELAY_MS,
  settle,
  type SettledState,
  type Usage,
  type UserLedger,
} from "./books.js";

interface Row extends Record<string, SqlStorageValue> {
  id: number;
  key: string;
  bytes: number;
  content_type: string;
  created_at: number;
  state: LedgerState;
  day: string;
  expires_at: number;
}

/**
 * The books' schema, versioned by the `schema` row of `meta` (a Durable Object may not run PRAGMA user_version). A
 * reservation writes four B-trees (version 1: six): the list is in `id` order (insertion, which is creation in a
 * single-threaded object), so it needs no index of its own; only reservations are in `objects_due`; the day's bytes
 * sit in the one `totals` row (only the current UTC day counts against dailyBytes). The alarm keeps its index:
 * without it, its queries scan every row (≈ 0.6 ms at 10,000 in SQLite). Ids come from `totals.last_id`, never
 * reused (SQLite's own rowid takes the highest again once its row is deleted, which moved a new file behind a page
 * cursor; AUTOINCREMENT would write `sqlite_sequence` too, the `totals` row is written anyway).
 */
const SCHEMA_VERSION = "3";
const SCHEMA = `
CREATE TABLE objects (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL, state TEXT NOT NULL, day TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX objects_due ON objects (expires_at) WHERE state = 'reserved';
CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), used INTEGER NOT NULL, reserved INTEGER NOT NULL, files INTEGER NOT NULL,
  day TEXT NOT NULL DEFAULT '', day_bytes INTEGER NOT NULL DEFAULT 0, last_id INTEGER NOT NULL DEFAULT 0);
INSERT INTO totals (id, used, reserved, files) VALUES (1, 0, 0, 0);
CREATE TABLE checks (key TEXT PRIMARY KEY, openid TEXT, check_id TEXT);
`;
/** Version 1 (no `schema` row): a `sort` column with its index, `objects_due` on (state, expires_at), a `days` table. */
const FROM_VERSION_1 = `
DROP INDEX objects_newest;
DROP INDEX objects_due;
ALTER TABLE objects RENAME TO objects_v1;
CREATE TABLE objects (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL, state TEXT NOT NULL, day TEXT NOT NULL, expires_at INTEGER NOT NULL);
INSERT INTO objects (key, bytes, content_type, created_at, state, day, expires_at)
  SELECT key, bytes, content_type, created_at, state, day, expires_at FROM objects_v1 ORDER BY sort;
DROP TABLE objects_v1;
CREATE INDEX objects_due ON objects (expires_at) WHERE state = 'reserved';
ALTER TABLE totals ADD COLUMN day TEXT NOT NULL DEFAULT '';
ALTER TABLE totals ADD COLUMN day_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE totals SET (day, day_bytes) = (SELECT day, bytes FROM days ORDER BY day DESC LIMIT 1) WHERE EXISTS (SELECT 1 FROM days);
DROP TABLE days;
CREATE TABLE IF NOT EXISTS checks (key TEXT PRIMARY KEY, openid TEXT, check_id TEXT);
`;
/** Version 2: ids were SQLite's rowids; the counter starts at the highest one. */
const FROM_VERSION_2 = `
ALTER TABLE totals ADD COLUMN last_id INTEGER NOT NULL DEFAULT 0;
UPDATE totals SET last_id = IFNULL((SELECT MAX(id) FROM objects), 0);
`;

/** Builds or migrates the books to SCHEMA_VERSION, in one transaction: a failed migration leaves the old version whole. */
function openBooks(storage: DurableObjectStorage): void {
  storage.transactionSync(() => {
    const sql = storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const version = sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = 'schema'").toArray()[0]?.value;
    if (version === SCHEMA_VERSION) return;
    if (version === "2") sql.exec(FROM_VERSION_2);
    // Books a newer release migrated (this one was deployed over it): refused by name, not as a failed CREATE TABLE.
    else if (version !== undefined) throw new Error(`the books are at schema version ${version}, newer than this code's ${SCHEMA_VERSION}`);
    // Version 1 wrote no `schema` row; its `days` table tells it from empty storage.
    else if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'days'").toArray().length > 0) sql.exec(FROM_VERSION_1 + FROM_VERSION_2);
    else sql.exec(SCHEMA);
    sql.exec("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", SCHEMA_VERSION);
  });
}

/** A page cursor: the `id` of the page's last row; version 1 gave `sortKey`s, still taken from a client's old page. */
const ID_CURSOR = /^\d{1,16}$/;

/** Settled per alarm at most; the next alarm takes the rest. */
const SETTLE_BATCH = 50;

const toObject = (row: Row): LedgerObject => ({ key: row.key, size: row.bytes, contentType: row.content_type, createdAt: new Date(row.created_at).toISOString(), state: row.state });

export class UserLedgerObject extends DurableObject<SignerEnv> implements Omit<UserLedger, "reserve"> {
  private readonly sql: SqlStorage;
  /** What this instance already wrote or read, so that a reservation costs no storage call it does not need. */
  private alarmAt: number | null | undefined;
  private profileKnown = false;

  constructor(ctx: DurableObjectState, env: SignerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    openBooks(ctx.storage);
  }

  private row(key: string): Row | undefined {
    return this.sql.exec<Row>("SELECT * FROM objects WHERE key = ?", key).toArray()[0];
  }

  /** `profile` and `user` name the object's books once, for the alarm's HEADs and moderation checks. */
  async reserve(request: ReserveRequest, profile: string, user = ""): Promise<ReserveResult> {
    // One statement for all a reservation reads: each exec is a crossing into SQLite with its own cost.
    const books = this.sql
      .exec<{ existing: number | null; state: LedgerState | null; used: number; reserved: number; books_day: string; day_bytes: number; last_id: number }>(
        "SELECT o.bytes AS existing, o.state, used, reserved, t.day AS books_day, day_bytes, last_id FROM totals t LEFT JOIN objects o ON o.key = ?",
        request.key,
      )
      .one();
    if (books.state !== null) return books.state === "reserved" ? { bytes: books.existing! } : { settled: books.state };
    // A caller whose clock is still on the day before the books' counts in the books' day.
    const day = dayOf(request.now) > books.books_day ? dayOf(request.now) : books.books_day;
    const today = day === books.books_day ? books.day_bytes : 0;
    const result = grant(request, { used: books.used, reserved: books.reserved, today });
    if (!("bytes" in result)) return result;
    this.sql.exec(
      "INSERT INTO objects (id, key, bytes, content_type, created_at, state, day, expires_at) VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?)",
      books.last_id + 1,
      request.key,
      result.bytes,
      request.contentType,
      request.now,
      day,
      request.expiresAt,
    );
    this.sql.exec("UPDATE totals SET reserved = reserved + ?, day = ?, day_bytes = ?, last_id = ?", result.bytes, day, today + result.bytes, books.last_id + 1);
    if (request.sealedOpenid !== undefined) this.sql.exec("INSERT OR REPLACE INTO checks VALUES (?, ?, NULL)", request.key, request.sealedOpenid);
    if (!this.profileKnown) {
      this.sql.exec("INSERT OR IGNORE INTO meta VALUES ('profile', ?)", profile);
      this.sql.exec("INSERT OR IGNORE INTO meta VALUES ('user', ?)", user);
      this.profileKnown = true;
    }
    const due = request.expiresAt + SETTLE_DELAY_MS;
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > due) {
      this.alarmAt = due;
      await this.ctx.storage.setAlarm(due);
    }
    return result;
  }

  async commit(key: string, size: number, contentType: string, now: number, state: SettledState = "stored"): Promise<LedgerState | undefined> {
    const row = this.row(key);
    if (!row) {
      this.sql.exec(
        "INSERT INTO objects (id, key, bytes, content_type, created_at, state, day, expires_at) VALUES ((SELECT last_id + 1 FROM totals), ?, ?, ?, ?, ?, ?, 0)",
        key,
        size,
        contentType,
        now,
        state,
        dayOf(now),
      );
      this.sql.exec("UPDATE totals SET used = used + ?, files = files + 1, last_id = last_id + 1", size);
    } else if (row.state === "reserved") {
      this.sql.exec("UPDATE objects SET bytes = ?, content_type = ?, state = ? WHERE id = ?", size, contentType, state, row.id);
      // The day's bytes take the real size only while the reservation's day is the books' day.
      this.sql.exec(
        "UPDATE totals SET reserved = reserved - ?, used = used + ?, files = files + 1, day_bytes = day_bytes + CASE WHEN day = ? THEN ? ELSE 0 END",
        row.bytes,
        size,
        row.day,
        size - row.bytes,
      );
    } else {
      this.sql.exec("UPDATE objects SET bytes = ?, content_type = ? WHERE id = ?", size, contentType, row.id);
      this.sql.exec("UPDATE totals SET used = used + ?", size - row.bytes);
    }
    return row?.state;
  }

  async moderate(key: string, state: LedgerState, checkId?: string): Promise<boolean> {
    const row = this.row(key);
    if (!row || row.state === "reserved") return false;
    this.sql.exec("UPDATE objects SET state = ? WHERE key = ?", state, key);
    if (checkId !== undefined) this.sql.exec("INSERT INTO checks VALUES (?, NULL, ?) ON CONFLICT (key) DO UPDATE SET check_id = excluded.check_id", key, checkId);
    return true;
  }

  async checkOf(key: string): Promise<{ sealedOpenid?: string; checkId?: string } | undefined> {
    const row = this.sql.exec<{ openid: string | null; check_id: string | null }>("SELECT openid, check_id FROM checks WHERE key = ?", key).toArray()[0];
    return row && { ...(row.openid === null ? {} : { sealedOpenid: row.openid }), ...(row.check_id === null ? {} : { checkId: row.check_id }) };
  }

  async release(key: string): Promise<void> {
    const row = this.row(key);
    if (!row || row.state !== "reserved") return;
    this.sql.exec("DELETE FROM objects WHERE id = ?", row.id);
    this.sql.exec("DELETE FROM checks WHERE key = ?", key);
    this.sql.exec("UPDATE totals SET reserved = reserved - ?, day_bytes = day_bytes - CASE WHEN day = ? THEN ? ELSE 0 END", row.bytes, row.day, row.bytes);
  }

  async get(key: string): Promise<LedgerObject | undefined> {
    const row = this.row(key);
    return row && toObject(row);
  }

  async list(cursor: string | undefined, limit: number): Promise<Page> {
    const before = cursor === undefined ? Number.MAX_SAFE_INTEGER : ID_CURSOR.test(cursor) ? Number(cursor) : this.idAfterSortKey(cursor);
    const rows = this.sql.exec<Row>("SELECT * FROM objects WHERE id < ? ORDER BY id DESC LIMIT ?", before, limit + 1).toArray();
    const page = rows.slice(0, limit);
    return { objects: page.map(toObject), ...(rows.length > limit ? { cursor: String(page.at(-1)!.id) } : {}) };
  }

  /** Where a version 1 cursor (`sortKey` of its page's last row) stands in `id` order: migrated rows kept their order. */
  private idAfterSortKey(cursor: string): number {
    return this.sql
      .exec<{ id: number }>("SELECT IFNULL(MIN(id), ?) AS id FROM objects WHERE printf('%013d:%s', created_at, key) >= ?", Number.MAX_SAFE_INTEGER, cursor)
      .one().id;
  }

  async remove(key: string): Promise<boolean> {
    const row = this.row(key);
    if (!row) return false;
    this.sql.exec("DELETE FROM objects WHERE id = ?", row.id);
    this.sql.exec("DELETE FROM checks WHERE key = ?", key);
    // Every settled state (stored, or under moderation) holds its bytes.
    if (row.state !== "reserved") this.sql.exec("UPDATE totals SET used = used - ?, files = files - 1", row.bytes);
    else this.sql.exec("UPDATE totals SET reserved = reserved - ?", row.bytes);
    return true;
  }

  async usage(now: number): Promise<Usage> {
    const totals = this.sql
      .exec<{ used: number; reserved: number; files: number; today: number }>("SELECT used, reserved, files, CASE WHEN day = ? THEN day_bytes ELSE 0 END AS today FROM totals", dayOf(now))
      .one();
    return { usedBytes: totals.used, reservedBytes: totals.reserved, dailyUsedBytes: totals.today, files: totals.files };
  }

  /** Settles the reservations whose signatures expired SETTLE_DELAY_MS before `now`, from a HEAD each. */
  async settleDue(now: number): Promise<number> {
    const due = this.sql
      .exec<Row>("SELECT * FROM objects WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT ?", now - SETTLE_DELAY_MS, SETTLE_BATCH)
      .toArray();
    const meta = new Map(this.sql.exec<{ name: string; value: string }>("SELECT name, value FROM meta").toArray().map((row) => [row.name, row.value]));
    const name = meta.get("profile");
    const profile = name === undefined ? undefined : signerConfig(this.env).profiles.get(name);
    const user = meta.get("user") ?? "";
    const onPending = (key: string, contentType: string) => moderateSettled(this.env, this, profile!, user, key, contentType);
    if (profile) for (const row of due) await settle(this, profile, row.key, row.content_type, now, onPending);
    return profile ? due.length : 0;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      await this.settleDue(now);
    } finally {
      // When the next reservation is due; one already due failed (COS unreachable) and is tried again in a minute.
      const next = this.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM objects WHERE state = 'reserved'").one().at;
      this.alarmAt = next === null ? null : next + SETTLE_DELAY_MS > now ? next + SETTLE_DELAY_MS : now + SETTLE_DELAY_MS;
      if (this.alarmAt !== null) await this.ctx.storage.setAlarm(this.alarmAt);
    }
  }
}

/** The ledger over the LEDGER namespace: one object per profile and user. */
export function durableLedger(namespace: DurableObjectNamespace<UserLedgerObject>): Ledger {
  return {
    of(profile, user) {
      const stub = namespace.get(namespace.idFromName(`${profile}/${user}`));
      return {
        reserve: (request) => stub.reserve(request, profile, user),
        commit: (key, size, contentType, now, state) => stub.commit(key, size, contentType, now, state),
        moderate: (key, state, checkId) => stub.moderate(key, state, checkId),
        checkOf: (key) => stub.checkOf(key),
        release: (key) => stub.release(key),
        get: (key) => stub.get(key),
        list: (cursor, limit) => stub.list(cursor, limit),
        remove: (key) => stub.remove(key),
        usage: (now) => stub.usage(now),
      };
    },
  };
}
