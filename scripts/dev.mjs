#!/usr/bin/env node
// `npm run dev`: the signer under `wrangler dev`.
// - With a .dev.vars (your own keys): the signer alone, signing for the COS your vars name.
// - Without one (a fresh clone): dev/local.env's placeholder keys, and the local COS emulator on 127.0.0.1:9000 that
//   accepts them — so `npm run upload -- README.md` works at once, and nothing reaches Tencent. COS_LOCAL_PORT moves
//   the emulator (and the signer's endpoints with it) when 9000 is taken.
// A `.env` is the Node host's file (`npm run start:node`): it never switches `npm run dev` out of local mode.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const local = !existsSync(".dev.vars");
const children = [];

function start(label, command, args) {
  const child = spawn(command, args, { stdio: "inherit" });
  child.on("exit", (code, signal) => {
    for (const other of children) if (other !== child && other.exitCode === null) other.kill("SIGTERM");
    if (code !== 0 && code !== null) console.error(`${label} exited with code ${code}`);
    process.exitCode = code ?? (signal ? 1 : 0);
  });
  children.push(child);
}

/** wrangler's --env-file list for local mode: dev/local.env, then the emulator's address when COS_LOCAL_PORT moves it. */
function localEnvFiles() {
  const files = [join(root, "dev/local.env")];
  const port = process.env.COS_LOCAL_PORT;
  if (port) {
    const moved = join(root, ".wrangler", `local-port-${port}.env`);
    mkdirSync(join(root, ".wrangler"), { recursive: true });
    writeFileSync(moved, `COS_ENDPOINT=http://127.0.0.1:${port}\nSTS_ENDPOINT=http://127.0.0.1:${port}\n`);
    files.push(moved);
  }
  return files;
}

if (local) {
  const line = "!".repeat(78);
  const emulator = `http://127.0.0.1:${process.env.COS_LOCAL_PORT ?? 9000}`;
  console.warn(
    `\n${line}\n  LOCAL MODE: dummy dev credentials (dev/local.env) and the local COS EMULATOR on ${emulator}.\n` +
      `  Try: npm run upload -- README.md\n` +
      `  For real COS: cp .dev.vars.example .dev.vars and put your SecretId/SecretKey there.\n` +
      (existsSync(".env") ? `  .env is ignored here (it configures npm run start:node); npm run dev reads .dev.vars.\n` : "") +
      `${line}\n`,
  );
  start("cos emulator", "npx", ["tsx", join(root, "emulator/main.ts")]);
}
const envFiles = local ? localEnvFiles().flatMap((file) => ["--env-file", file]) : [];
start("wrangler dev", "npx", ["wrangler", "dev", ...envFiles, ...process.argv.slice(2)]);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });
}
