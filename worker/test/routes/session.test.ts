// hosts: workers node edgeone
/** WeChat login sessions: code2Session (stubbed), tokens, per-user segments, and every way a token can be wrong. */
import { describe, expect, it } from "vitest";
import { AUTH_NONE_WARNING } from "../../src/app.js";
import { capturedLogs } from "../capture-logs.js";
import { baseEnv, call, type ErrorBody, expectError, login, postJson, SESSION_SECRET, signSessionClaims, wechatEnv as sessionsOnly } from "../helpers.js";

// These tests sign on the seed routes too, which a deployment with sessions must switch on (SEED_ROUTES).
const wechatEnv = { ...sessionsOnly, SEED_ROUTES: "true" };

const USER_KEY = /^uploads\/([0-9a-f]{20})\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/;

async function signedKey(token: string, route: "put" | "post" | "v1" = "put"): Promise<string> {
  const headers = { Authorization: `Bearer ${token}` };
  const response =
    route === "v1" ? await postJson("/v1/uploads", { ext: "jpg", size: 1 }, wechatEnv, headers) : await call(`/${route === "put" ? "put-sign" : "post-policy"}?ext=jpg`, { headers }, wechatEnv);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { cosKey?: string; key?: string };
  return (body.cosKey ?? body.key)!;
}

describe("POST /v1/session", () => {
  it("exchanges a wx.login code for a short-lived token; no openid, no session_key", async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await postJson("/v1/session", { code: "code-alice" }, wechatEnv);
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    expect(text).not.toContain("openid-alice");
    expect(text).not.toContain("session-key");
    const body = (await response.json()) as { token: string; expiresAt: string; expiresIn: number };
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "expiresIn", "token"]);
    expect(body.expiresIn).toBe(3600);
    const exp = Date.parse(body.expiresAt) / 1000;
    expect(exp).toBeGreaterThanOrEqual(before + 3600);
    expect(exp).toBeLessThanOrEqual(before + 3601);
    const payload = JSON.parse(atob(body.token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/")));
    expect(Object.keys(payload).sort()).toEqual(["aud", "exp", "iat", "iss", "sub"]);
    expect(payload).toMatchObject({ iss: "cos-edge-signer", aud: wechatEnv.WX_APPID, exp: payload.iat + 3600 });
    expect(payload.sub).toMatch(/^[0-9a-f]{20}$/);
  });

  const wechatErrors: [string, number, string][] = [
    ["not-a-stub-code", 400, "wechat_code_invalid"],
    ["used", 400, "wechat_code_invalid"],
    ["rate", 429, "wechat_rate_limited"],
    ["risky", 403, "wechat_user_blocked"],
    ["busy", 502, "wechat_unavailable"],
    ["down", 502, "wechat_unavailable"],
  ];
  for (const [code, status, errorCode] of wechatErrors) {
    it(`maps WeChat's answer to code "${code}" to ${status} ${errorCode}`, async () => {
      await expectError(await postJson("/v1/session", { code }, wechatEnv), status, errorCode);
    });
  }

  it("a wrong AppSecret is WeChat's refusal, reported without the secret", async () => {
    await expectError(await postJson("/v1/session", { code: "code-alice" }, { ...wechatEnv, WX_APPSECRET: "wrong-app-secret" }), 502, "wechat_unavailable");
  });

  it("refuses a missing or malformed code before calling WeChat", async () => {
    for (const body of [{}, { code: "" }, { code: 42 }, { code: "a b" }, { code: "x".repeat(129) }, null]) {
      await expectError(await postJson("/v1/session", body, wechatEnv), 400, "code_invalid");
    }
  });

  it("is off with AUTH_MODE=none", async () => {
    await expectError(await postJson("/v1/session", { code: "code-alice" }, baseEnv), 404, "not_found");
  });
});

