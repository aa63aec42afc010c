/**
 * `npm run build:node`, `build:scf`, `build:edgeone`: the signer bundled for hosts other than Workers.
 * - node:    dist/node/server.mjs — `node dist/node/server.mjs` (what `npm run start:node` runs).
 * - scf:     dist/scf/ — index.mjs and an executable scf_bootstrap (LF) that starts it on 0.0.0.0:9000, as a Tencent
 *            SCF web function requires; zip the folder's contents to deploy.
 * - edgeone: dist/edgeone/edge-functions/[[default]].js — every path of an EdgeOne Pages project to the signer.
 * The Node builds sign with node:crypto (digest-node.ts in place of digest.ts); the edge build keeps WebCrypto.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { nodeDigest } from "./node-digest.js";

const root = resolve(import.meta.dirname, "..");
const targets = process.argv.slice(2);
const known = ["node", "scf", "edgeone"];
if (targets.length === 0 || targets.some((target) => !known.includes(target))) {
  process.stderr.write(`usage: tsx scripts/build-hosts.ts ${known.join("|")} …\n`);
  process.exit(2);
}

const MIN_NODE = 18;

async function bundleNode(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(root, "worker/src/hosts/node-main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    minify: true,
    plugins: [nodeDigest],
    // The oldest Node with the fetch API the app runs on; SCF's older runtimes (16.13 and before) get a clear refusal
    // instead of a crash. Some dependencies still require() Node built-ins from ESM.
    banner: {
      js: [
        `if (Number(process.versions.node.split(".")[0]) < ${MIN_NODE}) {`,
        `  console.error("cos-edge-signer needs Node.js ${MIN_NODE} or later (on SCF: a Nodejs 18.15 runtime or newer); this is Node.js " + process.version);`,
        "  process.exit(1);",
        "}",
        'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
      ].join("\n"),
    },
    logLevel: "error",
  });
}

const SCF_BOOTSTRAP = `#!/bin/bash
# Tencent SCF web function: the signer on 0.0.0.0:9000, SCF's port (PORT and HOST override it, e.g. in tests).
export PORT="\${PORT:-9000}"
export HOST="\${HOST:-0.0.0.0}"
cd "$(dirname "$0")"
# The runtime's Node (/var/lang/node<version>/bin/node on SCF), else the one on PATH.
NODE="$(ls -d /var/lang/node*/bin/node 2>/dev/null | tail -n 1)"
exec "\${NODE:-node}" index.mjs
`;

for (const target of targets) {
  const dir = join(root, "dist", target);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (target === "node") await bundleNode(join(dir, "server.mjs"));
  if (target === "scf") {
    await bundleNode(join(dir, "index.mjs"));
    await writeFile(join(dir, "scf_bootstrap"), SCF_BOOTSTRAP);
    await chmod(join(dir, "scf_bootstrap"), 0o755);
  }
  if (target === "edgeone") {
    await build({
      entryPoints: [join(root, "worker/src/hosts/edgeone.ts")],
      outfile: join(dir, "edge-functions", "[[default]].js"),
      bundle: true,
      platform: "neutral",
      format: "esm",
      target: "es2022",
      minify: true,
      mainFields: ["module", "main"],
      logLevel: "error",
    });
  }
  process.stdout.write(`built dist/${target}\n`);
}
