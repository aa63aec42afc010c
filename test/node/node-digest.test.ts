/** The Node builds' esbuild plugin swaps the signing core's digest.ts alone, not every module named digest.js. */
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { nodeDigest } from "../../scripts/node-digest.js";

const root = join(import.meta.dirname, "../..");

describe("scripts/node-digest.ts", () => {
  it("puts digest-node.ts in place of worker/src/cos/digest.ts and leaves hono's etag digest alone", async () => {
    const result = await build({
      stdin: {
        contents: 'export { etag } from "hono/etag"; export { sha1Hex } from "./worker/src/cos/index.js";',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "node",
      write: false,
      metafile: true,
      plugins: [nodeDigest],
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("worker/src/cos/digest-node.ts");
    expect(inputs).not.toContain("worker/src/cos/digest.ts");
    expect(inputs.some((input) => input.endsWith("hono/dist/middleware/etag/digest.js"))).toBe(true);
  });
});
