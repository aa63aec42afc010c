/**
 * The signer as a Node HTTP server (@hono/node-server): the same app, configured from a plain record of the same
 * variable names. With REDIS_URL, the ledger (quotas, the users' files) and the rate limits live in Redis, shared by
 * every instance, and each instance sweeps for reservations nobody settled; without it, no ledger and in-process
 * rate limits. Used by `npm run start:node` and the Tencent SCF bundle.
 */
import { type ServerType, serve } from "@hono/node-server";
import { webcrypto } from "node:crypto";
import type { AddressInfo } from "node:net";
import openApi from "../../../public/openapi.json";
import { createClient } from "redis";
import { createApp } from "../app.js";
import { API_HEADERS } from "../http/respond.js";
import { type SignerEnv, signerConfig } from "../config/index.js";
import type { Ledger } from "../ledger/index.js";
import { type RedisClient, redisLedger, settleDue } from "../ledger/redis.js";
import { inProcessLimiters } from "./in-process-limiter.js";
import { redisLimiters } from "./redis-limiter.js";
import { submitCheck, wechatAppOf } from "../moderation/index.js";
import { redisDesk } from "../moderation/redis.js";

/** How often each instance looks for reservations to settle. */
export const SWEEP_INTERVAL_MS = 15_000;

// WebCrypto is a global from Node 19 on; Node 18 (an SCF runtime) has it only as node:crypto's webcrypto.
globalThis.crypto ??= webcrypto as Crypto;

/**
 * The answer when the app itself throws — its error handler failed, so nothing else would log it and the server
 * would answer an empty 500: one log line, and the JSON error every other failure gets.
 */
function unhandled(error: unknown): Response {
  console.error(JSON.stringify({ level: "error", message: "the error handler failed", error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
  const body = { error: { code: "internal_error", message: "the signer failed; see the server log" } };
  return new Response(JSON.stringify(body), { status: 500, headers: API_HEADERS });
}

export interface NodeServerOptions {
  /** The variables and secrets, as on Workers (`UPLOAD_PROFILES` as JSON). */
  readonly env: Record<string, string | undefined>;
  readonly port: number;
  readonly hostname: string;
}

export interface NodeServer {
  readonly url: string;
  readonly server: ServerType;
  /** Stops accepting connections and waits for the requests in flight. */
  close(): Promise<void>;
}

/**
 * Where the caller's address is read: the socket's peer, or — behind a proxy or gateway that sets it, such as SCF's
 * API gateway — the last address of the header named by CLIENT_ADDRESS_HEADER (the one the proxy itself appended).
 */
function addressReader(header: string | undefined) {
  const peers = new WeakMap<Request, string>();
  return {
    remember(request: Request, peer: string | undefined): void {
      if (peer !== undefined) peers.set(request, peer);
    },
    read: (request: Request) => {
      if (header) return request.headers.get(header)?.split(",").at(-1)?.trim() || undefined;
      return peers.get(request);
    },
  };
}

/**
 * Settles the reservations due at `now` (ledger/redis.ts), and gives an object found uploaded in a moderated profile
 * its check, as a receipt would.
 */
export async function sweepOnce(client: RedisClient, ledger: Ledger, env: SignerEnv, now: number): Promise<number> {
  const config = signerConfig(env);
  const desk = redisDesk(client, () => wechatAppOf(config));
  return settleDue(client, ledger, config.profiles, now, 50, async (profile, user, key, contentType) => {
    const books = ledger.of(profile.name, user);
    await submitCheck({ config, desk }, books, profile, user, key, contentType, (await books.checkOf(key))?.sealedOpenid);
  });
}

/** Settles what is due now and then; a failure (Redis or COS away) is logged and tried again next time. */
function sweepEvery(client: RedisClient, ledger: Ledger, env: SignerEnv): NodeJS.Timeout {
  const timer = setInterval(async () => {
    try {
      await sweepOnce(client, ledger, env, Date.now());
    } catch (error) {
      console.warn(JSON.stringify({ level: "warn", code: "ledger_sweep_failed", message: error instanceof Error ? error.message : String(error) }));
    }
  }, SWEEP_INTERVAL_MS);
  return timer.unref();
}

export async function startNodeServer({ env, port, hostname }: NodeServerOptions): Promise<NodeServer> {
  const addresses = addressReader(env.CLIENT_ADDRESS_HEADER?.trim() || undefined);
  const redisUrl = env.REDIS_URL?.trim() || undefined;
  const client: RedisClient | undefined = redisUrl ? createClient({ url: redisUrl }) : undefined;
  if (client) {
    // Reconnects by itself; while Redis is away, calls fail (500) and the error is logged here, not thrown.
    client.on("error", (error: Error) => console.warn(JSON.stringify({ level: "warn", code: "redis_error", message: error.message })));
    await client.connect();
  }
  const ledger = client && redisLedger(client);
  const desk = client && redisDesk(client, () => wechatAppOf(signerConfig(bindings)));
  const app = createApp({ clientAddress: addresses.read, openApi, ...(ledger ? { ledger: () => ledger } : {}), ...(desk ? { moderation: () => desk } : {}) });
  // RATE_LIMITS=off where a gateway in front already limits callers (and for benchmarks, like workerd's runs).
  const limiters = env.RATE_LIMITS?.trim() === "off" ? {} : client ? redisLimiters(client) : inProcessLimiters();
  const bindings: SignerEnv & Record<string, unknown> = { ...env, ...limiters };
  const sweep = client && ledger ? sweepEvery(client, ledger, bindings) : undefined;
  return new Promise((resolve) => {
    const server = serve(
      {
        fetch: async (request, node: { incoming?: { socket?: { remoteAddress?: string } } }) => {
          addresses.remember(request, node.incoming?.socket?.remoteAddress);
          try {
            return await app.fetch(request, bindings);
          } catch (error) {
            return unhandled(error);
          }
        },
        port,
        hostname,
      },
      (info: AddressInfo) => {
        const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${info.port}`,
          server,
          close: async () => {
            clearInterval(sweep);
            await new Promise<void>((done) => server.close(() => done()));
            await client?.close();
          },
        });
      },
    );
  });
}
