/**
 * `npm run moderation:demo -- <file> [--user NAME] [--signer URL]`: the moderation flow against `npm run dev --
 * --moderation` (docs/moderation.md): logs in through the WeChat stand-in (`code-<NAME>`), uploads the file with
 * POST /v1/uploads, asks for its receipt, and follows its state until the verdict: `stored` (served: a read URL is
 * printed), `blocked` or `review`. A file containing RISKY or REVIEW gets that verdict.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parseArgs } from "node:util";

const args = parseArgs({ allowPositionals: true, options: { user: { type: "string", default: "demo" }, signer: { type: "string" } } });
const file = args.positionals[0];
if (!file) {
  console.error("usage: npm run moderation:demo -- <file> [--user NAME] [--signer URL]   (start npm run dev -- --moderation first)");
  process.exit(2);
}
const signer = args.values.signer ?? process.env.COS_SIGNER_URL ?? "http://127.0.0.1:8787";

async function call(path: string, body: unknown, token?: string): Promise<Record<string, any>> {
  const response = await fetch(`${signer}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, any>;
  if (!response.ok && !answer.error?.code?.startsWith("moderation_")) throw new Error(`${path}: ${response.status} ${answer.error?.code}: ${answer.error?.message}`);
  return answer;
}

const bytes = await readFile(file);
const { token } = await call("/v1/session", { code: `code-${args.values.user}` });
const signed = await call("/v1/uploads", { ext: extname(file).slice(1).toLowerCase() || "bin", size: bytes.length }, token);
const put = await fetch(signed.url, { method: "PUT", headers: signed.headers, body: bytes });
if (!put.ok) throw new Error(`PUT to COS: ${put.status}`);
const receipt = await call("/v1/uploads/receipt", { key: signed.key }, token);
console.log(`uploaded ${signed.key}: ${receipt.moderation}`);
let state = receipt.moderation as string;
for (let waited = 0; state === "pending" && waited < 60_000; waited += 250) {
  await new Promise((done) => setTimeout(done, 250));
  const { objects } = await call("/v1/objects/list", {}, token);
  state = (objects as { key: string; state: string }[]).find((object) => object.key === signed.key)?.state ?? state;
}
const read = await call("/v1/objects/url", { key: signed.key }, token);
console.log(`verdict: ${state}`);
console.log(read.url ? `read URL: ${read.url}` : `read URL refused: ${read.error.code}`);
