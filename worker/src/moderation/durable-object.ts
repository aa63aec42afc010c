/**
 * The moderation desk on Workers: one Durable Object per appid. It keeps the appid's one access token (fetched from
 * stable_token by one caller at a time, renewed before it expires, replaced once when WeChat refuses it) and the
 * checks in flight, each claimed once so that a repeated push changes nothing.
 */
import { DurableObject } from "cloudflare:workers";
import { type SignerConfig, type SignerEnv, signerConfig } from "../config/index.js";
import { type CachedToken, fetchStableToken, isFresh } from "../wechat/api.js";
import { type CheckTarget, type EarlyWord, type ModerationDesk, wechatAppOf } from "./checks.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS token (id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checks (id TEXT PRIMARY KEY, target TEXT NOT NULL, claimed INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS early (id TEXT PRIMARY KEY, word TEXT NOT NULL, created_at INTEGER NOT NULL);
`;
/** A check's record is kept this long: WeChat's verdict comes within 30 minutes, its repeats soon after. */
const CHECK_KEPT_MS = 2 * 86_400_000;
/** A word for a check not tracked (yet) is kept this long: its submission is seconds behind, or it is not ours. */
const EARLY_KEPT_MS = 3_600_000;

export class ModerationDeskObject extends DurableObject<SignerEnv> implements ModerationDesk {
  private readonly sql: SqlStorage;
  private cached: CachedToken | undefined;
  private refreshing: Promise<CachedToken> | undefined;

  constructor(ctx: DurableObjectState, env: SignerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    const row = this.sql.exec<{ token: string; expires_at: number }>("SELECT token, expires_at FROM token").toArray()[0];
    this.cached = row && { token: row.token, expiresAt: row.expires_at };
  }

  async token(stale?: string): Promise<string> {
    while (this.refreshing) await this.refreshing.catch(() => undefined);
    const now = Date.now();
    // A refused token is replaced only if it is still the current one: concurrent refusals make one refresh.
    const force = stale !== undefined && this.cached?.token === stale;
    if (!force && isFresh(this.cached, now)) return this.cached.token;
    const app = wechatAppOf(signerConfig(this.env));
    if (!app) throw new Error("an access token needs AUTH_MODE=wechat");
    this.refreshing = fetchStableToken(app, force, now);
    try {
      this.cached = await this.refreshing;
      this.sql.exec("INSERT OR REPLACE INTO token VALUES (1, ?, ?)", this.cached.token, this.cached.expiresAt);
      return this.cached.token;
    } finally {
      this.refreshing = undefined;
    }
  }

  async track(checkId: string, target: CheckTarget): Promise<EarlyWord | undefined> {
    const now = Date.now();
    const early = this.sql.exec<{ word: EarlyWord }>("DELETE FROM early WHERE id = ? RETURNING word", checkId).toArray()[0]?.word;
    this.sql.exec("INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?)", checkId, JSON.stringify(target), early === undefined ? 0 : 1, now);
    this.sql.exec("DELETE FROM checks WHERE created_at < ?", now - CHECK_KEPT_MS);
    this.sql.exec("DELETE FROM early WHERE created_at < ?", now - EARLY_KEPT_MS);
    return early;
  }

  async claim(checkId: string, word: EarlyWord): Promise<CheckTarget | undefined> {
    const row = this.sql.exec<{ target: string }>("UPDATE checks SET claimed = 1 WHERE id = ? AND claimed = 0 RETURNING target", checkId).toArray()[0];
    if (row) return JSON.parse(row.target) as CheckTarget;
    const known = this.sql.exec("SELECT 1 FROM checks WHERE id = ?", checkId).toArray().length > 0;
    if (!known) this.sql.exec("INSERT OR REPLACE INTO early VALUES (?, ?, ?)", checkId, word, Date.now());
    return undefined;
  }

  async unclaim(checkId: string): Promise<void> {
    this.sql.exec("UPDATE checks SET claimed = 0 WHERE id = ?", checkId);
  }
}

/**
 * The desk of this configuration's appid (or of COS moderation alone, without WeChat sessions). Its stub is made on
 * first use: a request that moderates nothing costs no id derivation (and reads no configuration).
 */
export function durableDesk(namespace: DurableObjectNamespace<ModerationDeskObject>, config: () => SignerConfig): ModerationDesk {
  let stub: DurableObjectStub<ModerationDeskObject> | undefined;
  const desk = () => (stub ??= namespace.get(namespace.idFromName(wechatAppOf(config())?.appId ?? "cos")));
  return {
    token: (stale) => desk().token(stale),
    track: (checkId, target) => desk().track(checkId, target),
    claim: (checkId, word) => desk().claim(checkId, word),
    unclaim: (checkId) => desk().unclaim(checkId),
  };
}
