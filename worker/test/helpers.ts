import { sign } from "hono/jwt";
import { expect } from "vitest";
import { createApp } from "../src/app.js";
import type { SignerEnv } from "../src/config/index.js";
import { STUB_APPID, STUB_APPSECRET } from "../../test/support/wechat-stub.js";

export const SECRET_KEY = "route-test-secret-key-0123456789abcdef";
export const SESSION_SECRET = "route-test-session-secret-0123456789abcdef-xyz";

/** Every secret value the tests configure: none may appear in a response or a log line. */
export const SECRETS = [SECRET_KEY, SESSION_SECRET, STUB_APPSECRET, "never-shown"];

/** Anyone may sign (AUTH_MODE=none): for the signing rules themselves. */
export const baseEnv = {
  COS_SECRET_ID: "AKIDROUTETESTxxxxxxxxxxxxxxxxxxxxxxx",
  COS_SECRET_KEY: SECRET_KEY,
  COS_BUCKET: "examplebucket-1250000000",
  COS_REGION: "ap-guangzhou",
  AUTH_MODE: "none",
} satisfies SignerEnv;

/** WeChat sessions required (answered by test/support/wechat-stub.ts). */
export const wechatEnv = {
  ...baseEnv,
  AUTH_MODE: "wechat",
  WX_APPID: STUB_APPID,
  WX_APPSECRET: STUB_APPSECRET,
  SESSION_SECRET,
} satisfies SignerEnv;

/**
 * The env a test hands to its own `createApp()`, as this host needs it: in workerd unchanged (the outbound service
 * answers for WeChat); the other hosts' helpers point WX_API_ORIGIN at their stub.
 */
export function hostEnv<T extends SignerEnv>(env: T): T {
  return env;
}

/** A real `createApp()` called with its own env; the response is checked to hold no secret. */
export async function call(path: string, init: RequestInit = {}, env: SignerEnv = baseEnv): Promise<Response> {
  const response = await createApp().request(`http://signer.test${path}`, init, { ...env });
  const seen = `${[...response.headers].join("\n")}\n${await response.clone().text()}`;
  for (const secret of SECRETS) expect(seen).not.toContain(secret);
  return response;
}

/** `postJson` and `login` over a `call` (the other hosts' helpers bring their own `call`). */
export function overCall(send: typeof call) {
  const postJson = (path: string, body: unknown, env: SignerEnv = baseEnv, headers: Record<string, string> = {}): Promise<Response> =>
    send(path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) }, env);
  /** Logs in through POST /v1/session with a stub code (`code-<name>`) and returns the token. */
  const login = async (name: string, env: SignerEnv = wechatEnv): Promise<string> => {
    const response = await postJson("/v1/session", { code: `code-${name}` }, env);
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };
  return { postJson, login };
}

export const { postJson, login } = overCall(call);

/**
 * Asserts the project's error answer: `status`, JSON, `code`, a human message (returned, for a test to read it).
 */
export async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.message;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Parses `q-a=b&q-c=d` into an object (the values of an Authorization header). */
export function authorizationFields(authorization: string): Record<string, string> {
  return Object.fromEntries(authorization.split("&").map((pair) => pair.split("=", 2) as [string, string]));
}

export function decodePolicy(base64: string): { expiration: string; conditions: unknown[] } {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Signs any claims as a session token of a signer whose SESSION_SECRET is `secret`: with the key the README
 * documents, HMAC-SHA256(SESSION_SECRET, "cos-edge-signer/session-token/v1"), computed here on its own.
 */
export async function signSessionClaims(claims: Record<string, unknown>, secret = SESSION_SECRET, alg: "HS256" | "HS512" = "HS256"): Promise<string> {
  const utf8 = new TextEncoder();
  const hmac = (key: BufferSource, message: string) =>
    crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then((k) => crypto.subtle.sign("HMAC", k, utf8.encode(message)));
  const tokenKey = new Uint8Array(await hmac(utf8.encode(secret), "cos-edge-signer/session-token/v1"));
  const key = await crypto.subtle.importKey("raw", tokenKey, { name: "HMAC", hash: alg === "HS256" ? "SHA-256" : "SHA-512" }, false, ["sign"]);
  return sign(claims, key, alg);
}
