/**
 * `npm run whitelist [-- --config wrangler.toml] [--env NAME] [--signer URL]`: the exact domains to enter in the WeChat admin console
 * (Development → Development Settings → Server domains) for the upload profiles in wrangler.toml. One regional domain
 * per region for path-style profiles, one bucket domain each otherwise; warns about path-style, which buckets created
 * after 2024-01-01 refuse. The signer's own domain comes from `--signer` (SCF, EdgeOne, Node) or the Worker's routes.
 */
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { parseProfiles, type SignerEnv, type UploadProfile } from "../worker/src/config/index.js";
import { objectLocation } from "../worker/src/cos-api/object-location.js";
import { ConfigError } from "../worker/src/http/errors.js";

const { values } = parseArgs({ options: { config: { type: "string", default: "wrangler.toml" }, env: { type: "string" }, signer: { type: "string" } } });
const config = unstable_readConfig({ config: values.config, ...(values.env ? { env: values.env } : {}) });

// Domains depend on vars only; key pairs are secrets the console never needs, so placeholders stand in for them.
const env = new Proxy(config.vars as Record<string, unknown>, {
  get: (vars, name: string) => (name in vars ? vars[name] : /^COS_SECRET_(ID|KEY)/.test(name) ? "whitelist-placeholder" : undefined),
}) as SignerEnv;

let profiles: ReadonlyMap<string, UploadProfile>;
try {
  profiles = parseProfiles(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${values.config}: ${error.message}\n`);
  process.exit(1);
}

/** Origin → the profiles that PUT there (wx.request) and those that POST there (wx.uploadFile). */
const origins = new Map<string, { put: string[]; post: string[] }>();
for (const profile of profiles.values()) {
  const { origin } = objectLocation(profile, "x");
  const entry = origins.get(origin) ?? { put: [], post: [] };
  for (const method of profile.methods) entry[method].push(profile.name);
  origins.set(origin, entry);
}

const routes = (config.routes ?? []) as (string | { pattern: string })[];
const signerDomains = values.signer
  ? [new URL(values.signer.includes("://") ? values.signer : `https://${values.signer}`).origin]
  : routes.map((route) => (typeof route === "string" ? route : route.pattern)).map((pattern) => `https://${pattern.replace(/\/.*$/, "").replace(/^\*\.?/, "")}`);
const line = (origin: string, note: string) => `  ${origin.padEnd(58)} ${note}`;
const profilesOf = (names: string[]) => `${names.length > 1 ? "profiles" : "profile"} ${names.join(", ")}`;

const out: string[] = ["WeChat admin console → Development → Development Settings → Server domains", "", "request (wx.request):"];
out.push(...(signerDomains.length ? signerDomains.map((d) => line(d, "the signer")) : [line("https://<your signer's domain>", "the signer (ICP-filed HTTPS; workers.dev is unreachable from mainland China)")]));
for (const [origin, entry] of origins) if (entry.put.length) out.push(line(origin, `${profilesOf(entry.put)} (PUT uploads)`));
out.push("", "uploadFile (wx.uploadFile):");
for (const [origin, entry] of origins) if (entry.post.length) out.push(line(origin, `${profilesOf(entry.post)} (POST uploads)`));

const warnings: string[] = [];
const pathStyle = [...profiles.values()].filter((profile) => profile.pathStyle && !profile.endpoint).map((profile) => profile.name);
if (pathStyle.length) {
  warnings.push(
    `${profilesOf(pathStyle)} use${pathStyle.length > 1 ? "" : "s"} the regional domain (path-style): buckets created after 2024-01-01 refuse it with PathStyleDomainForbidden; set pathStyle = false (or COS_PATH_STYLE = "false") for them.`,
  );
}
for (const [origin, entry] of origins) {
  const names = [...new Set([...entry.put, ...entry.post])];
  if (origin.startsWith("http:")) warnings.push(`${origin} (${profilesOf(names)}) is not HTTPS: WeChat accepts only HTTPS domains; fine for a local emulator only.`);
}
if (warnings.length) out.push("", "Warnings:", ...warnings.map((warning) => `  ! ${warning}`));
process.stdout.write(`${out.join("\n")}\n`);
