/**
 * The ledger on Workers, the way `wrangler dev` runs it: the Worker of wrangler.toml with its LEDGER Durable Object
 * (SQLite storage) in workerd, uploads into the COS emulator. Concurrent signing never passes a quota; the books
 * survive a restart of the Worker with persisted state (`--persist-to`); the object's own alarm settles an unused
 * signature (released) and a silent upload (committed) a minute after they expire.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let state: string;
let vars: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator();
  state = await mkdtemp(join(tmpdir(), "ledger-state-"));
  vars = {
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    UPLOAD_QUOTA_BYTES: "1000",
    UPLOAD_PROFILES: JSON.stringify({
      default: { bucket: OLD_BUCKET.name },
      // Signatures of 10 s, the shortest, so the alarm comes 70 s after signing.
      brief: { bucket: OLD_BUCKET.name, keyPrefix: "brief", signatureTtlSeconds: 10, quotaBytes: 10_000 },
    }),
  };
}, 30_000);

afterAll(async () => {
  await emulator?.dispose();
  await rm(state, { recursive: true, force: true });
});

async function post(signer: RunningSigner, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${signer.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function usage(signer: RunningSigner, profile: string): Promise<Record<string, number>> {
  const { profiles } = (await (await fetch(`${signer.url}/v1/usage`)).json()) as { profiles: ({ profile: string } & Record<string, number>)[] };
  return profiles.find((entry) => entry.profile === profile)!;
}

describe("the ledger in a Durable Object", () => {
  it("signs 10 of 50 parallel uploads for a quota of 10, keeps its books across a restart, and settles by alarm", async () => {
    let signer = await startSigner(vars, { persistTo: state });
    // Started first, settled last: the alarm fires 60 s after these 10 s signatures expire.
    const unused = (await post(signer, "/v1/uploads", { profile: "brief", ext: "jpg", size: 50 })).body as { key: string };
    const silent = (await post(signer, "/v1/uploads", { profile: "brief", ext: "jpg", size: 40 })).body as { key: string; url: string; headers: Record<string, string> };
    expect((await fetch(silent.url, { method: "PUT", headers: silent.headers, body: new Uint8Array(40) })).status).toBe(200);
    const settleAfter = Date.now() + 70_000;
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => post(signer, "/v1/uploads", { ext: "jpg", size: 100 })));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
      expect(answers.filter((answer) => answer.status === 403 && answer.body.error.code === "quota_exceeded")).toHaveLength(40);
      expect(await usage(signer, "default")).toMatchObject({ reservedBytes: 1000, usedBytes: 0, quotaBytes: 1000 });

      await signer.dispose();
      signer = await startSigner(vars, { persistTo: state });
      expect(await usage(signer, "default")).toMatchObject({ reservedBytes: 1000 });
      const refused = await post(signer, "/v1/uploads", { ext: "jpg", size: 1 });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain("0 are left of the quotaBytes limit of 1000 bytes");

      expect(await usage(signer, "brief")).toMatchObject({ reservedBytes: 90, usedBytes: 0 });
      await new Promise((done) => setTimeout(done, Math.max(0, settleAfter - Date.now())));
      let books: Record<string, number> = {};
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        books = await usage(signer, "brief");
        if (books.reservedBytes === 0) break;
        await new Promise((done) => setTimeout(done, 500));
      }
      expect(books).toMatchObject({ reservedBytes: 0, usedBytes: 40, dailyUsedBytes: 40, files: 1 });
      const listed = (await post(signer, "/v1/objects/list", { profile: "brief" })).body.objects as { key: string; state: string; size: number }[];
      expect(listed).toEqual([expect.objectContaining({ key: silent.key, state: "stored", size: 40 })]);
      expect(listed.some((object) => object.key === unused.key)).toBe(false);
    } finally {
      await signer.dispose();
    }
  }, 150_000);
});
