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

/** The request context a COS policy condition reads. */
export interface PolicyContext {
  readonly contentLength?: number;
  /** The `prefix` query parameter of a bucket listing. */
  readonly prefix?: string;
}

interface Statement {
  readonly effect?: unknown;
  readonly action?: unknown;
  readonly resource?: unknown;
  readonly condition?: Record<string, Record<string, unknown>>;
}

interface Issued {
  readonly secretKey: string;
  readonly token: string;
  readonly statements: readonly Statement[];
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
      const values = asList(expected);
      if (operator === "numeric_less_than_equal" && key === "cos:content-length") {
        if (context.contentLength === undefined || !values.every((limit) => context.contentLength! <= Number(limit))) return false;
      } else if (operator === "string_like" && key === "cos:prefix") {
        if (context.prefix === undefined || !values.some((pattern) => wildcard(String(pattern)).test(context.prefix!))) return false;
      } else {
        // A condition the emulator does not know is not met: it fails closed, like a key the request lacks.
        return false;
      }
    }
  }
  return true;
}

export class StsEmulator {
  private readonly issued = new Map<string, Issued>();
  /** Every GetFederationToken answered, newest last (tests count them and read the policies). */
  readonly requests: { readonly name: string; readonly policy: unknown; readonly durationSeconds: number }[] = [];

  constructor(
    private readonly permanent: SecretLookup,
    private readonly now: () => Date,
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
    this.verifyTc3(headers, body);
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
    this.issued.set(tmpSecretId, { secretKey: credentials.TmpSecretKey, token: credentials.Token, statements: policy.statement as Statement[], expiredTime });
    return { Credentials: credentials, ExpiredTime: expiredTime, Expiration: new Date(expiredTime * 1000).toISOString() };
  }

  /** TC3-HMAC-SHA256 recomputed over the signed headers as received and the body's exact bytes. */
  private verifyTc3(headers: IncomingHttpHeaders, body: Buffer): void {
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
   * COS's check of a request signed with temporary keys: the token must come with it, and some statement of the
   * policy must allow the action on the resource with every condition met.
   */
  authorize(secretId: string, token: string | undefined, action: string, resource: string, context: PolicyContext): void {
    const issued = this.issued.get(secretId)!;
    if (token !== issued.token) throw new CosError(403, "InvalidAccessKeyId", "The x-cos-security-token does not belong to this SecretId.");
    const allowed = issued.statements.some(
      (statement) =>
        statement.effect === "allow" &&
        asList(statement.action).includes(`name/cos:${action}`) &&
        asList(statement.resource).some((pattern) => wildcard(String(pattern)).test(resource)) &&
        conditionHolds(statement.condition, context),
    );
    if (!allowed) throw new CosError(403, "AccessDenied", `Access Denied: the temporary key's policy does not allow ${action} here.`);
  }
}
