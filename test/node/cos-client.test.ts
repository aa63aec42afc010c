import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../worker/src/app.js";
import { signerConfig } from "../../worker/src/config/index.js";
import { backoffMs, callCos } from "../../worker/src/cos-api/client.js";
import { SignerError } from "../../worker/src/http/errors.js";
import { OLD_BUCKET, SECRET_ID, SECRET_KEY } from "./harness";

/** A loopback port nobody listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe("the Worker's own COS client", () => {
  it("keeps the network error as the cause of cos_unavailable, out of the message", async () => {
    const profile = signerConfig({
      COS_SECRET_ID: SECRET_ID,
      COS_SECRET_KEY: SECRET_KEY,
      COS_BUCKET: OLD_BUCKET.name,
      COS_REGION: OLD_BUCKET.region,
      COS_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      AUTH_MODE: "none",
    }).profiles.get("default")!;
    const failure = await callCos(profile, { method: "HEAD", key: "uploads/a.jpg", timeoutMs: 2000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SignerError);
    expect(failure).toMatchObject({ status: 502, code: "cos_unavailable", message: "COS could not be reached; retry shortly" });
    expect((failure as SignerError).cause).toBeInstanceOf(TypeError);
  });

  it("answers a COS that never answers with the same 502 cos_unavailable, the timeout kept as the cause", async () => {
    // A real server on loopback that accepts the connection and never answers.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    try {
      const profile = signerConfig({
        COS_SECRET_ID: SECRET_ID,
        COS_SECRET_KEY: SECRET_KEY,
        COS_BUCKET: OLD_BUCKET.name,
        COS_REGION: OLD_BUCKET.region,
        COS_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        AUTH_MODE: "none",
      }).profiles.get("default")!;
      const failure = await callCos(profile, { method: "HEAD", key: "uploads/a.jpg", timeoutMs: 200 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SignerError);
      expect(failure).toMatchObject({ status: 502, code: "cos_unavailable", message: "COS did not answer in time; retry shortly" });
      expect((failure as SignerError).cause).toMatchObject({ name: "TimeoutError" });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });

  it("writes the cause's name into the failure's one log line, never into the answer", async () => {
    const env = {
      COS_SECRET_ID: SECRET_ID,
      COS_SECRET_KEY: SECRET_KEY,
      COS_BUCKET: OLD_BUCKET.name,
      COS_REGION: OLD_BUCKET.region,
      COS_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      AUTH_MODE: "none",
      RECEIPT_SECRET: "receipt-secret-for-the-cause-test-0123456789",
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const response = await createApp().request(
        "http://signer.test/v1/uploads/receipt",
        { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key: "uploads/2026/11/29/0123456789abcdef0123456789abcdef.jpg" }) },
        env,
      );
      expect(response.status).toBe(502);
      expect(await response.json()).toEqual({ error: { code: "cos_unavailable", message: "COS could not be reached; retry shortly" } });
      const lines = errors.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
      expect(lines).toContainEqual(expect.objectContaining({ level: "error", status: 502, code: "cos_unavailable", cause: "TypeError" }));
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("jitters the backoff within the upper half of each exponential step", () => {
    expect([1, 2].map((attempt) => backoffMs(attempt, () => 0))).toEqual([100, 200]);
    expect([1, 2].map((attempt) => backoffMs(attempt, () => 0.999))).toEqual([199, 399]);
    const waits = new Set(Array.from({ length: 50 }, () => backoffMs(1)));
    expect(waits.size).toBeGreaterThan(1);
  });
});
