/** The README and docs/ link to each other: every local link must reach a file, and every #anchor a heading there. */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replaceAll(" ", "-");
const anchors = (page: string) => new Set(readFileSync(join(root, page), "utf8").split("\n").filter((line) => line.startsWith("#")).map((line) => slug(line.replace(/^#+/, ""))));

describe("README and docs/", () => {
  for (const page of pages) {
    it(`${page}: every local link and anchor resolves`, () => {
      const text = readFileSync(join(root, page), "utf8");
      const broken: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [path, anchor] = target!.split("#") as [string, string | undefined];
        const file = path ? normalize(join(dirname(page), path)) : page;
        if (!existsSync(join(root, file))) broken.push(target!);
        else if (anchor && file.endsWith(".md") && !anchors(file).has(anchor)) broken.push(target!);
      }
      expect(broken).toEqual([]);
    });
  }

  it("the README starts with the two commands that work on a fresh clone", () => {
    const top = readFileSync(join(root, "README.md"), "utf8").split("\n").slice(0, 8).join("\n");
    expect(top).toContain("npm ci && npm run dev");
    expect(top).toContain("npm ci && npm test");
  });
});
