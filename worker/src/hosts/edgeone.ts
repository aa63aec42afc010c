/**
 * Tencent EdgeOne Pages edge function (a V8 runtime close to Workers: fetch, WebCrypto, no Node APIs): the same app,
 * handed the request and the project's environment variables (`context.env`: the secrets too — community adapters
 * drop it), with in-process rate limits per isolate. Built to `dist/edgeone/edge-functions/[[default]].js`.
 */
import openApi from "../../../public/openapi.json";
import { createApp } from "../app.js";
import type { SignerEnv } from "../config/index.js";
import { inProcessLimiters } from "./in-process-limiter.js";

export interface EdgeOneContext {
  readonly request: Request & { readonly eo?: { readonly clientIp?: string } };
  readonly env: Record<string, string | undefined>;
  waitUntil(work: Promise<unknown>): void;
}

// EdgeOne sets `request.eo.clientIp` itself; a client cannot choose it.
const app = createApp({ clientAddress: (request) => (request as EdgeOneContext["request"]).eo?.clientIp || undefined, openApi });
const limiters = inProcessLimiters();
// One bindings object per environment object, so that the configuration is parsed once, not per request.
const bindings = new WeakMap<object, SignerEnv>();

export function onRequest(context: EdgeOneContext): Response | Promise<Response> {
  let env = bindings.get(context.env);
  if (!env) {
    env = { ...context.env, ...limiters } as SignerEnv;
    bindings.set(context.env, env);
  }
  return app.fetch(context.request, env, { waitUntil: (work: Promise<unknown>) => context.waitUntil(work), passThroughOnException() {}, props: {} });
}

export default onRequest;
