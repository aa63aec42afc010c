/**
 * Where the Node/SCF host keeps its books: Redis (REDIS_URL) — the ledger, the moderation desk and the rate limits,
 * shared by every instance; a SQLite file (LEDGER_SQLITE_PATH) — the ledger of a signer that runs alone, its rate
 * limits counted in process and no moderation; or nothing — no ledger, in-process rate limits. Both set is a
 * configuration error: books split over two stores would each pass a quota the other already spent.
 */
import { createClient } from "redis";
import { type SignerEnv, signerConfig, type UploadProfile } from "../config/index.js";
import { ConfigError } from "../http/errors.js";
import { type Ledger, settleClaimed } from "../ledger/index.js";
import { type RedisClient, redisLedger, settleDue } from "../ledger/redis.js";
import { openSqliteLedger } from "../ledger/sqlite.js";
import { type ModerationDesk, submitCheck, wechatAppOf } from "../moderation/index.js";
import { redisDesk } from "../moderation/redis.js";
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

/**
 * Settles the reservations due at `now` (ledger/redis.ts), and gives an object found uploaded in a moderated profile
 * its check, as a receipt would.
 */
export async function sweepOnce(client: RedisClient, ledger: Ledger, env: SignerEnv, now: number): Promise<number> {
  const config = signerConfig(env);
  const desk = redisDesk(client, () => wechatAppOf(config));
  return settleDue(client, ledger, config.profiles, now, 50, async (profile, user, key, contentType) => {
    const books = ledger.of(profile.name, user);
    await submitCheck({ config, desk }, books, profile, user, key, contentType, (await books.checkOf(key))?.sealedOpenid);
  });
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
  const client: RedisClient = createClient({ url });
  // Reconnects by itself; while Redis is away, calls fail (500) and the error is logged here, not thrown.
  client.on("error", (error: Error) => console.warn(JSON.stringify({ level: "warn", code: "redis_error", message: error.message })));
  await client.connect();
  const ledger = redisLedger(client);
  return {
    ledger,
    desk: redisDesk(client, () => wechatAppOf(signerConfig(env))),
    limiters: () => redisLimiters(client),
    sweep: (bindings, now) => sweepOnce(client, ledger, bindings, now),
    close: async () => {
      await client.close();
    },
  };
}

async function openSqlite(path: string, env: Record<string, string | undefined>): Promise<NodeStore> {
  if (!hasNodeSqlite()) throw new ConfigError("LEDGER_SQLITE_PATH", `needs Node.js ${SQLITE_NODE_VERSION} or later (its built-in node:sqlite); this is Node.js ${process.version}: run a newer Node, or use REDIS_URL`);
  const moderated = moderatedProfile(env);
  if (moderated) {
    const variable = moderated.name === "default" ? "UPLOAD_MODERATION" : `UPLOAD_PROFILES.${moderated.name}.moderation`;
    throw new ConfigError(variable, "needs REDIS_URL on the Node/SCF host: the moderation desk (access token, checks in flight) lives in Redis, and LEDGER_SQLITE_PATH keeps the ledger only");
  }
  let ledger: Awaited<ReturnType<typeof openSqliteLedger>>;
  try {
    ledger = await openSqliteLedger(path);
  } catch (error) {
    throw new ConfigError("LEDGER_SQLITE_PATH", `cannot be opened as a SQLite database (${error instanceof Error ? error.message : String(error)})`);
  }
  return {
    ledger,
    limiters: inProcessLimiters,
    sweep: async (bindings, now) => settleClaimed(ledger, signerConfig(bindings).profiles, ledger.claimDue(now, 50), now),
    close: async () => ledger.close(),
  };
}

/** A profile that moderates uploads; none when the configuration is invalid anyway (the app answers config_invalid). */
function moderatedProfile(env: Record<string, string | undefined>): UploadProfile | undefined {
  try {
    return [...signerConfig(env).profiles.values()].find((profile) => profile.moderation !== "off");
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}
