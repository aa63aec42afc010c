/**
 * `npm run setup:bucket [-- --config wrangler.toml] [--env NAME] [--days 7] [--yes]`: what each profile's bucket needs
 * for this signer, applied with the profile's own key pair (COS_SECRET_ID / COS_SECRET_KEY, or the named pair, from
 * the environment):
 * - a lifecycle rule per profile aborting multipart uploads left incomplete after `--days` days under its key prefix
 *   (orphaned parts are billed; PUT Bucket lifecycle, 436/8280), other rules kept as they are;
 * - CORS for the web origins of CORS_ORIGINS, for H5 clients that upload straight to COS (PUT Bucket cors, 436/8279),
 *   other rules kept.
 * It shows the difference and asks before changing anything; `--yes` applies without asking (CI).
 */
import { createHash } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { parseProfiles, type SignerEnv, type UploadProfile } from "../worker/src/config/index.js";
import { xmlBlocks, xmlText } from "../worker/src/cos-api/client.js";
import { keyTimeAt, securityTokenHeaders, signRequest } from "../worker/src/cos/index.js";
import { objectLocation } from "../worker/src/cos-api/object-location.js";
import { ConfigError } from "../worker/src/http/errors.js";

const { values } = parseArgs({
  options: { config: { type: "string", default: "wrangler.toml" }, env: { type: "string" }, days: { type: "string", default: "7" }, yes: { type: "boolean", default: false } },
});
const days = Number(values.days);
if (!Number.isSafeInteger(days) || days < 1 || days > 3650) fail("--days must be a whole number of days from 1 to 3650");

function fail(message: string): never {
  process.stderr.write(`setup:bucket: ${message}\n`);
  process.exit(1);
}

