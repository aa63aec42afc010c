/**
 * A local stand-in for Tencent STS GetFederationToken (API 3.0, 2018-08-13) and for the CAM policy check COS applies
 * to requests signed with its temporary keys. Written from Tencent's docs with node:crypto, sharing no code with
 * worker/: TC3-HMAC-SHA256 ("Signature v3", cloud.tencent.com/document/api/213/30654), STS GetFederationToken,
 * and COS's access policy language and condition keys ("Conditions", 436/46205).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { CosError } from "./errors.js";
import type { SecretLookup } from "./verify.js";

/**
 * The request context a COS policy condition reads, by condition key ("Conditions", 436/46205): `cos:content-length`,
 * `cos:prefix`, `cos:content-type`, `cos:x-cos-acl`, `cos:x-cos-storage-class`, `cos:response-content-type`. A key the
 * request does not carry is absent: a condition on it is not met (COS: such keys apply only to requests that carry them).
 */
export type PolicyContext = Readonly<Record<string, string | number | undefined>>;

/** One statement of a CAM policy (version 2.0). */
export interface Statement {
  readonly effect?: unknown;
  readonly action?: unknown;
  readonly resource?: unknown;
  readonly condition?: Record<string, Record<string, unknown>>;
}

export interface Policy {
  readonly version?: unknown;
  readonly statement?: readonly Statement[];
}

interface Issued {
  readonly secretKey: string;
  readonly token: string;
  readonly policy: Policy;
  /** The permanent SecretId that asked: temporary keys never do more than it may (CAM intersects the two). */
  readonly issuer: string;
  /** Unix seconds. */
  readonly expiredTime: number;
}

/** Thrown for an STS request it refuses: API 3.0's error code and message. */
class StsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** `*` in a CAM resource or string_like value matches any run of characters; everything else literally. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function conditionHolds(condition: Statement["condition"], context: PolicyContext): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const values = asList(expected).map(String);
      const actual = context[key];
      if (actual === undefined) return false;
      const text = String(actual);
      if (operator === "numeric_less_than_equal") {
        if (!values.every((limit) => Number(actual) <= Number(limit))) return false;
      } else if (operator === "string_equal") {
        if (!values.includes(text)) return false;
      } else if (operator === "string_not_equal") {
        if (values.includes(text)) return false;
      } else if (operator === "string_like") {
        if (!values.some((pattern) => wildcard(pattern).test(text))) return false;
      } else {
        // An operator the emulator does not know is not met: it fails closed.
        return false;
      }
    }
  }
  return true;
}

/**
 * CAM's evaluation of one policy for one request: an explicit deny wins, else some allow statement must match the
 * action (`name/cos:PutObject`), the resource and every condition.
 */
export function policyAllows(policy: Policy, action: string, resource: string, context: PolicyContext): boolean {
  const matches = (statement: Statement) =>
    asList(statement.action).some((pattern) => wildcard(String(pattern)).test(action)) &&
    asList(statement.resource).some((pattern) => wildcard(String(pattern)).test(resource)) &&
    conditionHolds(statement.condition, context);
  const statements = policy.statement ?? [];
  if (statements.some((statement) => statement.effect === "deny" && matches(statement))) return false;
  return statements.some((statement) => statement.effect === "allow" && matches(statement));
}

export class StsEmulator {
  private readonly issued = new Map<string, Issued>();
  /** Every GetFederationToken answered, newest last (tests count them and read the policies). */
  readonly requests: { readonly name: string; readonly policy: unknown; readonly durationSeconds: number }[] = [];

  constructor(
    private readonly permanent: SecretLookup,
    private readonly now: () => Date,
    /** The permanent key's own permission check (CAM), or none for an account's root keys. */
    private readonly permits: (secretId: string, action: string, resource: string, context: PolicyContext) => boolean = () => true,
  ) {}

  /** Answers one STS request: always HTTP 200, errors inside `Response.Error`, as API 3.0 does. */
  answer(headers: IncomingHttpHeaders, body: Buffer): string {
    const requestId = randomBytes(16).toString("hex");
    try {
      return JSON.stringify({ Response: { ...this.federationToken(headers, body), RequestId: requestId } });
    } catch (error) {
      if (!(error instanceof StsError)) throw error;
      return JSON.stringify({ Response: { Error: { Code: error.code, Message: error.message }, RequestId: requestId } });
    }
  }

