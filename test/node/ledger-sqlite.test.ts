/**
 * The ledger on a single Node instance in a SQLite file (LEDGER_SQLITE_PATH, node:sqlite): the scenarios the Redis
 * store passes (ledger-scenarios.ts), a restart being the signer's own — closed, and a new one opened on the same file
 * — the engine's contract, and the configurations it refuses at start.
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNodeServer } from "../../worker/src/hosts/node.js";
import { hasNodeSqlite } from "../../worker/src/hosts/node-store.js";
import { openSqliteLedger } from "../../worker/src/ledger/sqlite.js";
import { ledgerContract, ledgerScenarios, nodeBed, type NodeStoreUnderTest } from "./ledger-scenarios";

let dir: string;
let contract: Awaited<ReturnType<typeof openSqliteLedger>>;

const store: NodeStoreUnderTest = {
  async env() {
    dir = await mkdtemp(join(tmpdir(), "ledger-sqlite-"));
    return { LEDGER_SQLITE_PATH: join(dir, "ledger.db") };
  },
  instances: 1,
  restart: (signers) => signers.restart(),
  dispose: async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
};
const bed = nodeBed(store);

beforeAll(async () => {
  contract = await openSqliteLedger(join(dir, "contract.db"));
});

afterAll(() => contract?.close());

describe("the ledger in a SQLite file, one instance", () => {
  ledgerScenarios(bed, store);

  it("counts the rate limits in process: 60 new uploads a minute per user", async () => {
    const token = await bed.login("limited");
    const answers = await Promise.all(Array.from({ length: 70 }, () => bed.post(0, "/v1/uploads", { profile: "roomy", ext: "jpg", size: 1 }, token)));
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThanOrEqual(10);
  });
});

describe("the SQLite engine's contract", () => {
  ledgerContract(() => contract);

  it("keeps a claimed reservation from a second sweep until its lease ends", async () => {
    const books = contract.of("default", "claimed");
    const now = Date.now();
    await books.reserve({ key: "k.jpg", bytes: 5, contentType: "image/jpeg", expiresAt: now, now, limits: {} });
    expect(contract.claimDue(now + 59_000, 10)).toEqual([]);
    expect(contract.claimDue(now + 60_000, 10)).toEqual([{ profile: "default", user: "claimed", key: "k.jpg" }]);
    expect(contract.claimDue(now + 60_000, 10)).toEqual([]);
    // Claimed at now + 60 s, held to now + 180 s: the sweep that looks then (its cutoff a minute before) takes it again.
    expect(contract.claimDue(now + 239_999, 10)).toEqual([]);
    expect(contract.claimDue(now + 240_000, 10)).toEqual([{ profile: "default", user: "claimed", key: "k.jpg" }]);
    await books.release("k.jpg");
    expect(contract.claimDue(now + 600_000, 10)).toEqual([]);
  });
});

describe("a second process on the same file (by mistake: the store is for one instance)", () => {
  it("waits for the lock instead of interleaving: two processes together never pass the quota", async () => {
    const path = join(dir, "two-processes.db");
    const reserver = join(import.meta.dirname, "../support/sqlite-reserver.ts");
    const run = (prefix: string) => promisify(execFile)(process.execPath, ["--import", "tsx", reserver, path, prefix, "200"]);
    const answers = await Promise.all([run("one"), run("two")]);
    // 400 reservations of 10 bytes for a quota of 1000: exactly 100 granted, however the two were scheduled.
    expect(answers.reduce((sum, { stdout }) => sum + Number(stdout), 0)).toBe(100);
    const ledger = await openSqliteLedger(path);
    expect(await ledger.of("default", "two-processes").usage(Date.now())).toMatchObject({ reservedBytes: 1000 });
    ledger.close();
  }, 30_000);
});

describe("a transaction that fails midway (a full disk)", () => {
  // node:sqlite's isTransaction came in Node 22.16; the store runs from 22.13 (hasNodeSqlite), so both are tried.
  for (const node of ["22.13.1", "this Node"]) {
    it(`is rolled back whole, and the next one runs: ${node}`, async () => {
      const script = join(import.meta.dirname, "../support/sqlite-midway.ts");
      const path = join(dir, `midway-${node.replace(/\W/g, "")}.db`);
      const [command, args] =
        node === "this Node" ? [process.execPath, ["--import", "tsx", script, path]] : ["npm", ["exec", "--yes", `--package=node@${node}`, "--", "node", "--import", "tsx", script, path]];
      const { stdout } = await promisify(execFile)(command, args as string[], { cwd: join(import.meta.dirname, "../..") });
      expect(JSON.parse(stdout)).toEqual({ failed: "database or disk is full", next: { bytes: 10 }, usage: { usedBytes: 0, reservedBytes: 10, dailyUsedBytes: 10, files: 0 }, a: null });
    }, 120_000);
  }
});

describe("the file's mode", () => {
  it("lets only this user read the books and the WeChat access token they keep, WAL included", async () => {
    const path = join(dir, "private.db");
    const ledger = await openSqliteLedger(path);
    const now = Date.now();
    expect(await ledger.of("default", "mode").reserve({ key: "a.jpg", bytes: 1, contentType: "image/jpeg", expiresAt: now, now, limits: {} })).toEqual({ bytes: 1 });
    expect(existsSync(`${path}-wal`)).toBe(true);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect([file, statSync(file).mode & 0o077]).toEqual([file, 0]);
    ledger.close();
  });
});

describe("configurations the SQLite store refuses at start", () => {
  const start = (env: Record<string, string>) => startNodeServer({ env: { ...bed.env, ...env }, port: 0, hostname: "127.0.0.1" });

  it("REDIS_URL as well: one store for the books", async () => {
    await expect(start({ REDIS_URL: "redis://127.0.0.1:1" })).rejects.toMatchObject({ code: "config_invalid", message: expect.stringMatching(/^LEDGER_SQLITE_PATH must not be set with REDIS_URL/) });
  });

  it("a file that cannot be opened", async () => {
    await expect(start({ LEDGER_SQLITE_PATH: join(dir, "no-such-folder", "ledger.db") })).rejects.toMatchObject({ code: "config_invalid", message: expect.stringMatching(/^LEDGER_SQLITE_PATH cannot be opened as a SQLite database/) });
  });

  it("another program's SQLite file (an `objects` table of its own)", async () => {
    const path = join(dir, "someone-elses.db");
    const { DatabaseSync } = await import("node:sqlite");
    const other = new DatabaseSync(path);
    other.exec("CREATE TABLE objects (id INTEGER PRIMARY KEY, name TEXT)");
    other.close();
    await expect(start({ LEDGER_SQLITE_PATH: path })).rejects.toMatchObject({ code: "config_invalid", message: expect.stringMatching(/^LEDGER_SQLITE_PATH cannot be opened as the signer's books/) });
  });

  it("knows which Node versions have node:sqlite unflagged", () => {
    expect(["18.20.4", "20.19.0", "22.12.0", "23.3.0"].map((version) => hasNodeSqlite(version))).toEqual([false, false, false, false]);
    expect(["22.13.0", "22.21.1", "23.4.0", "24.11.0", "25.0.0"].map((version) => hasNodeSqlite(version))).toEqual([true, true, true, true, true]);
  });
});
