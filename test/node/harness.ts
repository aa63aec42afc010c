/** Real parts for end-to-end tests: the COS emulator and the Worker in workerd (wrangler's unstable_startWorker). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { type CosEmulator, type EmulatedBucket, startCosEmulator } from "../../emulator/cos-emulator.js";

export const SECRET_ID = "AKIDE2ETESTxxxxxxxxxxxxxxxxxxxxxxxxx";
export const SECRET_KEY = "e2e-secret-key-never-in-output";

export const OLD_BUCKET: EmulatedBucket = { name: "examplebucket-1250000000", region: "ap-guangzhou" };
export const NEW_BUCKET: EmulatedBucket = { name: "newbucket-1250000000", region: "ap-guangzhou", pathStyleForbidden: true };
export const OTHER_BUCKET: EmulatedBucket = { name: "otherbucket-1250000000", region: "ap-guangzhou" };

export async function startEmulator(): Promise<CosEmulator & { dispose(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "cos-emulator-"));
  const emulator = await startCosEmulator({ buckets: [OLD_BUCKET, NEW_BUCKET, OTHER_BUCKET], credentials: { [SECRET_ID]: SECRET_KEY }, dataDir });
  return Object.assign(emulator, {
    async dispose() {
      await emulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

export interface RunningSigner {
  url: string;
  dispose(): Promise<void>;
}

/** The Worker of wrangler.toml with these vars on top (and the e2e credentials). */
export async function startSigner(vars: Record<string, string>): Promise<RunningSigner> {
  const bindings = Object.fromEntries(
    Object.entries({ COS_SECRET_ID: SECRET_ID, COS_SECRET_KEY: SECRET_KEY, ...vars }).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
  );
  const worker = await unstable_startWorker({
    config: join(import.meta.dirname, "../../wrangler.toml"),
    bindings,
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, watch: false, persist: false, logLevel: "error" },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  return { url, dispose: () => worker.dispose() };
}
