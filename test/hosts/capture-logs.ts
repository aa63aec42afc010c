/** As worker/test/capture-logs.ts, for the suite on the other hosts: console captured, no secret in any line. */
import { afterAll, beforeAll, expect, vi } from "vitest";
import { SECRETS } from "../../worker/test/helpers.js";

const lines: string[] = [];

beforeAll(() => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
});

afterAll(() => {
  for (const line of lines) for (const secret of SECRETS) expect(line).not.toContain(secret);
  vi.restoreAllMocks();
});

export function capturedLogs(): readonly string[] {
  return lines;
}
