import { createApp } from "../src/app.js";
import type { SignerEnv } from "../src/config.js";

export const SECRET_KEY = "route-test-secret-key-0123456789abcdef";

export const baseEnv = {
  COS_SECRET_ID: "AKIDROUTETESTxxxxxxxxxxxxxxxxxxxxxxx",
  COS_SECRET_KEY: SECRET_KEY,
  COS_BUCKET: "examplebucket-1250000000",
  COS_REGION: "ap-guangzhou",
} satisfies SignerEnv;

/** A real `createApp()` called with its own env, so each case can have its own configuration. */
export async function call(path: string, init: RequestInit = {}, env: SignerEnv = baseEnv): Promise<Response> {
  return createApp().request(`http://signer.test${path}`, init, { ...env });
}

export function postJson(path: string, body: unknown, env: SignerEnv = baseEnv): Promise<Response> {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, env);
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
