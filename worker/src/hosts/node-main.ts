/**
 * `npm run start:node`, and the Tencent SCF web function's entry: the signer on PORT (default 8787; SCF: 9000) and
 * HOST (default 0.0.0.0), configured from the environment and a `.env` file beside it. SIGTERM (SCF, containers)
 * and SIGINT stop it gracefully: requests in flight finish, new ones are refused.
 */
import { existsSync } from "node:fs";
import { signerConfig } from "../config/index.js";
import { ConfigError } from "../http/errors.js";
import { startNodeServer } from "./node.js";

// Node 20.12+ reads a .env file itself; on older runtimes (SCF offers Node 18) set the environment instead.
if (existsSync(".env") && typeof process.loadEnvFile === "function") process.loadEnvFile(".env");

const env = { ...process.env };
const port = Number(process.env.PORT ?? 8787);
// A server that listens only to answer config_invalid on every route helps nobody: refuse to start instead. The store
// is checked as it opens (node-store.ts: one of REDIS_URL and LEDGER_SQLITE_PATH, the Node version SQLite needs).
let running: Awaited<ReturnType<typeof startNodeServer>>;
try {
  signerConfig(env);
  running = await startNodeServer({ env, port, hostname: process.env.HOST ?? "0.0.0.0" });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(JSON.stringify({ level: "error", code: error.code, message: `not started: ${error.message}` }));
  console.error("Set the variables in the environment or in a .env file here (docs/deploying.md#where-to-run-it).");
  process.exit(1);
}
console.log(JSON.stringify({ level: "info", message: `cos-edge-signer listening on ${running.url}` }));

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    running.close().then(() => process.exit(0));
    // Connections kept alive by clients would hold the close open: give them 10 s.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
