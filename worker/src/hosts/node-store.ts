/**
 * Where the Node/SCF host keeps its books: Redis (REDIS_URL) — the ledger, the moderation desk and the rate limits,
 * shared by every instance; a SQLite file (LEDGER_SQLITE_PATH) — the ledger and the desk of a signer that runs alone,
 * its rate limits counted in process; or nothing — no ledger, in-process rate limits. Both set is a configuration
 * error: books split over two stores would each pass a quota the other already spent.
 */
import { createClient } from "redis";
import { type SignerConfig, type SignerEnv, signerConfig, type UploadProfile } from "../config/index.js";
import { ConfigError } from "../http/errors.js";
import { type Ledger, settleClaimed } from "../ledger/index.js";
import { type RedisClient, redisLedger, settleDue } from "../ledger/redis.js";
import { openSqliteDatabase, sqliteLedger } from "../ledger/sqlite.js";
import { type ModerationDesk, submitCheck, wechatAppOf } from "../moderation/index.js";
import { redisDesk } from "../moderation/redis.js";
import { sqliteDesk } from "../moderation/sqlite.js";
import { type InProcessLimiter, inProcessLimiters, type LIMITS_PER_MINUTE } from "./in-process-limiter.js";
import { redisLimiters } from "./redis-limiter.js";

export interface NodeStore {
  readonly ledger?: Ledger;
  readonly desk?: ModerationDesk;
  readonly limiters: () => Record<keyof typeof LIMITS_PER_MINUTE, InProcessLimiter>;
  /** Settles the reservations nobody settled that are due at `now` (a HEAD each); the number settled. */
  readonly sweep?: (env: SignerEnv, now: number) => Promise<number>;
  close(): Promise<void>;
}

/** The first Node.js releases with node:sqlite unflagged (nodejs.org/api/sqlite.html: v22.13.0, v23.4.0). */
export const SQLITE_NODE_VERSION = "22.13.0";

export function hasNodeSqlite(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
}

/** What the sweep does with an object it found uploaded in a moderated profile: submits its check, as a receipt would. */
function checkSettled(config: SignerConfig, ledger: Ledger, desk: ModerationDesk) {
  return async (profile: UploadProfile, user: string, key: string, contentType: string): Promise<void> => {
    const books = ledger.of(profile.name, user);
    await submitCheck({ config, desk }, books, profile, user, key, contentType, (await books.checkOf(key))?.sealedOpenid);
  };
}

export async function openStore(env: Record<string, string | undefined>): Promise<NodeStore> {
  const redisUrl = env.REDIS_URL?.trim() || undefined;
  const sqlitePath = env.LEDGER_SQLITE_PATH?.trim() || undefined;
  if (redisUrl && sqlitePath) throw new ConfigError("LEDGER_SQLITE_PATH", "must not be set with REDIS_URL: keep the ledger in one store — Redis for several instances, SQLite for one");
  if (redisUrl) return openRedis(redisUrl, env);
  if (sqlitePath) return openSqlite(sqlitePath, env);
  return { limiters: inProcessLimiters, close: async () => undefined };
}

async function openRedis(url: string, env: Record<string, string | undefined>): Promise<NodeStore> {
  let client: RedisClient;
  try {
    client = createClient({ url });
  } catch {
    // Not the client's message: it may quote the URL, and with it a password.
    throw new ConfigError("REDIS_URL", "must be a redis:// or rediss:// URL: redis://[:password@]host:port[/db]");
  }
  // Reconnects by itself; while Redis is away, calls fail (500) and the error is logged here, not thrown.
  client.on("error", (error: Error) => console.warn(JSON.stringify({ level: "warn", code: "redis_error", message: error.message })));
  await client.connect();
  const ledger = redisLedger(client);
  const desk = redisDesk(client, () => wechatAppOf(signerConfig(env)));
  return {
    ledger,
    desk,
    limiters: () => redisLimiters(client),
    sweep: async (bindings, now) => {
      const config = signerConfig(bindings);
      return settleDue(client, ledger, config.profiles, now, 50, checkSettled(config, ledger, desk));
    },
    close: async () => {
      await client.close();
    },
  };
}

async function openSqlite(path: string, env: Record<string, string | undefined>): Promise<NodeStore> {
  if (!hasNodeSqlite()) throw new ConfigError("LEDGER_SQLITE_PATH", `needs Node.js ${SQLITE_NODE_VERSION} or later (its built-in node:sqlite); this is Node.js ${process.version}: run a newer Node, or use REDIS_URL`);
  let db: Awaited<ReturnType<typeof openSqliteDatabase>>;
  try {
    db = await openSqliteDatabase(path);
  } catch (error) {
    throw new ConfigError("LEDGER_SQLITE_PATH", `cannot be opened as a SQLite database (${error instanceof Error ? error.message : String(error)})`);
  }
  let ledger: ReturnType<typeof sqliteLedger>;
  let desk: ModerationDesk;
  try {
    ledger = sqliteLedger(db);
    desk = sqliteDesk(db, () => wechatAppOf(signerConfig(env)));
  } catch (error) {
    // Another program's database (tables of the same names), or a file this process may only read.
    db.close();
    throw new ConfigError("LEDGER_SQLITE_PATH", `cannot be opened as the signer's books (${error instanceof Error ? error.message : String(error)})`);
  }
  return {
    ledger,
    desk,
    limiters: inProcessLimiters,
    sweep: async (bindings, now) => {
      const config = signerConfig(bindings);
      return settleClaimed(ledger, config.profiles, ledger.claimDue(now, 50), now, checkSettled(config, ledger, desk));
    },
    close: async () => db.close(),
  };
}
