/**
 * Every test file of the workers project: capture all console output of the Worker code and, after the file, check
 * that no line holds a secret (SecretKey, AppSecret, session secret, WeChat session_key).
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, expect, vi } from "vitest";
import type { SignerEnv } from "../src/config.js";
import { SECRETS } from "./helpers.js";

const lines: string[] = [];

beforeAll(() => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
});

afterAll(() => {
  const bindings = env as SignerEnv;
  const secrets = [...SECRETS, bindings.COS_SECRET_KEY, bindings.WX_APPSECRET, bindings.SESSION_SECRET].filter((s): s is string => typeof s === "string" && s !== "");
  for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  vi.restoreAllMocks();
});

/** What the Worker logged so far in this file. */
export function capturedLogs(): readonly string[] {
  return lines;
}
