// hosts: workers
/**
 * The ledger inside workerd with the LEDGER Durable Object of wrangler.toml (SQLite storage): concurrent signing never
 * passes a quota, two users' books never cross, and a reservation schedules the object's alarm for its settling.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { durableLedger } from "../../src/ledger/durable-object.js";
import { SETTLE_DELAY_MS } from "../../src/ledger/index.js";
import { wechatEnv } from "../helpers.js";

const app = createApp({ ledger: () => durableLedger(env.LEDGER) });
const vars = { ...wechatEnv, UPLOAD_QUOTA_BYTES: "1000", UPLOAD_DAILY_BYTES: "5000" };

async function call(path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const init: RequestInit =
    body === undefined
      ? { headers: { Authorization: `Bearer ${token}` } }
      : { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await app.request(`https://signer.example${path}`, init, vars);
  return { status: response.status, body: await response.json() };
}

async function login(name: string): Promise<string> {
  const { status, body } = await call("/v1/session", "", { code: `code-${name}` });
  expect(status).toBe(200);
  return body.token as string;
}

describe("the ledger in its Durable Object", () => {
  it("grants a reserved key again (an SDK's retry) and refuses a settled one, in the reservation's one call", async () => {
    const books = durableLedger(env.LEDGER).of("default", "do-settled");
    const request = { key: "uploads/do-settled/a.jpg", bytes: 300, contentType: "image/jpeg", expiresAt: Date.now() + 60_000, now: Date.now(), limits: { quotaBytes: 1000 } };
    expect(await books.reserve(request)).toEqual({ bytes: 300 });
    expect(await books.reserve({ ...request, bytes: 900 })).toEqual({ bytes: 300 });
    await books.commit(request.key, 200, "image/jpeg", Date.now());
    expect(await books.reserve(request)).toEqual({ settled: "stored" });
    expect(await books.usage(Date.now())).toEqual({ usedBytes: 200, reservedBytes: 0, dailyUsedBytes: 200, files: 1 });
  });

  it("signs exactly 10 of 50 parallel uploads of 100 bytes for a quota of 1000", async () => {
    const token = await login("do-racer");
    const answers = await Promise.all(Array.from({ length: 50 }, () => call("/v1/uploads", token, { ext: "jpg", size: 100 })));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
    expect(answers.filter((answer) => answer.status === 403 && answer.body.error.code === "quota_exceeded")).toHaveLength(40);
    const usage = (await call("/v1/usage", token)).body.profiles[0];
    expect(usage).toEqual({ profile: "default", usedBytes: 0, reservedBytes: 1000, quotaBytes: 1000, dailyUsedBytes: 1000, dailyBytes: 5000, files: 0 });
  });

  it("keeps two users' books apart: each lists only their own, and a foreign delete is refused", async () => {
    const [ann, ben] = await Promise.all([login("do-ann"), login("do-ben")]);
    const annKey = (await call("/v1/uploads", ann, { ext: "jpg", size: 10 })).body.key as string;
    const benKey = (await call("/v1/uploads", ben, { ext: "png", size: 20 })).body.key as string;
    expect((await call("/v1/objects/list", ann, {})).body.objects.map((object: { key: string }) => object.key)).toEqual([annKey]);
    expect((await call("/v1/objects/list", ben, {})).body.objects).toEqual([
      { key: benKey, size: 20, contentType: "image/png", createdAt: expect.any(String), state: "reserved" },
    ]);
    const foreign = await call("/v1/objects/delete", ben, { key: annKey });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("key_not_allowed");
    expect((await call("/v1/usage", ann)).body.profiles[0]).toMatchObject({ reservedBytes: 10 });
    expect((await call("/v1/usage", ben)).body.profiles[0]).toMatchObject({ reservedBytes: 20 });
  });

  it("pages newest first with a cursor, and refuses one it did not give", async () => {
    const token = await login("do-pager");
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push((await call("/v1/uploads", token, { ext: "jpg", size: 1 })).body.key as string);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { body } = await call("/v1/objects/list", token, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...body.objects.map((object: { key: string }) => object.key));
      cursor = body.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...keys].reverse());
    const foreign = await call("/v1/objects/list", token, { cursor: "next" });
    expect([foreign.status, foreign.body.error.code]).toEqual([400, "cursor_invalid"]);
  });

  // SQLite's rowid would take the highest id again once its row is removed: the new upload behind the cursor.
  it("pages a list on: an upload made meanwhile is not listed after the files the first page showed", async () => {
    const books = durableLedger(env.LEDGER).of("default", "do-reused-id");
    const reserve = (key: string) => books.reserve({ key, bytes: 1, contentType: "image/jpeg", expiresAt: Date.now() + 60_000, now: Date.now(), limits: {} });
    for (const key of ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"]) await reserve(key);
    const first = await books.list(undefined, 2);
    expect(first.objects.map((object) => object.key)).toEqual(["e.jpg", "d.jpg"]);
    // The user deletes what the first page showed and the next file, then uploads a new one.
    for (const key of ["e.jpg", "d.jpg", "c.jpg"]) await books.remove(key);
    await reserve("new.jpg");
    expect((await books.list(first.cursor, 2)).objects.map((object) => object.key)).toEqual(["b.jpg", "a.jpg"]);
  });

  it("says which limit refused: the day's bytes, UTC", async () => {
    const token = await login("do-daily");
    const daily = { ...vars, UPLOAD_QUOTA_BYTES: "", UPLOAD_DAILY_BYTES: "150" };
    const sign = (size: number) =>
      app.request("https://signer.example/v1/uploads", { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ ext: "jpg", size }) }, daily);
    expect((await sign(100)).status).toBe(200);
    const refused = (await (await sign(100)).json()) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe("quota_exceeded");
    expect(refused.error.message).toContain("50 are left of the dailyBytes limit of 150 bytes a user may upload per UTC day");
  });

  it("sets the object's alarm a minute after the reservation's signature expires", async () => {
    const token = await login("do-alarm");
    const before = Date.now();
    const { body } = await call("/v1/uploads", token, { ext: "jpg", size: 1 });
    const expiresAt = Date.parse(body.expiresAt as string);
    const users = (await call("/v1/objects/list", token, {})).body.objects as { key: string }[];
    expect(users.map((object) => object.key)).toEqual([body.key]);
    const segment = (body.key as string).split("/")[1]!;
    const stub = env.LEDGER.get(env.LEDGER.idFromName(`default/${segment}`));
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + 600_000 + SETTLE_DELAY_MS - 1000);
    expect(alarm).toBeLessThanOrEqual(expiresAt + SETTLE_DELAY_MS + 1000);
  });
});
