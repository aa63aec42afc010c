/**
 * The signer as a Node HTTP server (@hono/node-server): the same app, configured from a plain record of the same
 * variable names. The ledger (quotas, the users' files) lives in Redis (REDIS_URL, shared by every instance), in a
 * SQLite file (LEDGER_SQLITE_PATH, one instance) or nowhere (node-store.ts); with a ledger, each instance sweeps for
 * reservations nobody settled. Used by `npm run start:node` and the Tencent SCF bundle.
 */
import { type ServerType, serve } from "@hono/node-server";
import { webcrypto } from "node:crypto";
import type { AddressInfo } from "node:net";
import openApi from "../../../public/openapi.json";
import { createApp } from "../app.js";
import { API_HEADERS } from "../http/respond.js";
import type { SignerEnv } from "../config/index.js";
import { type NodeStore, openStore } from "./node-store.js";

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
  /** Settles the reservations due at `now`, as the timer does every SWEEP_INTERVAL_MS; 0 without a ledger. */
  sweep(now: number): Promise<number>;
  /** Stops accepting connections, waits for the requests in flight, and closes the store. */
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
 * Settles what is due now and then; a failure (the store or COS away) is logged and tried again next time. `stop`
 * waits for a sweep in flight, so the store is not closed under it.
 */
function sweepEvery(sweep: NonNullable<NodeStore["sweep"]>, env: SignerEnv): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweep(env, Date.now()).then(
      () => undefined,
      (error: unknown) => console.warn(JSON.stringify({ level: "warn", code: "ledger_sweep_failed", message: error instanceof Error ? error.message : String(error) })),
    );
  }, SWEEP_INTERVAL_MS).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function startNodeServer({ env, port, hostname }: NodeServerOptions): Promise<NodeServer> {
  const addresses = addressReader(env.CLIENT_ADDRESS_HEADER?.trim() || undefined);
  const store = await openStore(env);
  const { ledger, desk } = store;
  const app = createApp({ clientAddress: addresses.read, openApi, ...(ledger ? { ledger: () => ledger } : {}), ...(desk ? { moderation: () => desk } : {}) });
  // RATE_LIMITS=off where a gateway in front already limits callers (and for benchmarks, like workerd's runs).
  const limiters = env.RATE_LIMITS?.trim() === "off" ? {} : store.limiters();
  const bindings: SignerEnv & Record<string, unknown> = { ...env, ...limiters };
  const sweep = store.sweep && sweepEvery(store.sweep, bindings);
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
          sweep: async (now) => (store.sweep ? store.sweep(bindings, now) : 0),
          close: async () => {
            await new Promise<void>((done) => server.close(() => done()));
            await sweep?.stop();
            await store.close();
          },
        });
      },
    );
  });
}
