/**
 * The moderation desk on the Node/SCF host, in Redis (shared by every instance): under `moderation:{<appid>}`, the
 * access token (`:token`, JSON, expiring with it) and a lock (`:token-lock`) that lets one instance at a time fetch
 * stable_token while the others wait for its result; each check in flight (`moderation:{<id>}:check`) and its claim
 * (`moderation:{<id>}:claimed`: one claim per check), both kept two days, and a word that arrived before its check
 * was tracked (`moderation:{<id>}:early`, an hour). Tracking and claiming are Lua scripts, so neither can slip between the
 * other's steps.
 */
import type { RedisClient } from "../ledger/redis.js";
import { type CachedToken, fetchStableToken, isFresh, type WechatApp } from "../wechat/api.js";
import type { CheckTarget, EarlyWord, ModerationDesk } from "./checks.js";

const CHECK_KEPT_SECONDS = 2 * 86_400;
const LOCK_MS = 10_000;
const WAIT_MS = 50;
const EARLY_KEPT_SECONDS = 3600;

/** KEYS check claimed early; ARGV target, kept seconds: the early word, if any (the check is then claimed). */
const TRACK = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local word = redis.call('GET', KEYS[3])
if not word then return false end
redis.call('DEL', KEYS[3])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return word end
return false
`;

/** KEYS check claimed early; ARGV word, kept seconds, early seconds: the target when claimed now. */
const CLAIM = `
local target = redis.call('GET', KEYS[1])
if not target then
  redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[3])
  return false
end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return target end
return false
`;

/** One hash tag per check: its three keys share a cluster slot, as a script's keys must. */
const keysOf = (checkId: string) => [`moderation:{${checkId}}:check`, `moderation:{${checkId}}:claimed`, `moderation:{${checkId}}:early`];

export function redisDesk(client: RedisClient, app: () => WechatApp | undefined): ModerationDesk {
  const base = () => `moderation:{${app()?.appId ?? "cos"}}`;
  const read = async (): Promise<CachedToken | undefined> => {
    const raw = await client.get(`${base()}:token`);
    return raw ? (JSON.parse(raw) as CachedToken) : undefined;
  };
  return {
    async token(stale) {
      const wechat = app();
      if (!wechat) throw new Error("an access token needs AUTH_MODE=wechat");
      for (let waited = 0; waited < LOCK_MS * 2; waited += WAIT_MS) {
        const cached = await read();
        const force = stale !== undefined && cached?.token === stale;
        if (!force && isFresh(cached, Date.now())) return cached.token;
        const lock = `${base()}:token-lock`;
        if ((await client.set(lock, "1", { NX: true, PX: LOCK_MS })) === "OK") {
          try {
            // Another instance may have replaced it between the read and the lock.
            const current = await read();
            const stillForce = stale !== undefined && current?.token === stale;
            if (!stillForce && isFresh(current, Date.now())) return current.token;
            const fresh = await fetchStableToken(wechat, stillForce, Date.now());
            await client.set(`${base()}:token`, JSON.stringify(fresh), { PXAT: fresh.expiresAt });
            return fresh.token;
          } finally {
            await client.del(lock);
          }
        }
        await new Promise((done) => setTimeout(done, WAIT_MS));
      }
      throw new Error("no access token: another instance holds the refresh lock");
    },
    async track(checkId, target) {
      const word = await client.eval(TRACK, { keys: keysOf(checkId), arguments: [JSON.stringify(target), String(CHECK_KEPT_SECONDS)] });
      return typeof word === "string" ? (word as EarlyWord) : undefined;
    },
    async claim(checkId, word) {
      const raw = await client.eval(CLAIM, { keys: keysOf(checkId), arguments: [word, String(CHECK_KEPT_SECONDS), String(EARLY_KEPT_SECONDS)] });
      return typeof raw === "string" ? (JSON.parse(raw) as CheckTarget) : undefined;
    },
    async unclaim(checkId) {
      await client.del(keysOf(checkId)[1]!);
    },
  };
}
