/**
 * Abuse limits with the Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml): signatures per user (or
 * per address when AUTH_MODE=none) and logins per address. A deployment without the bindings is not limited.
 */
import { RateLimitedError } from "./errors.js";

/** Must equal the `period` of both `[[ratelimits]]` in wrangler.toml: clients are told to wait this long. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/** The part of the Rate Limiting binding used here. */
interface Limiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export async function enforceLimit(limiter: Limiter | undefined, key: string): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) throw new RateLimitedError(RATE_LIMIT_PERIOD_SECONDS);
}
