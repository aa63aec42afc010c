/**
 * Content moderation on a single Node instance with LEDGER_SQLITE_PATH: the scenarios the Redis store passes
 * (moderation-scenarios.ts), a restart being the signer's own, and the desk's contract on two connections to the file.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe } from "vitest";
import { openSqliteDatabase } from "../../worker/src/ledger/sqlite.js";
import { sqliteDesk } from "../../worker/src/moderation/sqlite.js";
import type { NodeStoreUnderTest } from "./ledger-scenarios";
import { deskContract, moderationScenarios } from "./moderation-scenarios";

let dir: string;

const store: NodeStoreUnderTest = {
  async env() {
    dir = await mkdtemp(join(tmpdir(), "moderation-sqlite-"));
    return { LEDGER_SQLITE_PATH: join(dir, "ledger.db") };
  },
  instances: 1,
  restart: (signers) => signers.restart(),
  dispose: async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
};

describe("content moderation on Node with a SQLite file, one instance", () => {
  moderationScenarios(store);

  describe("the moderation desk in SQLite, from two connections", () => {
    const connections: DatabaseSync[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) connections.push(await openSqliteDatabase(join(dir, "desk.db")));
    });
    afterAll(() => {
      for (const connection of connections) connection.close();
    });
    deskContract(() => [sqliteDesk(connections[0]!, () => undefined), sqliteDesk(connections[1]!, () => undefined)]);
  });
});
