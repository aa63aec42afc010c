/**
 * Upload tokens: everything a multipart upload is allowed to be, signed by the Worker so that no state need be kept.
 * An HS256 JWT (hono/jwt) whose key is derived from the profile's COS SecretKey — the one secret every profile has in
 * every AUTH_MODE, and whose rotation ends every upload it signed anyway. Claims pin the profile, key, uploadId, size,
 * part plan, content type and caller (`sub`: the session's user segment, or "" with AUTH_MODE=none).
 */
import { sign } from "hono/jwt";
import type { UploadProfile } from "../config/index.js";
import { SignerError } from "../http/errors.js";
import { derivedHmacKey } from "../auth/hmac-keys.js";
import { unverifiedClaim, verifyAt } from "../auth/jwt.js";
import type { PartPlan } from "./parts.js";

/** How long an upload may take, interruptions and app restarts included. */
export const UPLOAD_TOKEN_TTL_SECONDS = 24 * 3600;
const AUDIENCE = "cos-edge-signer/multipart";
const KEY_LABEL = "cos-edge-signer/upload-token/v1";

export interface UploadClaims extends PartPlan {
  readonly sub: string;
  readonly profile: string;
  readonly key: string;
  readonly uploadId: string;
  readonly contentType: string;
  /** Unix seconds. */
  readonly exp: number;
}

/** HMAC-SHA256(SecretKey, label): the token never sees the SecretKey itself. */
const tokenKey = (profile: UploadProfile) => derivedHmacKey(profile.credentials.secretKey, KEY_LABEL);

export async function issueUploadToken(profile: UploadProfile, claims: Omit<UploadClaims, "exp">, now: Date): Promise<{ token: string; exp: number }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + UPLOAD_TOKEN_TTL_SECONDS;
  return { token: await sign({ ...claims, aud: AUDIENCE, iat, exp }, await tokenKey(profile), "HS256"), exp };
}

const invalid = () => new SignerError("upload_token_invalid", "the upload token is not one this signer issued: start the upload again");

/** The claims an upload token must carry, of the right types: a token that verifies but lacks one is not ours. */
function isUploadClaims(payload: Record<string, unknown>): payload is Record<string, unknown> & UploadClaims {
  const strings = ["sub", "profile", "key", "uploadId", "contentType"] as const;
  const counts = ["size", "partSize", "partCount", "exp"] as const;
  return strings.every((name) => typeof payload[name] === "string") && counts.every((name) => Number.isSafeInteger(payload[name]) && (payload[name] as number) >= 0);
}

/**
 * The claims of a token this signer issued for a profile it still has, presented by the user it was issued to, at
 * `now`; 401 otherwise (403 for another user's token).
 */
export async function verifyUploadToken(token: unknown, profiles: ReadonlyMap<string, UploadProfile>, user: string, now: Date): Promise<{ claims: UploadClaims; profile: UploadProfile }> {
  if (typeof token !== "string" || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token) || token.length > 4096) throw invalid();
  const named = unverifiedClaim(token, "profile");
  const profile = typeof named === "string" ? profiles.get(named) : undefined;
  if (!profile) throw invalid();
  const result = await verifyAt(token, await tokenKey(profile), { aud: AUDIENCE }, now);
  if ("refused" in result) {
    if (result.refused === "expired") throw new SignerError("upload_token_expired", "the upload expired (24 h): start it again");
    throw invalid();
  }
  if (!isUploadClaims(result.payload)) throw invalid();
  const claims = result.payload;
  if (claims.sub !== user) throw new SignerError("upload_token_foreign", "this upload belongs to another user");
  return { claims, profile };
}
