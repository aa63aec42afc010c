/**
 * Tencent STS GetFederationToken (API 3.0, Version 2018-08-13): temporary COS keys limited by a policy. Signed with
 * TC3-HMAC-SHA256; STS's errors become the signer's codes, never echoing STS's message (it can name the account).
 */
import type { Credentials } from "../cos/index.js";
import { SignerError } from "../http/errors.js";
import { signTc3, TC3_CONTENT_TYPE } from "./tc3.js";


export interface FederationTokenRequest {
  /** Shown in STS's records as the federated user's name. */
  readonly name: string;
  /** A CAM policy document (version 2.0). */
  readonly policy: object;
  readonly durationSeconds: number;
  /** The region named in X-TC-Region (STS answers from any; the bucket's is used). */
  readonly region: string;
}

export interface TemporaryCredentials {
  readonly tmpSecretId: string;
  readonly tmpSecretKey: string;
  readonly sessionToken: string;
  /** Unix seconds. */
  readonly expiredTime: number;
}

interface StsAnswer {
  Response?: {
    Credentials?: { Token?: unknown; TmpSecretId?: unknown; TmpSecretKey?: unknown };
    ExpiredTime?: unknown;
    Error?: { Code?: unknown };
  };
}

/** STS's error code → the signer's error (API 3.0 common error codes). */
export function stsError(code: string): SignerError {
  if (code.startsWith("AuthFailure") || code.startsWith("UnauthorizedOperation")) {
    return new SignerError("sts_refused", `STS refused the signer's key pair (${code}): it needs sts:GetFederationToken and the COS actions it grants (docs/sdk.md)`);
  }
  if (code === "RequestLimitExceeded") return new SignerError("sts_unavailable", "STS is limiting the signer's requests; retry shortly", { "Retry-After": "1" });
  if (code === "InternalError" || code.startsWith("ResourceUnavailable")) return new SignerError("sts_unavailable", `STS failed (${code}); retry shortly`);
  return new SignerError("sts_refused", `STS refused the request (${code}); see the Worker logs`);
}

export async function getFederationToken(endpoint: string, credentials: Credentials, request: FederationTokenRequest, now: Date): Promise<TemporaryCredentials> {
  const url = new URL(endpoint);
  // STS expects the policy URL-encoded inside the JSON body.
  const payload = JSON.stringify({ Name: request.name, Policy: encodeURIComponent(JSON.stringify(request.policy)), DurationSeconds: request.durationSeconds });
  const timestamp = Math.floor(now.getTime() / 1000);
  const { authorization } = await signTc3(credentials, { host: url.hostname, service: "sts", payload, timestamp });
  let answer: StsAnswer;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        Authorization: authorization,
        "Content-Type": TC3_CONTENT_TYPE,
        "X-TC-Action": "GetFederationToken",
        "X-TC-Version": "2018-08-13",
        "X-TC-Timestamp": String(timestamp),
        "X-TC-Region": request.region,
      },
      body: payload,
      signal: AbortSignal.timeout(10_000),
    });
    answer = (await response.json()) as StsAnswer;
  } catch {
    throw new SignerError("sts_unavailable", "STS could not be reached or gave no JSON; retry shortly");
  }
  const result = answer.Response;
  if (typeof result?.Error?.Code === "string") throw stsError(result.Error.Code);
  const { Token, TmpSecretId, TmpSecretKey } = result?.Credentials ?? {};
  if (typeof Token !== "string" || typeof TmpSecretId !== "string" || typeof TmpSecretKey !== "string" || typeof result?.ExpiredTime !== "number") {
    throw new SignerError("sts_unavailable", "STS answered without credentials; retry shortly");
  }
  return { tmpSecretId: TmpSecretId, tmpSecretKey: TmpSecretKey, sessionToken: Token, expiredTime: result.ExpiredTime };
}
