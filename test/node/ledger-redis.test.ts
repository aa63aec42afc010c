/**
 * The ledger on the Node/SCF host in Redis, the way it is deployed: two signer instances sharing one real
 * redis-server (the scenarios of ledger-scenarios.ts, which the SQLite store passes too), the books surviving a Redis
 * restart, and the rate limits counted across instances.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClient, redisLedger } from "../../worker/src/ledger/redis.js";
import { startNodeServer } from "../../worker/src/hosts/node.js";
import { type RedisServer, startRedis } from "../support/redis-server.js";
import { ledgerContract, ledgerScenarios, nodeBed, type NodeStoreUnderTest } from "./ledger-scenarios";

let redis: RedisServer;
let client: RedisClient;

const store: NodeStoreUnderTest = {
  async env() {
    redis = await startRedis();
    return { REDIS_URL: redis.url };
  },
  instances: 2,
  restart: () => redis.restart(),
  dispose: async () => {
    await redis?.dispose();
  },
};
const bed = nodeBed(store);

beforeAll(async () => {
  client = createClient({ url: redis.url });
  client.on("error", () => undefined);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
});

describe("the ledger in Redis, shared by two instances", () => {
  ledgerScenarios(bed, store);

  it("counts the rate limits in Redis, across instances", async () => {
    const token = await bed.login("limited");
    // SIGN_LIMITER: 60 a minute per user, whichever instance is asked (the window may turn over once meanwhile).
    const answers = await Promise.all(Array.from({ length: 130 }, (_, i) => bed.post(i, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 1 }, token)));
    const signed = answers.filter((answer) => answer.status === 200).length;
    expect(signed).toBeGreaterThanOrEqual(60);
    expect(signed).toBeLessThanOrEqual(120);
    expect(answers.filter((answer) => answer.status === 429).length).toBe(130 - signed);
  });
});

describe("the Redis engine's contract", () => {
  ledgerContract(() => redisLedger(client));
});

describe("hosts without a store", () => {
  it("treat quotas as a configuration error and answer the ledger's routes with 501 ledger_off", async () => {
    const { REDIS_URL: _, ...noStore } = bed.env;
    const server = await startNodeServer({ env: noStore, port: 0, hostname: "127.0.0.1" });
    const withoutQuotas = await startNodeServer({ env: { ...noStore, UPLOAD_QUOTA_BYTES: "", UPLOAD_DAILY_BYTES: "", UPLOAD_PROFILES: "" }, port: 0, hostname: "127.0.0.1" });
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(500);
      expect(((await health.json()) as { error: { code: string; message: string } }).error.message).toMatch(/^UPLOAD_QUOTA_BYTES needs a ledger store/);
      const off = await fetch(`${withoutQuotas.url}/v1/usage`, { headers: { Authorization: `Bearer ${await bed.login("nostore")}` } });
      expect(off.status).toBe(501);
      expect(((await off.json()) as { error: { code: string } }).error.code).toBe("ledger_off");
    } finally {
      await Promise.all([server.close(), withoutQuotas.close()]);
    }
  });
});

describe("a REDIS_URL that is no Redis URL", () => {
  it("refuses the start with config_invalid, naming the variable and not echoing its value", async () => {
    const start = startNodeServer({ env: { ...bed.env, REDIS_URL: "user:hunter2@localhost:6379" }, port: 0, hostname: "127.0.0.1" });
    await expect(start).rejects.toMatchObject({ code: "config_invalid", message: expect.stringMatching(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/) });
    await expect(start).rejects.toMatchObject({ message: expect.not.stringContaining("hunter2") });
  });
});
