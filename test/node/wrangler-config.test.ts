/** wrangler.toml and the code agree where the binding's settings cannot be read at run time. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { describe, expect, it } from "vitest";
import { LIMITS_PER_MINUTE } from "../../worker/src/hosts/in-process-limiter.js";
import { RATE_LIMIT_PERIOD_SECONDS } from "../../worker/src/http/limits.js";

describe("wrangler.toml", () => {
  it("declares the rate limiters with the period the Worker announces in Retry-After", async () => {
    const config = unstable_readConfig({ config: join(import.meta.dirname, "../../wrangler.toml") });
    const limiters: Record<string, { period: number }> = Object.fromEntries(
      (config.ratelimits as { name: string; simple: { period: number } }[]).map((limiter) => [limiter.name, limiter.simple]),
    );
    expect(Object.keys(limiters).sort()).toEqual(["COS_AUTH_LIMITER", "MULTIPART_LIMITER", "SESSION_LIMITER", "SIGN_LIMITER"]);
    for (const simple of Object.values(limiters)) expect(simple.period).toBe(RATE_LIMIT_PERIOD_SECONDS);
  });

  it("and the other hosts' in-process limiters count the same", () => {
    const config = unstable_readConfig({ config: join(import.meta.dirname, "../../wrangler.toml") });
    const limits = Object.fromEntries((config.ratelimits as { name: string; simple: { limit: number } }[]).map((limiter) => [limiter.name, limiter.simple.limit]));
    expect(limits).toEqual(LIMITS_PER_MINUTE);
  });

  it("makes WeChat sessions the default", async () => {
    expect(await readFile(join(import.meta.dirname, "../../wrangler.toml"), "utf8")).toMatch(/^AUTH_MODE = "wechat"$/m);
  });
});