describe("signing with AUTH_MODE=wechat", () => {
  it("requires a token on every signing route, seed-compatible ones included", async () => {
    await expectError(await call("/put-sign?ext=jpg", {}, wechatEnv), 401, "unauthorized");
    await expectError(await call("/post-policy?ext=jpg", {}, wechatEnv), 401, "unauthorized");
    await expectError(await postJson("/v1/uploads", { ext: "jpg" }, wechatEnv), 401, "unauthorized");
    const response = await call("/put-sign?ext=jpg", {}, wechatEnv);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="cos-edge-signer"');
  });

  it("puts each user's keys under their own segment, the same on every route", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    const aliceSegments = new Set<string>();
    for (const route of ["put", "post", "v1"] as const) aliceSegments.add(USER_KEY.exec(await signedKey(alice, route))![1]!);
    expect(aliceSegments.size).toBe(1);
    const bobSegment = USER_KEY.exec(await signedKey(bob))![1]!;
    expect(aliceSegments.has(bobSegment)).toBe(false);
    // A second login of the same user lands in the same segment.
    expect(USER_KEY.exec(await signedKey(await login("alice")))![1]).toBe([...aliceSegments][0]);
  });

  it("a token of user A can never obtain a key under user B's segment, whatever the request says", async () => {
    const bobSegment = USER_KEY.exec(await signedKey(await login("bob")))![1]!;
    const alice = await login("alice");
    const aliceSegment = USER_KEY.exec(await signedKey(alice))![1]!;
    // The seed routes ignore parameters they do not define: the key stays in the caller's own segment.
    for (const path of [`/put-sign?ext=jpg&user=${bobSegment}`, `/post-policy?ext=jpg&prefix=uploads/${bobSegment}`]) {
      const response = await call(path, { headers: { Authorization: `Bearer ${alice}` } }, wechatEnv);
      expect(response.status).toBe(200);
      expect(USER_KEY.exec(((await response.json()) as { cosKey: string }).cosKey)?.[1]).toBe(aliceSegment);
    }
    await expectError(await call(`/put-sign?ext=${bobSegment}`, { headers: { Authorization: `Bearer ${alice}` } }, wechatEnv), 400, "ext_invalid");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", key: `uploads/${bobSegment}/x.jpg` }, wechatEnv, { Authorization: `Bearer ${alice}` }), 400, "body_invalid");
  });

  it("refuses an expired token, one signed with another secret, one with another algorithm, and garbage", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sub = "0123456789abcdef0123";
    const claims = { iss: "cos-edge-signer", aud: wechatEnv.WX_APPID, sub };
    const expired = await signSessionClaims({ ...claims, iat: now - 3610, exp: now - 10 });
    const forged = await signSessionClaims({ ...claims, iat: now, exp: now + 600 }, "another-secret-of-at-least-32-characters!!");
    const otherAlg = await signSessionClaims({ ...claims, iat: now, exp: now + 600 }, SESSION_SECRET, "HS512");
    const noSubject = await signSessionClaims({ iss: claims.iss, aud: claims.aud, iat: now, exp: now + 600 });
    const unsigned = `${btoa('{"alg":"none","typ":"JWT"}').replaceAll("=", "")}.${btoa(JSON.stringify({ sub, exp: now + 600 })).replaceAll("=", "")}.`;
    await expectError(await call("/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${expired}` } }, wechatEnv), 401, "token_expired");
    for (const token of [forged, otherAlg, noSubject]) {
      await expectError(await call("/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${token}` } }, wechatEnv), 401, "token_invalid");
    }
    for (const header of [`Bearer ${unsigned}`, "Bearer", "Basic dXNlcjpwYXNz", `bearer ${forged}`, `Bearer ${forged} extra`]) {
      await expectError(await call("/put-sign?ext=jpg", { headers: { Authorization: header } }, wechatEnv), 401, "token_invalid");
    }
  });

  it("a token from one deployment is refused by another with a different SESSION_SECRET", async () => {
    const token = await login("alice");
    const other = { ...wechatEnv, SESSION_SECRET: "a-different-session-secret-0123456789abcdef" };
    await expectError(await call("/put-sign?ext=jpg", { headers: { Authorization: `Bearer ${token}` } }, other), 401, "token_invalid");
  });

  it("logs no line for a success (Workers Logs records it) and one for a refusal: user shortened, never the token", async () => {
    const token = await login("carol");
    const before = capturedLogs().length;
    const key = await signedKey(token);
    expect(capturedLogs().length).toBe(before);
    const segment = USER_KEY.exec(key)![1]!;
    const refused = await call("/put-sign?ext=exe", { headers: { Authorization: `Bearer ${token}` } }, wechatEnv);
    expect(refused.status).toBe(400);
    const entry = JSON.parse(capturedLogs().at(-1)!);
    expect(entry).toEqual({
      level: "warn",
      requestId: refused.headers.get("X-Request-Id"),
      method: "GET",
      path: "/put-sign",
      status: 400,
      code: "ext_not_allowed",
      user: segment.slice(0, 6),
    });
    for (const logged of capturedLogs()) {
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(segment);
      expect(logged).not.toContain("openid-");
    }
  });
});

describe("AUTH_MODE", () => {
  it("defaults to wechat when unset, and then needs WX_APPID, WX_APPSECRET and a long SESSION_SECRET", async () => {
    const { AUTH_MODE: _mode, ...unset } = baseEnv;
    const response = await call("/healthz", {}, unset);
    await expectError(response, 500, "config_invalid");
    for (const [variable, override] of [
      ["WX_APPID", { WX_APPID: "not-an-appid" }],
      ["WX_APPSECRET", { WX_APPSECRET: "" }],
      ["SESSION_SECRET", { SESSION_SECRET: "short" }],
      ["SESSION_TTL_SECONDS", { SESSION_TTL_SECONDS: "0" }],
      ["AUTH_MODE", { AUTH_MODE: "open" }],
    ] as const) {
      const bad = await call("/healthz", {}, { ...wechatEnv, ...override });
      expect(bad.status).toBe(500);
      expect(((await bad.json()) as ErrorBody).error.message.startsWith(variable)).toBe(true);
    }
  });

  it("none: every response warns, and the log says so once", async () => {
    const first = await call("/put-sign?ext=jpg", {}, baseEnv);
    const second = await call("/healthz", {}, baseEnv);
    // Exactly once per response, though several steps of a request read the configuration.
    for (const response of [first, second]) expect(response.headers.get("X-Signer-Warning")).toBe(AUTH_NONE_WARNING);
    expect(capturedLogs().filter((line) => line.includes("AUTH_MODE=none")).length).toBe(1);
  });
});

describe("CORS for web clients", () => {
  const env = { ...baseEnv, CORS_ORIGINS: "https://app.example.com, https://admin.example.com" };

  it("allows configured origins, with a preflight", async () => {
    const preflight = await call("/v1/uploads", { method: "OPTIONS", headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" } }, env);
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    const get = await call("/put-sign?ext=jpg", { headers: { Origin: "https://admin.example.com" } }, env);
    expect(get.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
  });

  it("gives other origins no CORS headers", async () => {
    const response = await call("/put-sign?ext=jpg", { headers: { Origin: "https://evil.example" } }, env);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect((await call("/put-sign?ext=jpg", { headers: { Origin: "https://app.example.com" } })).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses a malformed CORS_ORIGINS", async () => {
    await expectError(await call("/healthz", {}, { ...baseEnv, CORS_ORIGINS: "app.example.com" }), 500, "config_invalid");
  });
});
