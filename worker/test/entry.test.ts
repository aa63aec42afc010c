/** The deployed entry point with the committed wrangler.toml vars (secrets from the test bindings). */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("Worker entry with wrangler.toml defaults", () => {
  it("serves /put-sign for the configured bucket on the regional domain", async () => {
    const response = await exports.default.fetch("https://signer.example/put-sign?ext=jpg");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { cosHost: string; cosKey: string };
    expect(body.cosHost).toBe("cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000");
    expect(body.cosKey).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
  });

  it("answers HEAD like GET, without a body", async () => {
    const response = await exports.default.fetch("https://signer.example/healthz", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });
});
