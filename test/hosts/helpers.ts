/**
 * The route suite's helpers (worker/test/helpers.ts) for the other hosts: `call` sends each request through the
 * Node server (SIGNER_HOST=node, real HTTP on 127.0.0.1) or the EdgeOne entry (SIGNER_HOST=edgeone, a context as
 * EdgeOne hands it), so that the very same test files prove the same behaviour there. WeChat is a stub on 127.0.0.1.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, expect } from "vitest";
import type { SignerEnv } from "../../worker/src/config/index.js";
import { onRequest } from "../../worker/src/hosts/edgeone.js";
import { type NodeServer, startNodeServer } from "../../worker/src/hosts/node.js";
import { baseEnv, overCall, SECRETS } from "../../worker/test/helpers.js";
import { wechatStub } from "../support/wechat-stub.js";

export { authorizationFields, baseEnv, decodePolicy, type ErrorBody, expectError, SECRET_KEY, SECRETS, SESSION_SECRET, signSessionClaims, wechatEnv } from "../../worker/test/helpers.js";

const host = process.env.SIGNER_HOST;
if (host !== "node" && host !== "edgeone") throw new Error("SIGNER_HOST must be node or edgeone");

const wechat = createServer(async (req, res) => {
  const answer = wechatStub(new Request(`https://api.weixin.qq.com${req.url}`));
  res.writeHead(answer.status, { "Content-Type": "application/json" }).end(await answer.text());
});
await new Promise<void>((done) => wechat.listen(0, "127.0.0.1", done));
const wechatOrigin = `http://127.0.0.1:${(wechat.address() as AddressInfo).port}`;

// One Node server per configuration (the suite uses a few dozen), closed after the file.
const servers = new Map<string, Promise<NodeServer>>();
afterAll(async () => {
  await Promise.all([...servers.values()].map(async (server) => (await server).close()));
  await new Promise((done) => wechat.close(done));
});

/** Each call a caller of its own, as on a busy deployment: the per-address limits never join two tests' calls. */
const someAddress = () => `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

export function hostEnv<T extends SignerEnv>(env: T): T {
  return { ...env, WX_API_ORIGIN: wechatOrigin };
}

export async function call(path: string, init: RequestInit = {}, env: SignerEnv = baseEnv): Promise<Response> {
  const bindings = { ...(env as Record<string, string>), WX_API_ORIGIN: wechatOrigin };
  let response: Response;
  if (host === "edgeone") {
    const request = Object.assign(new Request(`http://signer.test${path}`, init), { eo: { clientIp: someAddress() } });
    response = await onRequest({ request, env: bindings, waitUntil: () => undefined });
  } else {
    const key = JSON.stringify(bindings);
    let server = servers.get(key);
    if (!server) {
      // Behind a proxy that names the caller, as on SCF's API gateway.
      server = startNodeServer({ env: { ...bindings, CLIENT_ADDRESS_HEADER: "X-Forwarded-For" }, port: 0, hostname: "127.0.0.1" });
      servers.set(key, server);
    }
    const headers = new Headers(init.headers);
    headers.set("X-Forwarded-For", someAddress());
    response = await fetch(`${(await server).url}${path}`, { ...init, headers });
  }
  const seen = `${[...response.headers].join("\n")}\n${await response.clone().text()}`;
  for (const secret of SECRETS) expect(seen).not.toContain(secret);
  return response;
}

export const { postJson, login } = overCall(call);
