#!/usr/bin/env node
// `npm run dev`: the signer under `wrangler dev`. Without a .dev.vars it runs on the committed dummy credentials
// (.dev.vars.example) so that a fresh clone works at once — and says so loudly, since COS refuses those signatures.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

const args = ["wrangler", "dev", ...process.argv.slice(2)];
if (!existsSync(".dev.vars") && !existsSync(".env")) {
  args.push("--env-file", ".dev.vars.example");
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n  DUMMY DEV CREDENTIALS (.dev.vars.example): signatures are well-formed, but COS will refuse them.\n` +
      `  For real uploads: cp .dev.vars.example .dev.vars and put your SecretId/SecretKey there.\n${line}\n`,
  );
}

const child = spawn("npx", args, { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