  private federationToken(headers: IncomingHttpHeaders, body: Buffer): object {
    const issuer = this.verifyTc3(headers, body);
    if (!this.permits(issuer, "name/sts:GetFederationToken", "*", {})) throw new StsError("UnauthorizedOperation", "the key pair may not call sts:GetFederationToken");
    if (headers["x-tc-action"] !== "GetFederationToken") throw new StsError("InvalidAction", "only GetFederationToken is emulated");
    if (headers["x-tc-version"] !== "2018-08-13") throw new StsError("InvalidParameterValue", "X-TC-Version must be 2018-08-13");
    let params: { Name?: unknown; Policy?: unknown; DurationSeconds?: unknown };
    try {
      params = JSON.parse(body.toString("utf8"));
    } catch {
      throw new StsError("InvalidParameter", "the body is not JSON");
    }
    if (typeof params.Name !== "string" || !/^[\w+=,.@-]{1,32}$/.test(params.Name)) throw new StsError("InvalidParameter.ParamError", "Name must be 1-32 of [\\w+=,.@-]");
    const duration = params.DurationSeconds ?? 1800;
    if (typeof duration !== "number" || !Number.isInteger(duration) || duration < 0 || duration > 7200) throw new StsError("InvalidParameter.ParamError", "DurationSeconds must be 0-7200");
    let policy: { version?: unknown; statement?: unknown };
    try {
      policy = JSON.parse(decodeURIComponent(String(params.Policy)));
    } catch {
      throw new StsError("InvalidParameter.PolicyParamError", "Policy must be a URL-encoded JSON policy");
    }
    if (policy.version !== "2.0" || !Array.isArray(policy.statement) || policy.statement.length === 0) {
      throw new StsError("InvalidParameter.PolicyParamError", "Policy needs version 2.0 and statements");
    }
    this.requests.push({ name: params.Name, policy, durationSeconds: duration });
    const expiredTime = Math.floor(this.now().getTime() / 1000) + duration;
    const tmpSecretId = `AKIDTMP${randomBytes(16).toString("hex")}`;
    const credentials = { TmpSecretId: tmpSecretId, TmpSecretKey: randomBytes(24).toString("base64url"), Token: randomBytes(48).toString("base64url") };
    this.issued.set(tmpSecretId, { secretKey: credentials.TmpSecretKey, token: credentials.Token, policy: policy as Policy, issuer, expiredTime });
    return { Credentials: credentials, ExpiredTime: expiredTime, Expiration: new Date(expiredTime * 1000).toISOString() };
  }

  /** TC3-HMAC-SHA256 recomputed over the signed headers as received and the body's exact bytes; the SecretId. */
  private verifyTc3(headers: IncomingHttpHeaders, body: Buffer): string {
    const match = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      String(headers.authorization ?? ""),
    );
    if (!match) throw new StsError("AuthFailure.InvalidAuthorization", "Authorization is not a TC3-HMAC-SHA256 header");
    const [, secretId, date, service, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
    const secretKey = this.permanent(secretId);
    if (secretKey === undefined) throw new StsError("AuthFailure.SecretIdNotFound", "the SecretId is not known");
    const timestamp = Number(headers["x-tc-timestamp"]);
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - this.now().getTime() / 1000) > 300) throw new StsError("AuthFailure.SignatureExpire", "X-TC-Timestamp is more than 5 minutes off");
    if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date || service !== "sts") throw new StsError("AuthFailure.InvalidAuthorization", "the credential scope must be the UTC date of X-TC-Timestamp and sts");
    const names = signedHeaders.split(";");
    if (!names.includes("content-type") || !names.includes("host")) throw new StsError("AuthFailure.InvalidAuthorization", "content-type and host must be signed");
    // Host is signed as the URL's hostname (Tencent's SDKs); Node's Host header carries the emulator's port too.
    const value = (name: string) => (name === "host" ? String(headers.host ?? "").replace(/:\d+$/, "") : String(headers[name] ?? "")).trim().toLowerCase();
    const canonical = `POST\n/\n\n${names.map((name) => `${name}:${value(name)}\n`).join("")}\n${signedHeaders}\n${createHash("sha256").update(body).digest("hex")}`;
    const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${sha256(canonical)}`;
    const key = hmac(hmac(hmac(`TC3${secretKey}`, date), service), "tc3_request");
    const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) throw new StsError("AuthFailure.SignatureFailure", "the signature does not match");
    return secretId;
  }

  /** The SecretKey of a temporary SecretId while it is valid; undefined for one it never issued. */
  secretOf(secretId: string): string | undefined {
    const issued = this.issued.get(secretId);
    if (!issued) return undefined;
    if (issued.expiredTime < this.now().getTime() / 1000) throw new CosError(400, "ExpiredToken", "The provided token has expired.");
    return issued.secretKey;
  }

  isTemporary(secretId: string): boolean {
    return this.issued.has(secretId);
  }

  /**
   * COS's check of a request signed with temporary keys: the token must come with it, and both the policy they were
   * issued with and the permissions of the key that asked for them must allow the action on the resource.
   */
  authorize(secretId: string, token: string | undefined, action: string, resource: string, context: PolicyContext): void {
    const issued = this.issued.get(secretId)!;
    if (token !== issued.token) throw new CosError(403, "InvalidAccessKeyId", "The x-cos-security-token does not belong to this SecretId.");
    if (!policyAllows(issued.policy, `name/cos:${action}`, resource, context) || !this.permits(issued.issuer, `name/cos:${action}`, resource, context)) {
      throw new CosError(403, "AccessDenied", `Access Denied: the temporary key's policy does not allow ${action} here.`);
    }
  }

}
