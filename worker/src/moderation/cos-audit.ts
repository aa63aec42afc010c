/**
 * COS (Cloud Infinite) moderation jobs: `POST /<kind>/auditing` on the bucket's CI domain
 * (`<bucket>.ci.<region>.myqcloud.com`, cloud.tencent.com 436/47316 video, 436/63593 image batch, 436/54063 audio)
 * with a callback URL; the callback only says that a job ended. COS does not sign it, so the verdict is read back
 * with a signed `GET /<kind>/auditing/<JobId>`: a forged callback can make the signer ask, never decide.
 * `Result`: 0 normal → pass, 1 violating → risky, 2 suspected → review.
 */
import type { UploadProfile } from "../config/index.js";
import { keyTimeAt, signRequest } from "../cos/index.js";
import { xmlText } from "../cos-api/client.js";
import { SignerError } from "../http/errors.js";
import type { Verdict } from "./checks.js";

export type AuditKind = "image" | "video" | "audio";

/**
 * The CI origin of the profile's bucket; a loopback endpoint (the local emulator) answers for it. A custom or
 * acceleration domain serves objects only, so CI is always reached on its own domain otherwise.
 */
function ciOrigin(profile: UploadProfile): string {
  const local = profile.endpoint !== undefined && /^http:\/\/(?:127\.0\.0\.1|localhost)(?::\d+)?$/.test(profile.endpoint);
  return local ? profile.endpoint! : `https://${profile.bucket}.ci.${profile.region}.myqcloud.com`;
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);

/** The answer's XML; null for a job COS does not know (404). */
async function ciCall(profile: UploadProfile, method: "GET" | "POST", path: string, body?: string): Promise<string | null> {
  const origin = ciOrigin(profile);
  const host = new URL(origin).host;
  const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/xml" };
  const { authorization } = await signRequest(profile.credentials, { method, pathname: path, query: {}, headers: { host, ...headers } }, keyTimeAt(new Date(), 600));
  let response: Response;
  try {
    response = await fetch(`${origin}${path}`, { method, headers: { Authorization: authorization, ...headers }, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new SignerError("cos_unavailable", "COS moderation could not be reached; retry shortly", {}, { cause: error });
  }
  const text = await response.text();
  if (response.status === 404) return null;
  if (!response.ok) throw new SignerError(response.status === 403 ? "cos_refused" : "cos_unavailable", `COS moderation answered ${xmlText(text, "Code") ?? `HTTP ${response.status}`}`);
  return text;
}

/** Submits one object to a moderation job; the job's id. `callbackUrl` gets `?kind=` so the callback can read it back. */
export async function submitAuditJob(profile: UploadProfile, kind: AuditKind, key: string, callbackUrl: string): Promise<string> {
  const callback = `${callbackUrl}${callbackUrl.includes("?") ? "&" : "?"}kind=${kind}`;
  const conf = kind === "image" ? "<Async>1</Async>" : "";
  const xml = `<Request><Input><Object>${escapeXml(key)}</Object></Input><Conf>${conf}<Callback>${escapeXml(callback)}</Callback><CallbackVersion>Simple</CallbackVersion></Conf></Request>`;
  const answer = await ciCall(profile, "POST", `/${kind}/auditing`, xml);
  const jobId = answer === null ? undefined : xmlText(answer, "JobId");
  if (!jobId) throw new SignerError("cos_unavailable", "COS moderation gave no JobId");
  return jobId;
}

/** The verdict of a job, read from COS itself; undefined while it is still running. */
export async function auditJobVerdict(profile: UploadProfile, kind: AuditKind, jobId: string): Promise<Verdict | undefined> {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(jobId)) return undefined;
  const answer = await ciCall(profile, "GET", `/${kind}/auditing/${jobId}`);
  if (answer === null) return undefined;
  const state = xmlText(answer, "State");
  if (state !== "Success") return state === "Failed" ? "review" : undefined;
  const result = xmlText(answer, "Result");
  return result === "0" ? "pass" : result === "1" ? "risky" : "review";
}
