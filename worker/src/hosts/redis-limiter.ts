/**
 * The rate limits of wrangler.toml in Redis, for Node/SCF hosts with REDIS_URL: a fixed window per key, counted by
 * every instance together (the in-process limiter counts per instance).
 */
import type { RedisClient } from "../ledger/redis.js";
import { type InProcessLimiter, LIMITS_PER_MINUTE } from "./in-process-limiter.js";

export function redisLimiter(client: RedisClient, name: string, limit: number, periodSeconds: number, now: () => number = Date.now): InProcessLimiter {
  return {
    async limit({ key }) {
      const window = Math.floor(now() / (periodSeconds * 1000));
      const counter = `ratelimit:${name}:${key}:${window}`;
      const [count] = await client.multi().incr(counter).expire(counter, periodSeconds * 2).exec();
      return { success: Number(count) <= limit };
    },
  };
}

export function redisLimiters(client: RedisClient): Record<keyof typeof LIMITS_PER_MINUTE, InProcessLimiter> {
  const entries = Object.entries(LIMITS_PER_MINUTE).map(([name, limit]) => [name, redisLimiter(client, name, limit, 60)]);
  return Object.fromEntries(entries) as Record<keyof typeof LIMITS_PER_MINUTE, InProcessLimiter>;
}
