/**
 * Content moderation on the Node/SCF host in Redis, the way it is deployed: two signer instances sharing one real
 * redis-server (the scenarios of moderation-scenarios.ts, which the SQLite store passes too, here across instances:
 * the stand-in pushes to one while the other submitted the check), and the desk's contract on two clients.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe } from "vitest";
import type { RedisClient } from "../../worker/src/ledger/redis.js";
import { redisDesk } from "../../worker/src/moderation/redis.js";
import { type RedisServer, startRedis } from "../support/redis-server.js";
import type { NodeStoreUnderTest } from "./ledger-scenarios";
import { deskContract, moderationScenarios } from "./moderation-scenarios";

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

describe("content moderation on Node with Redis, two instances", () => {
  moderationScenarios(store);

  describe("the moderation desk in Redis, from two clients", () => {
    beforeAll(async () => {
      client = createClient({ url: redis.url });
      client.on("error", () => undefined);
      await client.connect();
    });
    afterAll(async () => {
      await client?.close();
    });
    deskContract(() => [redisDesk(client, () => undefined), redisDesk(client, () => undefined)]);
  });
});
