/**
 * Who asks, as the domain sees it, and the bytes a new object may take, reserved in the caller's books before it is
 * signed (a host without a ledger store keeps no books and reserves nothing).
 */
import type { UploadProfile } from "../config/index.js";
import { type Ledger, ledgerOff, limitsOf, quotaExceeded, type UserLedger } from "../ledger/index.js";
import { SignerError } from "../http/errors.js";
import type { ModerationDesk } from "../moderation/index.js";

export interface Caller {
  /** The session's user segment, or "" when anyone may sign (AUTH_MODE=none). */
  readonly user: string;
  /** The host's ledger store, if it has one. */
  readonly ledger: Ledger | undefined;
  /** The session's sealed openid (moderation/openid.ts), kept with a reservation in a moderated profile. */
  readonly sealedOpenid?: string | undefined;
  /** The host's moderation desk, if it has one. */
  readonly desk?: ModerationDesk | undefined;
}

/** The caller's books in `profile`, or undefined on a host without a ledger store. */
export function booksOf(caller: Caller, profile: UploadProfile): UserLedger | undefined {
  return caller.ledger?.of(profile.name, caller.user);
}

/** The caller's books, for what exists only with a ledger (501 ledger_off without). */
export function requiredBooks(caller: Caller, profile: UploadProfile): UserLedger {
  const books = booksOf(caller, profile);
  if (!books) throw ledgerOff();
  return books;
}

export interface Hold {
  readonly key: string;
  readonly bytes: number;
  readonly contentType: string;
  /** When the permission ends (Unix ms): an unused reservation is settled after it. */
  readonly expiresAt: number;
  /** Reserve what fits up to `bytes` instead of exactly `bytes`. */
  readonly shrink?: boolean;
}

/** The bytes reserved for a new object (all of `hold.bytes` without a ledger), or 403 quota_exceeded. */
export async function reserve(caller: Caller, profile: UploadProfile, hold: Hold, now: Date): Promise<number> {
  const books = booksOf(caller, profile);
  if (!books) return hold.bytes;
  const { shrink = false, ...rest } = hold;
  const sealedOpenid = profile.moderation === "off" ? undefined : caller.sealedOpenid;
  const result = await books.reserve({ ...rest, now: now.getTime(), limits: limitsOf(profile), shrink, ...(sealedOpenid === undefined ? {} : { sealedOpenid }) });
  if ("settled" in result) throw new SignerError("upload_exists", "an object with this key is already on your books: upload to a new key (POST /v1/cos/keys gives one to an SDK)");
  if ("refused" in result) throw quotaExceeded(profile, hold.bytes, result);
  return result.bytes;
}

/** A signature's expiry as the ledger keeps it (Unix ms). */
export function signatureExpiry(profile: UploadProfile, now: Date): number {
  return now.getTime() + profile.signatureTtlSeconds * 1000;
}
