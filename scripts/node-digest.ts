/**
 * The esbuild plugin of the Node builds: the signing core's digest.ts → digest-node.ts, the same interface over
 * node:crypto. Only worker/src/cos/digest.ts is swapped: other modules named digest.js (hono's etag middleware
 * imports its own) stay as they are.
 */
import { join, resolve } from "node:path";
import type { Plugin } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const CORE = join(root, "worker/src/cos");

export const nodeDigest: Plugin = {
  name: "node-digest",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/digest\.js$/ }, (args) => (args.resolveDir === CORE ? { path: join(CORE, "digest-node.ts") } : undefined));
  },
};
