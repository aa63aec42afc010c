#!/usr/bin/env node
// `npm run dev`: the signer under `wrangler dev`.
// - With a .dev.vars (your own keys): the signer alone, signing for the COS your vars name.
// - Without one (a fresh clone): dev/local.env's placeholder keys, and the local COS emulator on 127.0.0.1:9000 that
//   accepts them — so `npm run upload -- README.md` works at once, and nothing reaches Tencent.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const local = !existsSync(".dev.vars") && !existsSync(".env");
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

if (local) {
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n  LOCAL MODE: dummy dev credentials (dev/local.env) and the local COS EMULATOR on http://127.0.0.1:9000.\n` +
      `  Try: npm run upload -- README.md\n` +
      `  For real COS: cp .dev.vars.example .dev.vars and put your SecretId/SecretKey there.\n${line}\n`,
  );
  start("cos emulator", "npx", ["tsx", "emulator/main.ts"]);
}
start("wrangler dev", "npx", ["wrangler", "dev", ...(local ? ["--env-file", "dev/local.env"] : []), ...process.argv.slice(2)]);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });
}
