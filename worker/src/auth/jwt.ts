/**
 * Verifying the signer's own HS256 JWTs (sessions, upload tokens) at a given time: hono/jwt checks the signature,
 * algorithm, issuer and audience; the time claims are checked here against `now`, so that time is a parameter.
 */
import { decode, verify } from "hono/jwt";
import {
  JwtAlgorithmMismatch,
  JwtHeaderInvalid,
  JwtPayloadRequiresAud,
  JwtTokenAudience,
  JwtTokenInvalid,
  JwtTokenIssuer,
  JwtTokenSignatureMismatched,
} from "hono/utils/jwt/types";

/** hono/jwt's refusals of a token (anything else it throws is a bug, not the client's token). */
const REFUSALS = [JwtAlgorithmMismatch, JwtHeaderInvalid, JwtPayloadRequiresAud, JwtTokenAudience, JwtTokenInvalid, JwtTokenIssuer, JwtTokenSignatureMismatched];

export type Verified = { readonly payload: Record<string, unknown> } | { readonly refused: "expired" | "invalid" };

/**
 * The payload of a token signed with `key` for `aud` (and `iss`), carrying numeric `iat` ≤ now < `exp`; `expired`
 * when only the time is past, `invalid` otherwise.
 */
export async function verifyAt(token: string, key: CryptoKey, claims: { readonly aud: string; readonly iss?: string }, now: Date): Promise<Verified> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, key, { alg: "HS256", ...claims, exp: false, nbf: false, iat: false });
  } catch (error) {
    if (REFUSALS.some((refusal) => error instanceof refusal)) return { refused: "invalid" };
    throw error;
  }
  const seconds = now.getTime() / 1000;
  const { iat, exp, nbf } = payload;
  // hono/jwt would check iat and exp only when present: the signer's tokens always carry both.
  if (typeof iat !== "number" || typeof exp !== "number" || !Number.isFinite(iat) || !Number.isFinite(exp) || iat > seconds) return { refused: "invalid" };
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > seconds)) return { refused: "invalid" };
  if (exp <= seconds) return { refused: "expired" };
  return { payload };
}

/** A claim of a token not yet verified (to pick its key), or undefined for a token that does not decode. */
export function unverifiedClaim(token: string, name: string): unknown {
  try {
    return decode(token).payload[name];
  } catch (error) {
    if (error instanceof JwtTokenInvalid) return undefined;
    throw error;
  }
}
