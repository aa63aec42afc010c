// hosts: workers
/**
 * A LEDGER object whose storage holds older books is migrated to version 3 when it starts. Version 1 (a `sort` column
 * and its index, a `days` table): the same usage, the same list order and pages (a cursor given by version 1
 * included), the same alarm for its next reservation due, and the checks it kept. Version 2 (ids were SQLite's rowids):
 * ids go on from a counter in `totals`.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { UserLedgerObject } from "../src/ledger/durable-object.js";
import { dayOf, SETTLE_DELAY_MS, sortKey } from "../src/ledger/index.js";

// Version 1's schema, verbatim.
const VERSION_1 = `
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

// Version 2's schema, verbatim, with its `schema` row.
const VERSION_2 = `
CREATE TABLE objects (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL, content_type TEXT NOT NULL,
  created_at INTEGER NOT NULL, state TEXT NOT NULL, day TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX objects_due ON objects (expires_at) WHERE state = 'reserved';
CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), used INTEGER NOT NULL, reserved INTEGER NOT NULL, files INTEGER NOT NULL,
  day TEXT NOT NULL DEFAULT '', day_bytes INTEGER NOT NULL DEFAULT 0);
INSERT INTO totals (id, used, reserved, files) VALUES (1, 0, 0, 0);
CREATE TABLE checks (key TEXT PRIMARY KEY, openid TEXT, check_id TEXT);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', '2');
`;

describe("the LEDGER object's books of an older schema", () => {
  it("are migrated when the object starts, and read the same", async () => {
    const now = Date.now();
    const [today, yesterday] = [dayOf(now), dayOf(now - 86_400_000)];
    const stub = env.LEDGER.get(env.LEDGER.idFromName("default/v1-books"));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE objects; DROP TABLE totals; DROP TABLE checks; DROP TABLE meta;");
      sql.exec(VERSION_1);
      // Inserted out of list order, as version 1 could (its order is `sort`); two created in the same millisecond.
      const rows = [
        { key: "uploads/d.jpg", bytes: 20, state: "reserved", created: now - 1_000, day: today, expires: now + 300_000 },
        { key: "uploads/a.jpg", bytes: 100, state: "stored", created: now - 90_000_000, day: yesterday, expires: 0 },
        { key: "uploads/e.jpg", bytes: 10, state: "stored", created: now - 3_000, day: today, expires: 0 },
        { key: "uploads/b.jpg", bytes: 50, state: "reserved", created: now - 5_000, day: today, expires: now + 600_000 },
        { key: "uploads/c.jpg", bytes: 30, state: "pending", created: now - 3_000, day: today, expires: 0 },
      ];
      for (const row of rows) {
        sql.exec("INSERT INTO objects VALUES (?, ?, 'image/jpeg', ?, ?, ?, ?, ?)", row.key, row.bytes, row.created, row.state, row.day, row.expires, sortKey(row.created, row.key));
      }
      sql.exec("UPDATE totals SET used = 140, reserved = 70, files = 3");
      sql.exec("INSERT INTO days VALUES (?, 100), (?, 110)", yesterday, today);
      sql.exec("INSERT INTO meta VALUES ('profile', 'default'), ('user', 'v1-books')");
      sql.exec("INSERT INTO checks VALUES ('uploads/c.jpg', 'sealed-openid', 'trace-1')");

      const books = new UserLedgerObject(state, env as never);
      expect(await books.usage(now)).toEqual({ usedBytes: 140, reservedBytes: 70, dailyUsedBytes: 110, files: 3 });
      const newestFirst = ["uploads/d.jpg", "uploads/e.jpg", "uploads/c.jpg", "uploads/b.jpg", "uploads/a.jpg"];
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const listed = await books.list(cursor, 2);
        seen.push(...listed.objects.map((object) => object.key));
        cursor = listed.cursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(newestFirst);
      // A client's next page asked with version 1's cursor (after uploads/e.jpg), and one whose row is gone since.
      expect((await books.list(sortKey(now - 3_000, "uploads/e.jpg"), 2)).objects.map((object) => object.key)).toEqual(["uploads/c.jpg", "uploads/b.jpg"]);
      expect((await books.list(sortKey(now - 4_000, "uploads/gone.jpg"), 9)).objects.map((object) => object.key)).toEqual(["uploads/b.jpg", "uploads/a.jpg"]);
      expect(await books.get("uploads/c.jpg")).toEqual({ key: "uploads/c.jpg", size: 30, contentType: "image/jpeg", createdAt: new Date(now - 3_000).toISOString(), state: "pending" });
      expect(await books.checkOf("uploads/c.jpg")).toEqual({ sealedOpenid: "sealed-openid", checkId: "trace-1" });

      // The alarm: nothing due yet, the next is uploads/d.jpg's.
      await books.alarm();
      expect(await state.storage.getAlarm()).toBe(now + 300_000 + SETTLE_DELAY_MS);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' ORDER BY name").toArray().map((row) => row.name)).toEqual(["checks", "meta", "objects", "totals"]);
      expect(sql.exec("SELECT value FROM meta WHERE name = 'schema'").one().value).toBe("3");

      // The migrated books go on: a reservation is newest, counts in the day, and a release gives its bytes back.
      const request = { key: "uploads/f.jpg", bytes: 5, contentType: "image/png", expiresAt: now + 60_000, now, limits: { dailyBytes: 116 } };
      expect(await books.reserve(request, "default", "v1-books")).toEqual({ bytes: 5 });
      expect(await books.reserve({ ...request, key: "uploads/g.jpg", bytes: 2 }, "default", "v1-books")).toEqual({ refused: "dailyBytes", left: 1, limit: 116 });
      expect((await books.list(undefined, 1)).objects.map((object) => object.key)).toEqual(["uploads/f.jpg"]);
      await books.commit("uploads/b.jpg", 45, "image/jpeg", now);
      expect(await books.usage(now)).toEqual({ usedBytes: 185, reservedBytes: 25, dailyUsedBytes: 110, files: 4 });
      await books.release("uploads/f.jpg");
      expect(await books.usage(now)).toEqual({ usedBytes: 185, reservedBytes: 20, dailyUsedBytes: 105, files: 4 });

      // Started again, the object finds version 3 and changes nothing.
      const again = new UserLedgerObject(state, env as never);
      expect(await again.usage(now)).toEqual({ usedBytes: 185, reservedBytes: 20, dailyUsedBytes: 105, files: 4 });
      expect((await again.list(undefined, 9)).objects.map((object) => object.key)).toEqual(newestFirst);
    });
  });

  it("of version 2 are migrated: ids go on from the highest, never taken again", async () => {
    const now = Date.now();
    const stub = env.LEDGER.get(env.LEDGER.idFromName("default/v2-books"));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE objects; DROP TABLE totals; DROP TABLE checks; DROP TABLE meta;");
      sql.exec(VERSION_2);
      // Ids with gaps, as deletes leave them: the counter starts at the highest, not at the count.
      for (const [id, key] of [[2, "uploads/a.jpg"], [5, "uploads/b.jpg"], [9, "uploads/c.jpg"]] as const) {
        sql.exec("INSERT INTO objects VALUES (?, ?, 10, 'image/jpeg', ?, 'stored', ?, 0)", id, key, now - 1_000 + id, dayOf(now));
      }
      sql.exec("UPDATE totals SET used = 30, files = 3, day = ?, day_bytes = 30", dayOf(now));
      const books = new UserLedgerObject(state, env as never);
      expect(sql.exec("SELECT value FROM meta WHERE name = 'schema'").one().value).toBe("3");
      expect(await books.usage(now)).toEqual({ usedBytes: 30, reservedBytes: 0, dailyUsedBytes: 30, files: 3 });
      const first = await books.list(undefined, 1);
      expect(first.objects.map((object) => object.key)).toEqual(["uploads/c.jpg"]);
      await books.remove("uploads/c.jpg");
      await books.reserve({ key: "uploads/d.jpg", bytes: 1, contentType: "image/jpeg", expiresAt: now + 60_000, now, limits: {} }, "default", "v2-books");
      await books.commit("uploads/e.jpg", 1, "image/jpeg", now);
      expect(sql.exec("SELECT id, key FROM objects ORDER BY id").toArray()).toEqual([
        { id: 2, key: "uploads/a.jpg" },
        { id: 5, key: "uploads/b.jpg" },
        { id: 10, key: "uploads/d.jpg" },
        { id: 11, key: "uploads/e.jpg" },
      ]);
      expect((await books.list(first.cursor, 9)).objects.map((object) => object.key)).toEqual(["uploads/b.jpg", "uploads/a.jpg"]);
    });
  });

  it("of a newer version are refused by name, and left as they are", async () => {
    const stub = env.LEDGER.get(env.LEDGER.idFromName("default/v4-books"));
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.sql.exec("UPDATE meta SET value = '4' WHERE name = 'schema'");
      expect(() => new UserLedgerObject(state, env as never)).toThrow("the books are at schema version 4, newer than this code's 3");
      expect(state.storage.sql.exec("SELECT value FROM meta WHERE name = 'schema'").one().value).toBe("4");
    });
  });

  it("are migrated when empty, and when older than moderation (no checks table)", async () => {
    const now = Date.now();
    for (const [name, schema] of [
      ["v1-empty", VERSION_1],
      ["v1-before-checks", VERSION_1.replace(/^CREATE TABLE IF NOT EXISTS checks.*$/m, "")],
    ] as const) {
      const stub = env.LEDGER.get(env.LEDGER.idFromName(`default/${name}`));
      await runInDurableObject(stub, async (_instance, state) => {
        const sql = state.storage.sql;
        sql.exec("DROP TABLE objects; DROP TABLE totals; DROP TABLE checks; DROP TABLE meta;");
        sql.exec(schema);
        const books = new UserLedgerObject(state, env as never);
        expect(await books.usage(now)).toEqual({ usedBytes: 0, reservedBytes: 0, dailyUsedBytes: 0, files: 0 });
        expect(await books.list(undefined, 9)).toEqual({ objects: [] });
        const request = { key: "uploads/a.jpg", bytes: 5, contentType: "image/png", expiresAt: now + 60_000, now, limits: { dailyBytes: 10 }, sealedOpenid: "sealed" };
        expect(await books.reserve(request, "default", name)).toEqual({ bytes: 5 });
        expect(await books.reserve({ ...request, key: "uploads/b.jpg", bytes: 6 }, "default", name)).toEqual({ refused: "dailyBytes", left: 5, limit: 10 });
        expect(await books.checkOf("uploads/a.jpg")).toEqual({ sealedOpenid: "sealed" });
      });
    }
  });

  it("leave version 1 whole when the migration fails midway", async () => {
    const stub = env.LEDGER.get(env.LEDGER.idFromName("default/v1-unmigratable"));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE objects; DROP TABLE totals; DROP TABLE checks; DROP TABLE meta;");
      sql.exec(VERSION_1);
      sql.exec("INSERT INTO objects VALUES ('uploads/a.jpg', 7, 'image/jpeg', 1, 'stored', '2026-12-01', 0, '0000000000001:uploads/a.jpg')");
      // A second statement of the migration fails (its index is not there).
      sql.exec("DROP INDEX objects_due");
      expect(() => new UserLedgerObject(state, env as never)).toThrow(/objects_due/);
      const tables = sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%' ORDER BY name").toArray().map((row) => row.name);
      expect(tables).toEqual(["checks", "days", "meta", "objects", "objects_newest", "totals"]);
      expect(sql.exec("SELECT sort FROM objects").one().sort).toBe("0000000000001:uploads/a.jpg");
      expect(sql.exec("SELECT COUNT(*) AS n FROM meta").one().n).toBe(0);
    });
  });

  it("counts only the books' day: yesterday's reservations settled today leave today's bytes alone", async () => {
    const now = Date.now();
    const stub = env.LEDGER.get(env.LEDGER.idFromName("default/day-turn"));
    await runInDurableObject(stub, async (instance) => {
      const yesterday = now - 86_400_000;
      const reserve = (key: string, at: number, bytes: number) =>
        instance.reserve({ key, bytes, contentType: "image/jpeg", expiresAt: at + 60_000, now: at, limits: { dailyBytes: 150 } }, "default", "day-turn");
      expect(await reserve("uploads/old-1.jpg", yesterday, 100)).toEqual({ bytes: 100 });
      expect(await reserve("uploads/old-2.jpg", yesterday, 50)).toEqual({ bytes: 50 });
      expect(await reserve("uploads/new.jpg", now, 100)).toEqual({ bytes: 100 });
      await instance.commit("uploads/old-1.jpg", 10, "image/jpeg", now);
      await instance.release("uploads/old-2.jpg");
      expect(await instance.usage(now)).toEqual({ dailyUsedBytes: 100, usedBytes: 10, reservedBytes: 100, files: 1 });
      // A caller whose clock is still on yesterday counts in today's bytes.
      expect(await reserve("uploads/late.jpg", yesterday, 100)).toEqual({ refused: "dailyBytes", left: 50, limit: 150 });
    });
  });
});
