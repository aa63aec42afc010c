/**
 * Every answer of the signer is JSON with the same fixed headers, built as one plain object and handed to one
 * `new Response`: in workerd each `Headers.set` crosses into the runtime, and a middleware per header (Hono's
 * requestId, secureHeaders, a Cache-Control layer) cost about 45 µs of CPU per request (README, Benchmarks).
 */
import type { Context } from "hono";
import { type AppEnv, asApp } from "./context.js";

/**
 * The headers a JSON API read by Mini Programs needs: signatures are single-use permissions that no cache may keep,
 * and with `nosniff` no browser treats the JSON as a page — so frame and content-security headers would protect
 * nothing here, and HSTS belongs to the domain (Cloudflare's HSTS setting covers every response of the zone). Each
 * header costs about 1 µs of CPU per request in workerd.
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/** This request's id: always our own random UUID (a client-chosen one could impersonate other requests in logs). */
export function requestIdOf<E extends AppEnv>(route: Context<E>): string {
  const c = asApp(route);
  let id = c.get("requestId");
  if (id === undefined) {
    id = crypto.randomUUID();
    c.set("requestId", id);
  }
  return id;
}

/** Adds an `X-Signer-Warning` to this request's answer. */
export function addWarning<E extends AppEnv>(route: Context<E>, warning: string): void {
  const c = asApp(route);
  const warnings = c.get("warnings");
  if (warnings) warnings.push(warning);
  else c.set("warnings", [warning]);
}

/** The JSON answer, with the fixed headers, the request id, the warnings and `extra` (e.g. Retry-After). */
export function respond<E extends AppEnv>(route: Context<E>, body: unknown, status = 200, extra?: Readonly<Record<string, string>>): Response {
  const c = asApp(route);
  const headers: Record<string, string> = { ...API_HEADERS, "X-Request-Id": requestIdOf(c), ...extra };
  const warnings = c.get("warnings");
  if (warnings) headers["X-Signer-Warning"] = warnings.join(", ");
  return new Response(JSON.stringify(body), { status, headers });
}