const config = unstable_readConfig({ config: values.config, ...(values.env ? { env: values.env } : {}) });
// The vars of wrangler.toml, with the environment over them: the key pairs are secrets, never in the file.
const env = { ...(config.vars as Record<string, unknown>), ...process.env } as SignerEnv;
let profiles: ReadonlyMap<string, UploadProfile>;
try {
  profiles = parseProfiles(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(`${values.config}: ${error.message}`);
}
const corsOrigins = String(env.CORS_ORIGINS ?? "")
  .split(",")
  .map((origin) => origin.trim())
  .filter(Boolean);

const RULE_ID = "cos-edge-signer";

/** One signed bucket request (the sub-resource signed as a query parameter, the body's Content-MD5 as a header). */
async function bucketCall(profile: UploadProfile, method: "GET" | "PUT", resource: "lifecycle" | "cors", body?: string): Promise<{ status: number; xml: string }> {
  const location = objectLocation(profile, "");
  const headers: Record<string, string> = body === undefined ? {} : { "content-md5": createHash("md5").update(body).digest("base64"), "content-type": "application/xml" };
  const { authorization } = await signRequest(
    profile.credentials,
    { method, pathname: location.signedPath, query: { [resource]: "" }, headers: { host: location.host, ...headers } },
    keyTimeAt(new Date(), 600),
  );
  const response = await fetch(`${location.url}?${resource}`, {
    method,
    headers: { Authorization: authorization, ...headers, ...securityTokenHeaders(profile.credentials) },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, xml: await response.text() };
}

/** The bucket's current document (empty when it has none), or a stop with COS's error code. */
async function current(profile: UploadProfile, resource: "lifecycle" | "cors"): Promise<string> {
  const { status, xml } = await bucketCall(profile, "GET", resource);
  if (status === 404 && /NoSuch(Lifecycle|CORS)Configuration/.test(xml)) return "";
  if (status !== 200) fail(`GET Bucket ${resource} of ${profile.bucket} answered ${status} ${xmlText(xml, "Code") ?? ""}: check the key pair's permissions (${resource === "cors" ? "GetBucketCORS" : "GetBucketLifecycle"})`);
  return xml;
}

interface Change {
  readonly profile: UploadProfile;
  readonly resource: "lifecycle" | "cors";
  readonly before: string[];
  readonly after: string[];
  readonly document: string;
}

/** The rules of a document other than ours, verbatim, then ours. */
function merged(xml: string, tag: "Rule" | "CORSRule", isOurs: (block: string) => boolean): { kept: string[]; before: string[] } {
  const blocks = xmlBlocks(xml, tag);
  return { kept: blocks.filter((block) => !isOurs(block)).map((block) => `<${tag}>${block}</${tag}>`), before: blocks.filter(isOurs).map((block) => `<${tag}>${block}</${tag}>`) };
}

const changes: Change[] = [];
// One lifecycle rule per profile (its prefix), one CORS rule per bucket.
const buckets = new Map<string, UploadProfile[]>();
for (const profile of profiles.values()) {
  const id = `${profile.endpoint ?? ""} ${profile.region} ${profile.bucket}`;
  buckets.set(id, [...(buckets.get(id) ?? []), profile]);
}
for (const group of buckets.values()) {
  const first = group[0]!;
  const ids = new Set(group.map((profile) => `${RULE_ID}-${profile.name}`));
  const ours = group.map(
    (profile) =>
      `<Rule><ID>${RULE_ID}-${profile.name}</ID><Filter><Prefix>${profile.keyPrefix === "" ? "" : `${profile.keyPrefix}/`}</Prefix></Filter><Status>Enabled</Status>` +
      `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${days}</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`,
  );
  const lifecycle = merged(await current(first, "lifecycle"), "Rule", (block) => ids.has(xmlText(block, "ID") ?? ""));
  if (lifecycle.before.join("\n") !== ours.join("\n")) {
    changes.push({ profile: first, resource: "lifecycle", before: lifecycle.before, after: ours, document: `<LifecycleConfiguration>${[...lifecycle.kept, ...ours].join("")}</LifecycleConfiguration>` });
  }
  const corsRule =
    corsOrigins.length === 0
      ? []
      : [
          `<CORSRule><ID>${RULE_ID}-web</ID>${corsOrigins.map((origin) => `<AllowedOrigin>${origin}</AllowedOrigin>`).join("")}` +
            ["PUT", "POST", "GET", "HEAD"].map((method) => `<AllowedMethod>${method}</AllowedMethod>`).join("") +
            "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-cos-hash-crc64ecma</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>",
        ];
  const cors = merged(await current(first, "cors"), "CORSRule", (block) => xmlText(block, "ID") === `${RULE_ID}-web`);
  if (cors.before.join("\n") !== corsRule.join("\n")) {
    changes.push({ profile: first, resource: "cors", before: cors.before, after: corsRule, document: `<CORSConfiguration>${[...cors.kept, ...corsRule].join("")}</CORSConfiguration>` });
  }
}

if (changes.length === 0) {
  process.stdout.write(`Nothing to change: every bucket has the signer's lifecycle rule (${days} days) and CORS rule.\n`);
  process.exit(0);
}
for (const change of changes) {
  process.stdout.write(`\n${change.profile.bucket} (${change.profile.region}) — bucket ${change.resource}:\n`);
  for (const line of change.before) process.stdout.write(`- ${line}\n`);
  for (const line of change.after) process.stdout.write(`+ ${line}\n`);
}
if (!values.yes) {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  // No answer (stdin closed, as in CI without --yes) is a no.
  const answer = await Promise.race([prompt.question("\nApply these changes? [y/N] "), new Promise<string>((done) => prompt.once("close", () => done("")))]);
  prompt.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    process.stdout.write("Nothing changed (run with --yes to apply without asking).\n");
    process.exit(0);
  }
}
for (const change of changes) {
  const { status, xml } = await bucketCall(change.profile, "PUT", change.resource, change.document);
  if (status !== 200) fail(`PUT Bucket ${change.resource} of ${change.profile.bucket} answered ${status} ${xmlText(xml, "Code") ?? ""}`);
  process.stdout.write(`applied: ${change.profile.bucket} ${change.resource}\n`);
}
