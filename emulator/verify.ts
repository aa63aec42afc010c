/**
 * Signature checks as COS documents them, written from the docs with node:crypto — deliberately NOT sharing code
 * with worker/, so that the emulator is an independent judge of what the signer produces.
 * - Request signatures: "Request Signature", https://cloud.tencent.com/document/product/436/7778
 * - POST policies: "POST Object", https://cloud.tencent.com/document/product/436/14690
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { CosError } from "./errors.js";

const hmac = (key: string, message: string) => createHmac("sha1", key).update(message, "utf8").digest("hex");
const sha1 = (message: string | Buffer) => createHash("sha1").update(message).digest("hex");
const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export type SecretLookup = (secretId: string) => string | undefined;

/** Checks q-key-time against the clock: COS refuses a signature outside its window. */
function checkKeyTime(keyTime: string | undefined, now: Date): void {
  const match = /^(\d+);(\d+)$/.exec(keyTime ?? "");
  if (!match) throw new CosError(403, "AccessDenied", "q-key-time must be StartTimestamp;EndTimestamp");
  const seconds = Math.floor(now.getTime() / 1000);
  if (seconds < Number(match[1])) throw new CosError(403, "AccessDenied", "Request has not become valid yet");
  if (seconds > Number(match[2])) throw new CosError(403, "AccessDenied", "Request has expired");
}

function secretFor(secrets: SecretLookup, secretId: string | undefined): string {
  const secretKey = secretId ? secrets(secretId) : undefined;
  if (secretKey === undefined) throw new CosError(403, "InvalidAccessKeyId", "The access key Id format you provided is invalid");
  return secretKey;
}

