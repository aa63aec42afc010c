#!/usr/bin/env node
// `npm run dev`: the signer under `wrangler dev`.
// - With a .dev.vars (your own keys): the signer alone, signing for the COS your vars name.
// - Without one (a fresh clone): dev/local.env's placeholder keys, and the local COS emulator on 127.0.0.1:9000 that
//   accepts them — so `npm run upload -- README.md` works at once, and nothing reaches Tencent. COS_LOCAL_PORT moves
//   the emulator (and the signer's endpoints with it) when 9000 is taken.
// A `.env` is the Node host's file (`npm run start:node`): it never switches `npm run dev` out of local mode.
// `npm run dev -- --moderation` (local mode only): WeChat logins and content moderation as in production, against the
// local WeChat stand-in on 127.0.0.1:9100 (WECHAT_LOCAL_PORT), which pushes its verdicts to the signer
// (docs/moderation.md); try `npm run moderation:demo -- README.md`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const local = !existsSync(".dev.vars");
const children = [];
const args = process.argv.slice(2);
const moderation = args.includes("--moderation");
const wranglerArgs = args.filter((arg) => arg !== "--moderation");

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
  if (moderation) files.push(moderationEnvFile());
  return files;
}

/** The signer's own address: wrangler dev's --ip and --port, as passed (default 127.0.0.1:8787). */
function signerUrl() {
  const value = (name, fallback) => (wranglerArgs.includes(name) ? wranglerArgs[wranglerArgs.indexOf(name) + 1] : fallback);
  return `http://${value("--ip", "127.0.0.1")}:${value("--port", "8787")}`;
}

/** Local mode with WeChat sessions and moderation, against the stand-in (its dev-only, public secrets). */
function moderationEnvFile() {
  const file = join(root, ".wrangler", `moderation-${process.env.WECHAT_LOCAL_PORT ?? 9100}.env`);
  mkdirSync(join(root, ".wrangler"), { recursive: true });
  const vars = {
    AUTH_MODE: "wechat",
    WX_APPID: "wx0123456789abcdef",
    WX_APPSECRET: "stub-wechat-app-secret-never-shown",
    SESSION_SECRET: "dev-only-session-secret-public-in-git-never-use-it",
    WX_API_ORIGIN: `http://127.0.0.1:${process.env.WECHAT_LOCAL_PORT ?? 9100}`,
    WX_PUSH_TOKEN: "standinPushToken42",
    WX_PUSH_AES_KEY: "StandInEncodingAESKey0123456789abcdefghijkl",
    UPLOAD_MODERATION: "wechat",
    UPLOAD_READ: "owner",
    MODERATION_CALLBACK_URL: `${signerUrl()}/v1/moderation/cos-callback`,
  };
  writeFileSync(file, Object.entries(vars).map(([name, value]) => `${name}=${value}`).join("\n") + "\n");
  return file;
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
  if (moderation) {
    process.env.SIGNER_URL = signerUrl();
    start("wechat stand-in", "npx", ["tsx", join(root, "emulator/wechat-main.ts")]);
  }
} else if (moderation) {
  console.error("--moderation is for local mode (no .dev.vars): with your own .dev.vars, configure moderation there (docs/moderation.md)");
  process.exit(1);
}
const envFiles = local ? localEnvFiles().flatMap((file) => ["--env-file", file]) : [];
start("wrangler dev", "npx", ["wrangler", "dev", ...envFiles, ...wranglerArgs]);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });
}
