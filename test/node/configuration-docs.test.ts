/**
 * The settings table the code reads the environment through (worker/src/config/settings.ts) and what users read:
 * docs/configuration.md's variables and profile fields, and wrangler.toml's [vars]. Neither can change alone.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { describe, expect, it } from "vitest";
import { SETTINGS, type Setting } from "../../worker/src/config/settings.js";

const root = join(import.meta.dirname, "../..");
const settings = Object.values(SETTINGS as Record<string, Setting>);

/** The rows of the markdown table whose header row starts with `first`: cells without their backticks' outside. */
async function table(first: string): Promise<string[][]> {
  const lines = (await readFile(join(root, "docs/configuration.md"), "utf8")).split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

/** How a default is written in the docs. */
function written(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "empty" : `\`${value.join(",")}\``;
  return `\`${String(value)}\``;
}

describe("docs/configuration.md", () => {
  it("lists every variable with its kind and default, and no variable the code does not read", async () => {
    const rows = await table("Variable");
    const documented = new Map(rows.filter(([, kind]) => kind === "var" || kind === "secret").map(([names, kind, fallback]) => [names!, { kind, fallback: fallback! }]));
    for (const setting of settings.filter((candidate) => candidate.variable)) {
      const row = documented.get(`\`${setting.variable}\``);
      expect(row, `${setting.variable} is missing from the table`).toBeDefined();
      expect(row!.kind, setting.variable).toBe(setting.secret ? "secret" : "var");
      if (setting.default !== undefined) expect(row!.fallback, setting.variable).toContain(written(setting.default));
    }
    const variables = new Set(settings.map((setting) => `\`${setting.variable}\``));
    for (const name of documented.keys()) expect(variables.has(name), `${name} is documented but not read`).toBe(true);
  });

  it("lists every profile field with the variable it falls back to, or its default", async () => {
    const rows = new Map((await table("Field")).map(([field, fallback]) => [field!, fallback!]));
    const fields = settings.filter((setting) => setting.field);
    expect([...rows.keys()].sort()).toEqual(fields.map((setting) => `\`${setting.field}\``).sort());
    for (const setting of fields) {
      const fallback = rows.get(`\`${setting.field}\``)!;
      if (setting.field === "bucket") expect(fallback).toBe("— (required)");
      else if (setting.variable) expect(fallback, setting.field).toBe(`\`${setting.variable}\``);
      else if (setting.default !== undefined && !Array.isArray(setting.default)) expect(fallback, setting.field).toBe(written(setting.default));
    }
  });
});

describe("wrangler.toml", () => {
  it("declares in [vars] only variables the code reads", () => {
    const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
    const variables = new Set(settings.map((setting) => setting.variable));
    for (const name of Object.keys(config.vars)) if (name !== "UPLOAD_PROFILES") expect(variables.has(name), name).toBe(true);
  });
});
