/**
 * COS (Cloud Infinite) moderation jobs in the emulator: `POST /<image|video|audio>/auditing` submits a job on an
 * object (signed like any COS request), `GET /<kind>/auditing/<JobId>` reads its result, and when a job ends the
 * emulator POSTs the job's callback (JSON, Simple format: `data.trace_id` is the JobId, `data.result`). Verdicts come
 * from a marker in the object's bytes, so that tests and `npm run dev` choose them: `RISKY` → 1 (violating),
 * `REVIEW` → 2 (suspected), anything else → 0 (normal).
 */
import { randomBytes } from "node:crypto";
import { CosError } from "./errors.js";

export interface AuditJob {
  readonly jobId: string;
  readonly kind: string;
  readonly bucket: string;
  readonly key: string;
  readonly callback: string | undefined;
  state: "Submitted" | "Success";
  result: 0 | 1 | 2;
}

export const AUDIT_PATH = /^\/(image|video|audio)\/auditing(?:\/([A-Za-z0-9_-]+))?$/;

export function verdictOf(body: Buffer): 0 | 1 | 2 {
  const text = body.toString("latin1");
  return text.includes("RISKY") ? 1 : text.includes("REVIEW") ? 2 : 0;
}

export class AuditJobs {
  readonly jobs = new Map<string, AuditJob>();
  /** How long a job runs before its callback. */
  delayMs = 50;

  submit(kind: string, bucket: string, requestXml: string, read: (key: string) => Promise<Buffer | undefined>): Promise<AuditJob> {
    const key = /<Object>([^<]+)<\/Object>/.exec(requestXml)?.[1];
    if (!key) throw new CosError(400, "InvalidArgument", "Input.Object is required");
    const callback = /<Callback>([^<]+)<\/Callback>/.exec(requestXml)?.[1]?.replace(/&#(\d+);|&amp;/g, (entity, code?: string) => (code ? String.fromCharCode(Number(code)) : "&"));
    const prefix = { image: "si", video: "av", audio: "sa" }[kind] ?? "ja";
    const job: AuditJob = { jobId: `${prefix}${randomBytes(12).toString("hex")}`, kind, bucket, key: key.replace(/^\//, ""), callback, state: "Submitted", result: 0 };
    this.jobs.set(job.jobId, job);
    return read(job.key).then((body) => {
      if (!body) throw new CosError(404, "NoSuchKey", "The specified key does not exist.");
      setTimeout(() => void this.finish(job, verdictOf(body)), this.delayMs).unref();
      return job;
    });
  }

  private async finish(job: AuditJob, result: 0 | 1 | 2): Promise<void> {
    job.state = "Success";
    job.result = result;
    if (!job.callback) return;
    const body = { code: 0, message: "success", data: { trace_id: job.jobId, event: "ReviewVideo", url: job.key, result, forbidden_status: 0 } };
    await fetch(job.callback, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).catch(() => undefined);
  }

  answerXml(job: AuditJob): string {
    return `<Response><JobsDetail><JobId>${job.jobId}</JobId><State>${job.state}</State><Object>${job.key}</Object>${job.state === "Success" ? `<Result>${job.result}</Result>` : ""}</JobsDetail></Response>`;
  }
}
