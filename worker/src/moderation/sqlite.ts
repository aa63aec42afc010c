/**
 * The moderation desk of a single Node instance, in the ledger's SQLite file (LEDGER_SQLITE_PATH): the appid's access
 * token (fetched by one caller at a time in this process, kept across restarts) and the checks in flight, each
 * claimed once, as the Durable Object desk keeps them (moderation/durable-object.ts) — one process, one desk.
 */
import type { DatabaseSync } from "node:sqlite";
import { transactionOf } from "../ledger/sqlite.js";
import { type CachedToken, fetchStableToken, isFresh, type WechatApp } from "../wechat/api.js";
import type { CheckTarget, EarlyWord, ModerationDesk } from "./checks.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS moderation_token (app TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS moderation_checks (id TEXT PRIMARY KEY, target TEXT NOT NULL, claimed INTEGER NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS moderation_early (id TEXT PRIMARY KEY, word TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
`;
/** A check's record is kept this long: WeChat's verdict comes within 30 minutes, its repeats soon after. */
const CHECK_KEPT_MS = 2 * 86_400_000;
/** A word for a check not tracked (yet) is kept this long: its submission is seconds behind, or it is not ours. */
const EARLY_KEPT_MS = 3_600_000;

export function sqliteDesk(db: DatabaseSync, app: () => WechatApp | undefined): ModerationDesk {
  db.exec(SCHEMA);
  const transaction = transactionOf(db);
  const statements = {
    token: db.prepare("SELECT token, expires_at FROM moderation_token WHERE app = ?"),
    saveToken: db.prepare("INSERT OR REPLACE INTO moderation_token VALUES (?, ?, ?)"),
    takeEarly: db.prepare("DELETE FROM moderation_early WHERE id = ? RETURNING word"),
    track: db.prepare("INSERT OR REPLACE INTO moderation_checks VALUES (?, ?, ?, ?)"),
    forgetChecks: db.prepare("DELETE FROM moderation_checks WHERE created_at < ?"),
    forgetEarly: db.prepare("DELETE FROM moderation_early WHERE created_at < ?"),
    claim: db.prepare("UPDATE moderation_checks SET claimed = 1 WHERE id = ? AND claimed = 0 RETURNING target"),
    known: db.prepare("SELECT 1 FROM moderation_checks WHERE id = ?"),
    keepEarly: db.prepare("INSERT OR REPLACE INTO moderation_early VALUES (?, ?, ?)"),
    unclaim: db.prepare("UPDATE moderation_checks SET claimed = 0 WHERE id = ?"),
  };
  let refreshing: Promise<CachedToken> | undefined;
  const cachedOf = (appId: string): CachedToken | undefined => {
    const row = statements.token.get(appId) as { token: string; expires_at: number } | undefined;
    return row && { token: row.token, expiresAt: row.expires_at };
  };
  return {
    async token(stale) {
      const wechat = app();
      if (!wechat) throw new Error("an access token needs AUTH_MODE=wechat");
      while (refreshing) await refreshing.catch(() => undefined);
      const cached = cachedOf(wechat.appId);
      const now = Date.now();
      // A refused token is replaced only if it is still the current one: concurrent refusals make one refresh.
      const force = stale !== undefined && cached?.token === stale;
      if (!force && isFresh(cached, now)) return cached.token;
      refreshing = fetchStableToken(wechat, force, now);
      try {
        const fresh = await refreshing;
        statements.saveToken.run(wechat.appId, fresh.token, fresh.expiresAt);
        return fresh.token;
      } finally {
        refreshing = undefined;
      }
    },
    async track(checkId, target) {
      return transaction(() => {
        const now = Date.now();
        const early = (statements.takeEarly.get(checkId) as { word: EarlyWord } | undefined)?.word;
        statements.track.run(checkId, JSON.stringify(target), early === undefined ? 0 : 1, now);
        statements.forgetChecks.run(now - CHECK_KEPT_MS);
        statements.forgetEarly.run(now - EARLY_KEPT_MS);
        return early;
      });
    },
    async claim(checkId, word) {
      return transaction(() => {
        const row = statements.claim.get(checkId) as { target: string } | undefined;
        if (row) return JSON.parse(row.target) as CheckTarget;
        if (!statements.known.get(checkId)) statements.keepEarly.run(checkId, word, Date.now());
        return undefined;
      });
    },
    async unclaim(checkId) {
      statements.unclaim.run(checkId);
    },
  };
}
