/**
 * The deployed entry point with the committed wrangler.toml (AUTH_MODE=wechat, the rate-limit bindings), secrets
 * from the test bindings and WeChat answered by the stub.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = exports.default;

async function session(code: string, ip = "203.0.113.7"): Promise<Response> {
  return worker.fetch("https://signer.example/v1/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ code }),
  });
}

describe("Worker entry with wrangler.toml defaults", () => {
  it("requires a session, then signs under the user's own segment on the regional domain", async () => {
    expect((await worker.fetch("https://signer.example/put-sign?ext=jpg")).status).toBe(401);
    const { token } = (await (await session("code-entry")).json()) as { token: string };
    const response = await worker.fetch("https://signer.example/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Request-Id")).toMatch(/.+/);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const body = (await response.json()) as { cosHost: string; cosKey: string };
    expect(body.cosHost).toBe("cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000");
    expect(body.cosKey).toMatch(/^uploads\/[0-9a-f]{20}\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
  });

  it("answers HEAD like GET, without a body", async () => {
    const response = await worker.fetch("https://signer.example/healthz", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("limits signatures per user: 429 with Retry-After after 60 a minute, other users unaffected", async () => {
    const { token } = (await (await session("code-busy-user", "203.0.113.8")).json()) as { token: string };
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) {
      statuses.push((await worker.fetch("https://signer.example/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${token}` } })).status);
    }
    expect(statuses.slice(0, 60).every((status) => status === 200)).toBe(true);
    expect(statuses[60]).toBe(429);
    const limited = await worker.fetch("https://signer.example/v1/uploads", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: '{"ext":"jpg"}',
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const other = (await (await session("code-calm-user", "203.0.113.9")).json()) as { token: string };
    expect((await worker.fetch("https://signer.example/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${other.token}` } })).status).toBe(200);
  });

  it("limits logins per address: 429 after 20 a minute", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await session(`code-login-${i}`, "198.51.100.1")).status);
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect((await session("code-login-other-ip", "198.51.100.2")).status).toBe(200);
  });
});
