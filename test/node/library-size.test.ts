/** The Mini Program upload library, minified as a Mini Program's build would ship it: at most 8 KiB (issue 20's budget). */
import { join } from "node:path";
import { build } from "esbuild";
import { expect, it } from "vitest";

it("cos-upload minified is at most 8 KiB", async () => {
  const output = await build({
    entryPoints: [join(import.meta.dirname, "../../miniprogram/cos-upload/index.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2020",
    write: false,
    logLevel: "error",
  });
  expect(output.outputFiles[0]!.contents.byteLength).toBeLessThanOrEqual(8 * 1024);
});
