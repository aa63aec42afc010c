/**
 * The npm package of the upload library (packages/cos-upload), built as `npm run build:library` builds it: what
 * DevTools' "Build npm" needs (package.json `miniprogram` → dist with CommonJS and types), ES2015 syntax only, and the
 * built code working with `wx` passed explicitly.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { wxNode } from "../../wx-node/index";
import { runTool } from "./harness";

const pkg = join(import.meta.dirname, "../../packages/cos-upload");

beforeAll(async () => {
  const built = await runTool("scripts/build-library.ts", []);
  expect(built.code, built.stderr).toBe(0);
}, 60_000);

describe("packages/cos-upload", () => {
  it("points DevTools at dist, with CommonJS and .d.ts there, MIT licensed", async () => {
    const manifest = JSON.parse(await readFile(join(pkg, "package.json"), "utf8")) as Record<string, string>;
    expect(manifest).toMatchObject({ main: "dist/index.js", types: "dist/index.d.ts", miniprogram: "dist", license: "MIT" });
    expect(await readFile(join(pkg, "dist/index.d.ts"), "utf8")).toContain("export declare function createUploader");
    expect(await readFile(join(pkg, "LICENSE"), "utf8")).toContain("MIT License");
  });

  it("is ES2015: no ?? or ?. for an old base library", async () => {
    const code = await readFile(join(pkg, "dist/index.js"), "utf8");
    expect(code).not.toMatch(/\?\?|\?\.[A-Za-z_(]/);
  });

  it("runs with wx passed explicitly: the uploader and its pending list", () => {
    const { createUploader, UploadError } = createRequire(import.meta.url)(join(pkg, "dist/index.js")) as typeof import("../../miniprogram/cos-upload/index");
    const uploader = createUploader({ signerUrl: "http://127.0.0.1:9", wx: { ...wxNode, getStorageInfoSync: () => ({ keys: [] }) } });
    expect(uploader.pendingUploads()).toEqual([]);
    expect(new UploadError("timeout", "t", "network").retryable).toBe(true);
  });
});
