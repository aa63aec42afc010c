// hosts: workers
/**
 * The deployed entry point with the committed wrangler.toml (AUTH_MODE=wechat, the rate-limit bindings), secrets
 * from the test bindings and WeChat answered by the stub.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const worker = exports.default;

function upload(token: string, body = '{"ext":"jpg","size":1}'): Promise<Response> {
  return worker.fetch("https://signer.example/v1/uploads", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body,
  });
}

async function session(code: string, ip = "203.0.113.7"): Promise<Response> {
  return worker.fetch("https://signer.example/v1/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ code }),
  });
}

describe("Worker entry with wrangler.toml defaults", () => {
  it("requires a session, then signs under the user's own segment on the regional domain", async () => {
    expect((await upload("")).status).toBe(401);
    const { token } = (await (await session("code-entry")).json()) as { token: string };
    const response = await upload(token);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Request-Id")).toMatch(/.+/);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const body = (await response.json()) as { url: string; key: string };
    expect(body.url).toBe(`https://cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000/${body.key}`);
    expect(body.key).toMatch(/^uploads\/[0-9a-f]{20}\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
  });

  it("keeps the seed routes off with sessions on: their signatures bind no size, type or overwrite rule", async () => {
    const { token } = (await (await session("code-seed")).json()) as { token: string };
    for (const path of ["/put-sign?ext=jpg", "/post-policy?ext=jpg"]) {
      const response = await worker.fetch(`https://signer.example${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("seed_routes_off");
    }
  });

  it("answers HEAD like GET, without a body", async () => {
    const response = await worker.fetch("https://signer.example/healthz", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("limits signatures per user: 429 with Retry-After after 60 a minute, other users unaffected", async () => {
    const { token } = (await (await session("code-busy-user", "203.0.113.8")).json()) as { token: string };
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await upload(token)).status);
    expect(statuses.slice(0, 60).every((status) => status === 200)).toBe(true);
    expect(statuses[60]).toBe(429);
    const limited = await upload(token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const other = (await (await session("code-calm-user", "203.0.113.9")).json()) as { token: string };
    expect((await upload(other.token)).status).toBe(200);
  });

  it("lets an SDK slice-upload 2 GB in 1 MB parts within one minute of calls (2,048 parts + 4 calls), then limits it", async () => {
    // The limiter's windows are aligned to the wall clock (whole minutes): 2,401 calls that straddle a boundary prove
    // nothing, so such a run is done again by a fresh user, which then starts early in its minute.
    const minute = () => Math.floor(Date.now() / 60_000);
    async function sliceUpload(code: string, address: string) {
      const started = minute();
      const { token } = (await (await session(code, address)).json()) as { token: string };
      const keyResponse = await worker.fetch("https://signer.example/v1/cos/keys", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: '{"ext":"mp4"}',
      });
      const { Key } = (await keyResponse.json()) as { Key: string };
      const part = (partNumber: number) =>
        worker.fetch("https://signer.example/v1/cos/authorization", {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            Bucket: "examplebucket-1250000000",
            Region: "ap-guangzhou",
            Method: "put",
            Pathname: `/examplebucket-1250000000/${Key}`,
            Query: { partNumber, uploadId: "1764547200000f0e1d2c3b4a5968778695a4b3c2" },
            Headers: { "Content-Length": 1048576, Host: "cos.ap-guangzhou.myqcloud.com" },
          }),
        });
      const parts = new Map<number, number>();
      // The key, then initiate, list, complete and the 2,048 parts: 2,052 calls; the limit is 2,400 a minute.
      for (let partNumber = 1; partNumber <= 2051; partNumber++) {
        const { status } = await part(Math.min(partNumber, 10_000));
        parts.set(status, (parts.get(status) ?? 0) + 1);
      }
      const rest = new Map<number, number>();
      for (let call = 2053; call <= 2400; call++) {
        const { status } = await part(1);
        rest.set(status, (rest.get(status) ?? 0) + 1);
      }
      const over = (await part(1)).status;
      return { oneWindow: minute() === started, parts, rest, over };
    }
    let run = await sliceUpload("code-sdk-slicer", "203.0.113.20");
    if (!run.oneWindow) run = await sliceUpload("code-sdk-slicer-again", "203.0.113.21");
    expect(run.oneWindow).toBe(true);
    expect(run.parts).toEqual(new Map([[200, 2051]]));
    expect(run.rest).toEqual(new Map([[200, 348]]));
    expect(run.over).toBe(429);
  }, 120_000);

  it("limits logins per address: 429 after 20 a minute", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await session(`code-login-${i}`, "198.51.100.1")).status);
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect((await session("code-login-other-ip", "198.51.100.2")).status).toBe(200);
  });

  it("counts logins only once the code is well-formed: malformed requests use up no one's logins", async () => {
    for (let i = 0; i < 25; i++) expect((await session("not a code!", "198.51.100.3")).status).toBe(400);
    expect((await session("code-after-garbage", "198.51.100.3")).status).toBe(200);
  });

  it("limits IPv6 callers by /64: every address of one subscriber shares one count", async () => {
    const statuses: number[] = [];
    // 21 different addresses, one /64 (written in several equivalent forms).
    for (let i = 0; i < 21; i++) statuses.push((await session(`code-v6-${i}`, i % 2 ? `2001:db8:aa:1::${i.toString(16)}` : `2001:0db8:00aa:0001:${i}:0:0:1`)).status);
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    // The neighbouring /64 has its own count.
    expect((await session("code-v6-next", "2001:db8:aa:2::1")).status).toBe(200);
  });
});
