/**
 * Captures all console output of a test file and, after the file, checks that no line holds a secret. Shared by the
 * workerd suite (worker/test/capture-logs.ts) and the other hosts' (test/hosts/capture-logs.ts).
 */
import { afterAll, beforeAll, expect, vi } from "vitest";
import { SECRETS } from "./helpers.js";

/** Starts capturing; `moreSecrets` adds the host's own (read after the file ran). Returns the lines so far. */
export function captureConsole(moreSecrets: () => readonly string[] = () => []): () => readonly string[] {
  const lines: string[] = [];
  beforeAll(() => {
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
  });
  afterAll(() => {
    const secrets = [...SECRETS, ...moreSecrets()].filter((secret) => secret !== "");
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
    vi.restoreAllMocks();
  });
  return () => lines;
}
