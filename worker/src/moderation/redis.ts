/**
 * The moderation desk on the Node/SCF host, in Redis (shared by every instance): under `moderation:{<appid>}`, the
 * access token (`:token`, JSON, expiring with it) and a lock (`:token-lock`) that lets one instance at a time fetch
 * stable_token while the others wait for its result; each check in flight (`moderation:check:<id>`) and its claim
 * (`moderation:claimed:<id>`, SET NX: one claim per check), both kept two days.
 */
import type { RedisClient } from "../ledger/redis.js";
import { type CachedToken, fetchStableToken, isFresh, type WechatApp } from "../wechat/api.js";
import type { CheckTarget, ModerationDesk } from "./index.js";

const CHECK_KEPT_SECONDS = 2 * 86_400;
const LOCK_MS = 10_000;
const WAIT_MS = 50;

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
      await client.set(`moderation:check:${checkId}`, JSON.stringify(target), { EX: CHECK_KEPT_SECONDS });
    },
    async claim(checkId) {
      const raw = await client.get(`moderation:check:${checkId}`);
      if (!raw) return undefined;
      if ((await client.set(`moderation:claimed:${checkId}`, "1", { NX: true, EX: CHECK_KEPT_SECONDS })) !== "OK") return undefined;
      return JSON.parse(raw) as CheckTarget;
    },
    async unclaim(checkId) {
      await client.del(`moderation:claimed:${checkId}`);
    },
  };
}
