/** The esbuild plugin of the Node builds: digest.ts → digest-node.ts, the same interface over node:crypto. */
import { join, resolve } from "node:path";
import type { Plugin } from "esbuild";

const root = resolve(import.meta.dirname, "..");

export const nodeDigest: Plugin = {
  name: "node-digest",
  setup(builder) {
    builder.onResolve({ filter: /\/digest\.js$/ }, () => ({ path: join(root, "worker/src/cos/digest-node.ts") }));
  },
};
