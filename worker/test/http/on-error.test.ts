// hosts: workers
/** An `HTTPException` from Hono's own parts is answered with the project's code for its status (docs/api.md). */
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { baseEnv, type ErrorBody } from "../helpers.js";

async function thrown(exception: HTTPException): Promise<Response> {
  const app = createApp();
  app.get("/throws", () => {
    throw exception;
  });
  return app.request("http://signer.test/throws", {}, { ...baseEnv });
}

describe("HTTPException → the project's error answer", () => {
  it.each([
    [401, "unauthorized"],
    [404, "not_found"],
    [405, "method_not_allowed"],
    [413, "body_too_large"],
    [415, "unsupported_media_type"],
    [400, "bad_request"],
    [403, "bad_request"],
  ] as const)("%i → %s at the same status, as JSON with a message", async (status, code) => {
    const response = await thrown(new HTTPException(status));
    expect(response.status).toBe(status);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it("keeps the exception's own message and a 405's Allow header", async () => {
    const response = await thrown(new HTTPException(405, { res: new Response(null, { status: 405, headers: { Allow: "GET, HEAD" } }), message: "use GET" }));
    expect(response.headers.get("Allow")).toBe("GET, HEAD");
    expect(((await response.json()) as ErrorBody).error).toEqual({ code: "method_not_allowed", message: "use GET" });
  });

  it("a 5xx stays internal_error at 500, its message only in the log", async () => {
    const response = await thrown(new HTTPException(504, { message: "Gateway Timeout" }));
    expect(response.status).toBe(500);
    expect(((await response.json()) as ErrorBody).error).toEqual({ code: "internal_error", message: "the signer failed; see the Worker logs" });
  });
});
