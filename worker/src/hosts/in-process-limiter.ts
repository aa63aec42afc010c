/**
 * Rate limits where there is no Workers Rate Limiting binding (Node, Tencent SCF, EdgeOne): a fixed window per key,
 * in this process only. Each instance counts on its own, so N instances allow up to N times the limit — state that
 * next to the deployment (README, "Where to run it").
 */
const MAX_KEYS = 100_000;

export interface InProcessLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** `limit` requests per `periodSeconds` per key, like `[[ratelimits]] simple = { limit, period }`. */
export function inProcessLimiter(limit: number, periodSeconds: number, now: () => number = Date.now): InProcessLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async limit({ key }) {
      const time = now();
      let window = windows.get(key);
      if (!window || time - window.start >= periodSeconds * 1000) {
        // Forget the oldest keys first when many callers come and go.
        if (!window && windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value!);
        window = { start: time, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return { success: window.count <= limit };
    },
  };
}

/** Requests a minute of each limiter wrangler.toml declares (test/node/wrangler-config.test.ts keeps them equal). */
export const LIMITS_PER_MINUTE = { SIGN_LIMITER: 60, SESSION_LIMITER: 20, MULTIPART_LIMITER: 120, COS_AUTH_LIMITER: 2400 } as const;

/** The limiters wrangler.toml declares, in process: the same names, limits and period. */
export function inProcessLimiters(): Record<keyof typeof LIMITS_PER_MINUTE, InProcessLimiter> {
  return {
    SIGN_LIMITER: inProcessLimiter(LIMITS_PER_MINUTE.SIGN_LIMITER, 60),
    SESSION_LIMITER: inProcessLimiter(LIMITS_PER_MINUTE.SESSION_LIMITER, 60),
    MULTIPART_LIMITER: inProcessLimiter(LIMITS_PER_MINUTE.MULTIPART_LIMITER, 60),
    COS_AUTH_LIMITER: inProcessLimiter(LIMITS_PER_MINUTE.COS_AUTH_LIMITER, 60),
  };
}