export interface SignedRequest {
  readonly method: string;
  /** Decoded path as received, e.g. `/examplebucket-1250000000/a b.jpg` for path-style. */
  readonly pathname: string;
  readonly query: URLSearchParams;
  /** Lowercase names (node:http's `req.headers`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The q-sign fields from the Authorization header, or from the query string of a presigned URL. */
export function authorizationOf(request: SignedRequest): Map<string, string> | undefined {
  const header = request.headers.authorization;
  const text = typeof header === "string" ? header : request.query.has("q-signature") ? request.query.toString() : undefined;
  if (text === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const pair of text.split("&")) {
    const at = pair.indexOf("=");
    if (at > 0) fields.set(pair.slice(0, at), typeof header === "string" ? pair.slice(at + 1) : decodeURIComponent(pair.slice(at + 1)));
  }
  return fields;
}

/** Recomputes the signature of the request AS RECEIVED over the headers and parameters it claims to sign. */
export function verifyRequestSignature(request: SignedRequest, auth: Map<string, string>, secrets: SecretLookup, now: Date): void {
  for (const field of ["q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"]) {
    if (!auth.has(field)) throw new CosError(403, "AccessDenied", `Authorization is missing ${field}`);
  }
  if (auth.get("q-sign-algorithm") !== "sha1") throw new CosError(400, "InvalidArgument", "q-sign-algorithm must be sha1");
  const secretKey = secretFor(secrets, auth.get("q-ak"));
  const keyTime = auth.get("q-key-time")!;
  checkKeyTime(keyTime, now);

  // Listed names are lowercase encoded keys; in a presigned URL the list arrives URL-decoded once, so encode it back.
  const names = (list: string) => (list === "" ? [] : list.split(";").map((name) => encode(safeDecode(name)).toLowerCase())).sort();
  const headerPairs = names(auth.get("q-header-list")!).map((name) => {
    const value = request.headers[name];
    return `${name}=${encode(Array.isArray(value) ? value.join(",") : (value ?? ""))}`;
  });
  const paramPairs = names(auth.get("q-url-param-list")!).map((name) => {
    const value = [...request.query].find(([key]) => encode(key).toLowerCase() === name)?.[1] ?? "";
    return `${name}=${encode(value)}`;
  });
  const formatString = `${request.method.toLowerCase()}\n${request.pathname}\n${paramPairs.join("&")}\n${headerPairs.join("&")}\n`;
  const stringToSign = `sha1\n${auth.get("q-sign-time")}\n${sha1(formatString)}\n`;
  const expected = hmac(hmac(secretKey, keyTime), stringToSign);
  if (!sameHex(expected, auth.get("q-signature")!)) {
    throw new CosError(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.", { StringToSign: stringToSign, FormatString: formatString });
  }
}

type Condition = Record<string, unknown> | unknown[];

export interface PostPolicyCheck {
  readonly bucket: string;
  /** Form fields in the order received, file excluded. */
  readonly fields: ReadonlyMap<string, string>;
  readonly fileSize: number;
}

/** Signature, expiry and every condition of a POST Object policy, in the order the doc describes them. */
export function verifyPostPolicy(form: PostPolicyCheck, secrets: SecretLookup, now: Date): void {
  const field = (name: string) => [...form.fields].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  for (const name of ["policy", "q-sign-algorithm", "q-ak", "q-key-time", "q-signature"]) {
    if (field(name) === undefined) throw new CosError(403, "AccessDenied", `The form is missing the ${name} field`);
  }
  if (field("q-sign-algorithm") !== "sha1") throw new CosError(400, "InvalidArgument", "q-sign-algorithm must be sha1");
  const secretKey = secretFor(secrets, field("q-ak"));
  const keyTime = field("q-key-time")!;
  checkKeyTime(keyTime, now);
  const policyBytes = Buffer.from(field("policy")!, "base64");
  const stringToSign = sha1(policyBytes);
  if (!sameHex(hmac(hmac(secretKey, keyTime), stringToSign), field("q-signature")!)) {
    throw new CosError(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.", { StringToSign: stringToSign });
  }

  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(policyBytes.toString("utf8"));
  } catch {
    throw new CosError(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.");
  }
  if (typeof policy.expiration !== "string" || Number.isNaN(Date.parse(policy.expiration))) {
    throw new CosError(400, "InvalidPolicyDocument", "Invalid Policy: expiration must be an ISO 8601 date");
  }
  if (Date.parse(policy.expiration) < now.getTime()) throw new CosError(403, "AccessDenied", "Invalid according to Policy: Policy expired.");
  if (!Array.isArray(policy.conditions)) throw new CosError(400, "InvalidPolicyDocument", "Invalid Policy: conditions must be an array");

  const failed = (what: string) => new CosError(403, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ${what}`);
  const required = new Set(["q-sign-algorithm", "q-ak", "q-sign-time"]);
  for (const condition of policy.conditions as Condition[]) {
    if (Array.isArray(condition)) {
      const [op, target, expected] = condition;
      if (op === "content-length-range") {
        if (form.fileSize > Number(expected)) throw new CosError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        if (form.fileSize < Number(target)) throw new CosError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
        continue;
      }
      if (typeof target !== "string" || !target.startsWith("$") || typeof expected !== "string") throw new CosError(400, "InvalidPolicyDocument", "Invalid Policy: malformed condition");
      const name = target.slice(1);
      const actual = name.toLowerCase() === "bucket" ? form.bucket : field(name);
      if (op === "eq" ? actual !== expected : op === "starts-with" ? !(actual ?? "").startsWith(expected) : true) throw failed(JSON.stringify(condition));
      continue;
    }
    for (const [name, expected] of Object.entries(condition)) {
      required.delete(name);
      if (name === "q-sign-time") {
        if (expected !== keyTime) throw failed('["eq", "$q-sign-time", …] must equal q-key-time');
        continue;
      }
      const actual = name.toLowerCase() === "bucket" ? form.bucket : field(name);
      if (actual !== expected) throw failed(`["eq", "$${name}", ${JSON.stringify(expected)}]`);
    }
  }
  if (required.size > 0) throw new CosError(400, "InvalidPolicyDocument", `Invalid Policy: missing ${[...required].join(", ")}`);
}
