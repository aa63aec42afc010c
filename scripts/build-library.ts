/**
 * `npm run build:library`: packages/cos-upload/dist — the upload library (index.js, and advice.js for the error texts)
 * as CommonJS for ES2015 (what WeChat's runtime and DevTools' "Build npm" take without a compile step of their own),
 * with the `.d.ts` types tsc emits from the same sources.
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const out = join(root, "packages/cos-upload/dist");
await rm(out, { recursive: true, force: true });
await build({
  entryPoints: ["index", "advice"].map((name) => join(root, `miniprogram/cos-upload/${name}.ts`)),
  outdir: out,
  bundle: true,
  format: "cjs",
  target: "es2015",
  logLevel: "error",
});
await promisify(execFile)(process.execPath, [
  join(root, "node_modules/typescript/bin/tsc"),
  "--declaration",
  "--emitDeclarationOnly",
  "--skipLibCheck",
  "--strict",
  "--target", "ES2020",
  "--module", "CommonJS",
  "--moduleResolution", "node",
  "--types", "miniprogram-api-typings",
  "--outDir", out,
  ...["index", "advice"].map((name) => join(root, `miniprogram/cos-upload/${name}.ts`)),
]);
process.stdout.write(`wrote ${out}\n`);
