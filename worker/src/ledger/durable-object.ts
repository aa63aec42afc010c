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
  sortKey,
  type Usage,
  type UserLedger,
} from "./books.js";

interface Row extends Record<string, SqlStorageValue> {
  key: string;
  bytes: number;
  content_type: string;
  created_at: number;
  state: LedgerState;
  day: string;
  expires_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, bytes INTEGER NOT NULL, content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL, state TEXT NOT NULL, day TEXT NOT NULL, expires_at INTEGER NOT NULL, sort TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS objects_newest ON objects (sort);
CREATE INDEX IF NOT EXISTS objects_due ON objects (state, expires_at);
CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), used INTEGER NOT NULL, reserved INTEGER NOT NULL, files INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES (1, 0, 0, 0);
CREATE TABLE IF NOT EXISTS days (day TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checks (key TEXT PRIMARY KEY, openid TEXT, check_id TEXT);
`;

/** Settled per alarm at most; the next alarm takes the rest. */
const SETTLE_BATCH = 50;

const toObject = (row: Row): LedgerObject => ({ key: row.key, size: row.bytes, contentType: row.content_type, createdAt: new Date(row.created_at).toISOString(), state: row.state });

export class UserLedgerObject extends DurableObject<SignerEnv> implements Omit<UserLedger, "reserve"> {
  private readonly sql: SqlStorage;
  /** What this instance already wrote or read, so that a reservation costs no storage call it does not need. */
  private alarmAt: number | null | undefined;
  private profileKnown = false;
  private prunedFor = "";

  constructor(ctx: DurableObjectState, env: SignerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  private row(key: string): Row | undefined {
    return this.sql.exec<Row>("SELECT * FROM objects WHERE key = ?", key).toArray()[0];
  }

  private addDay(day: string, bytes: number): void {
    this.sql.exec("INSERT INTO days VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET bytes = bytes + excluded.bytes", day, bytes);
  }

  /** `profile` and `user` name the object's books once, for the alarm's HEADs and moderation checks. */
  async reserve(request: ReserveRequest, profile: string, user = ""): Promise<ReserveResult> {
    const day = dayOf(request.now);
    // One statement for all a reservation reads: each exec is a crossing into SQLite with its own cost.
    const books = this.sql
      .exec<{ existing: number | null; state: LedgerState | null; used: number; reserved: number; today: number }>(
        "SELECT o.bytes AS existing, o.state, used, reserved, IFNULL((SELECT bytes FROM days WHERE day = ?), 0) AS today FROM totals LEFT JOIN objects o ON o.key = ?",
        day,
        request.key,
      )
      .one();
    if (books.state !== null) return books.state === "reserved" ? { bytes: books.existing! } : { settled: books.state };
    const result = grant(request, books);
    if (!("bytes" in result)) return result;
    this.sql.exec(
      "INSERT INTO objects VALUES (?, ?, ?, ?, 'reserved', ?, ?, ?)",
      request.key,
      result.bytes,
      request.contentType,
      request.now,
      day,
      request.expiresAt,
      sortKey(request.now, request.key),
    );
    this.sql.exec("UPDATE totals SET reserved = reserved + ?", result.bytes);
    this.addDay(day, result.bytes);
    if (request.sealedOpenid !== undefined) this.sql.exec("INSERT OR REPLACE INTO checks VALUES (?, ?, NULL)", request.key, request.sealedOpenid);
    if (this.prunedFor !== day) {
      // Days before yesterday no longer count against anything.
      this.sql.exec("DELETE FROM days WHERE day < ?", dayOf(request.now - 86_400_000));
      this.prunedFor = day;
    }
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
      this.sql.exec("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, 0, ?)", key, size, contentType, now, state, dayOf(now), sortKey(now, key));
      this.sql.exec("UPDATE totals SET used = used + ?, files = files + 1", size);
    } else if (row.state === "reserved") {
      this.sql.exec("UPDATE objects SET bytes = ?, content_type = ?, state = ? WHERE key = ?", size, contentType, state, key);
      this.sql.exec("UPDATE totals SET reserved = reserved - ?, used = used + ?, files = files + 1", row.bytes, size);
      this.sql.exec("UPDATE days SET bytes = bytes + ? WHERE day = ?", size - row.bytes, row.day);
    } else {
      this.sql.exec("UPDATE objects SET bytes = ?, content_type = ? WHERE key = ?", size, contentType, key);
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
    this.sql.exec("DELETE FROM objects WHERE key = ?", key);
    this.sql.exec("DELETE FROM checks WHERE key = ?", key);
    this.sql.exec("UPDATE totals SET reserved = reserved - ?", row.bytes);
    this.sql.exec("UPDATE days SET bytes = bytes - ? WHERE day = ?", row.bytes, row.day);
  }

  async get(key: string): Promise<LedgerObject | undefined> {
    const row = this.row(key);
    return row && toObject(row);
  }

  async list(cursor: string | undefined, limit: number): Promise<Page> {
    const rows = this.sql.exec<Row & { sort: string }>("SELECT * FROM objects WHERE sort < ? ORDER BY sort DESC LIMIT ?", cursor ?? "~", limit + 1).toArray();
    const page = rows.slice(0, limit);
    return { objects: page.map(toObject), ...(rows.length > limit ? { cursor: page.at(-1)!.sort } : {}) };
  }

  async remove(key: string): Promise<boolean> {
    const row = this.row(key);
    if (!row) return false;
    this.sql.exec("DELETE FROM objects WHERE key = ?", key);
    this.sql.exec("DELETE FROM checks WHERE key = ?", key);
    // Every settled state (stored, or under moderation) holds its bytes.
    if (row.state !== "reserved") this.sql.exec("UPDATE totals SET used = used - ?, files = files - 1", row.bytes);
    else this.sql.exec("UPDATE totals SET reserved = reserved - ?", row.bytes);
    return true;
  }

  async usage(now: number): Promise<Usage> {
    const totals = this.sql.exec<{ used: number; reserved: number; files: number }>("SELECT used, reserved, files FROM totals").one();
    const today = this.sql.exec<{ bytes: number }>("SELECT bytes FROM days WHERE day = ?", dayOf(now)).toArray()[0]?.bytes ?? 0;
    return { usedBytes: totals.used, reservedBytes: totals.reserved, dailyUsedBytes: today, files: totals.files };
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
