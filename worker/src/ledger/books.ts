/**
 * The ledger: every object a user starts, per profile, with the bytes it holds or may still take. Signing reserves
 * the upload's bound before a byte moves; a receipt or a multipart complete commits the real size; an abort releases;
 * a reservation nobody settles is settled by the ledger itself, from a HEAD, a minute after its signature expired.
 * Engines: a Durable Object per user on Workers (durable-object.ts), Redis on the Node/SCF host (redis.ts), or SQLite
 * for a single Node instance (sqlite.ts).
 */
import type { UploadProfile } from "../config/index.js";
import { callCos } from "../cos-api/client.js";
import { ConfigError, SignerError } from "../http/errors.js";

/** `pending`, `blocked`, `review`: a stored object under content moderation (moderation/checks.ts), never served. */
export type LedgerState = "reserved" | "stored" | "pending" | "blocked" | "review";
/** The state a settled object takes: `stored`, or `pending` where its profile moderates uploads. */
export type SettledState = "stored" | "pending";

export interface LedgerObject {
  readonly key: string;
  /** Bytes: the real size once stored, the reserved bound before. */
  readonly size: number;
  readonly contentType: string;
  readonly createdAt: string;
  readonly state: LedgerState;
}

export interface Limits {
  /** Bytes a user may hold (stored and reserved); undefined: no limit. */
  readonly quotaBytes?: number | undefined;
  /** Bytes a user may upload per UTC day; undefined: no limit. */
  readonly dailyBytes?: number | undefined;
}

export interface ReserveRequest {
  readonly key: string;
  readonly bytes: number;
  readonly contentType: string;
  /** Unix ms when the signature (or upload token) stops working; settled SETTLE_DELAY_MS later. */
  readonly expiresAt: number;
  readonly now: number;
  readonly limits: Limits;
  /** Reserve what fits, up to `bytes` (a POST form's range is narrowed to it), instead of refusing. */
  readonly shrink?: boolean;
  /** The uploader's openid, sealed (moderation/openid.ts), for a check submitted when the ledger settles the object. */
  readonly sealedOpenid?: string | undefined;
}

export type LimitName = "quotaBytes" | "dailyBytes";
/** Granted bytes; a limit's refusal; or `settled`: the key holds a settled object, which a new upload must not replace. */
export type ReserveResult =
  | { readonly bytes: number }
  | { readonly refused: LimitName; readonly left: number; readonly limit: number }
  | { readonly settled: LedgerState };

export interface Usage {
  readonly usedBytes: number;
  readonly reservedBytes: number;
  readonly dailyUsedBytes: number;
  readonly files: number;
}

export interface Page {
  readonly objects: LedgerObject[];
  readonly cursor?: string;
}

/** One user's books in one profile. Every method is atomic in its engine. */
export interface UserLedger {
  /**
   * Reserves the bound against both limits, in one step with the key's own check: a key still reserved keeps its entry
   * (an SDK's retry), a settled one is refused (its new bytes would replace what the quota and moderation passed).
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * The object's real size: a reservation becomes `state` (default stored); an object on the books takes its new size
   * and keeps its state; an unknown one is added as `state`. The state before, undefined for an unknown key.
   */
  commit(key: string, size: number, contentType: string, now: number, state?: SettledState): Promise<LedgerState | undefined>;
  /** A moderation verdict or step: the object's new state, and the check it waits for; false when not on the books. */
  moderate(key: string, state: LedgerState, checkId?: string): Promise<boolean>;
  /** What a moderation check needs of an object: the sealed openid of its reservation and the check it waits for. */
  checkOf(key: string): Promise<{ readonly sealedOpenid?: string | undefined; readonly checkId?: string | undefined } | undefined>;
  /** Drops a reservation (and its bytes of the day); a stored object is left alone. */
  release(key: string): Promise<void>;
  get(key: string): Promise<LedgerObject | undefined>;
  /** Newest first; `cursor` from the previous page. */
  list(cursor: string | undefined, limit: number): Promise<Page>;
  /** Takes the object off the books, freeing its bytes (not the day's); false when it was not on them. */
  remove(key: string): Promise<boolean>;
  usage(now: number): Promise<Usage>;
}

export interface Ledger {
  /** `user` is the key segment of the caller, "" when anyone may sign (AUTH_MODE=none: one shared book). */
  of(profile: string, user: string): UserLedger;
}

/** An unused signature is settled this long after it expired: an upload begun just before expiry has landed. */
export const SETTLE_DELAY_MS = 60_000;

/** The UTC day of a time, `YYYY-MM-DD`. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A page cursor, and the order of the list: creation time (ms, 13 digits) then key. */
export const sortKey = (createdAt: number, key: string): string => `${String(createdAt).padStart(13, "0")}:${key}`;

/**
 * 400 cursor_invalid for a cursor that is no `sortKey` (Redis, SQLite): the request schema also passes the Durable
 * Object's cursors (a row id), which are no position in these engines.
 */
export function checkSortCursor(cursor: string | undefined): void {
  if (cursor !== undefined && !/^\d{13}:/.test(cursor)) throw new SignerError("cursor_invalid", "cursor must be the cursor of the previous page");
}

/** What may be reserved given the books' totals: the bytes granted, or which limit refuses and what is left of it. */
export function grant(request: ReserveRequest, totals: { used: number; reserved: number; today: number }): ReserveResult {
  const { quotaBytes, dailyBytes } = request.limits;
  const leftQuota = quotaBytes === undefined ? Infinity : quotaBytes - totals.used - totals.reserved;
  const leftDaily = dailyBytes === undefined ? Infinity : dailyBytes - totals.today;
  const left = Math.max(0, Math.min(leftQuota, leftDaily));
  const bytes = request.shrink ? Math.min(request.bytes, left) : request.bytes;
  if (bytes > left || (bytes === 0 && request.bytes > 0)) {
    const refused: LimitName = leftQuota <= leftDaily ? "quotaBytes" : "dailyBytes";
    return { refused, left, limit: (refused === "quotaBytes" ? quotaBytes : dailyBytes)! };
  }
  return { bytes };
}

export function limitsOf(profile: UploadProfile): Limits {
  return { quotaBytes: profile.quotaBytes, dailyBytes: profile.dailyBytes };
}

/** 403 quota_exceeded, naming the limit, its size and the bytes left. */
export function quotaExceeded(profile: UploadProfile, bytes: number, refusal: { refused: LimitName; left: number; limit: number }): SignerError {
  const which = refusal.refused === "quotaBytes" ? `the quotaBytes limit of ${refusal.limit} bytes a user may hold` : `the dailyBytes limit of ${refusal.limit} bytes a user may upload per UTC day`;
  return new SignerError("quota_exceeded", `this upload needs ${bytes} bytes but ${refusal.left} are left of ${which} in profile "${profile.name}"`);
}

/** 501 ledger_off: the host has no store for the ledger. */
export function ledgerOff(): SignerError {
  return new SignerError("ledger_off", "quotas and file listings are off: this host has no ledger store (Workers: the LEDGER Durable Object; Node/SCF: REDIS_URL, or LEDGER_SQLITE_PATH for one instance)");
}

/** Quotas and moderation states need a store: a profile that sets one on a host without a ledger is misconfigured. */
export function checkQuotasHaveStore(profiles: Iterable<UploadProfile>): void {
  for (const profile of profiles) {
    if (profile.moderation !== "off") {
      throw new ConfigError(profile.name === "default" ? "UPLOAD_MODERATION" : `UPLOAD_PROFILES.${profile.name}.moderation`, "needs a ledger store, and this host has none (Workers: the LEDGER and MODERATION Durable Objects; Node/SCF: set REDIS_URL, or LEDGER_SQLITE_PATH for one instance)");
    }
    for (const field of ["quotaBytes", "dailyBytes"] as const) {
      if (profile[field] !== undefined) {
        const variable = profile.name === "default" ? (field === "quotaBytes" ? "UPLOAD_QUOTA_BYTES" : "UPLOAD_DAILY_BYTES") : `UPLOAD_PROFILES.${profile.name}.${field}`;
        throw new ConfigError(variable, "needs a ledger store, and this host has none (Workers: the LEDGER Durable Object; Node/SCF: set REDIS_URL, or LEDGER_SQLITE_PATH for one instance)");
      }
    }
  }
}

/** What COS holds under an unsettled key: its size and type, or null when nothing is there. */
export async function storedObject(profile: UploadProfile, key: string): Promise<{ size: number; contentType: string | null } | null> {
  try {
    const head = await callCos(profile, { method: "HEAD", key });
    return { size: Number(head.headers.get("content-length")), contentType: head.headers.get("content-type") };
  } catch (error) {
    if (error instanceof SignerError && error.code === "object_not_found") return null;
    throw error;
  }
}

/** The state an object takes when it is settled in this profile. */
export const settledState = (profile: UploadProfile): SettledState => (profile.moderation === "off" ? "stored" : "pending");

/**
 * Settles one expired reservation with the truth: present → commit its real size (and type), absent → release.
 * `onPending` submits the moderation check of an object that became pending.
 */
export async function settle(
  ledger: Pick<UserLedger, "commit" | "release">,
  profile: UploadProfile,
  key: string,
  contentType: string,
  now: number,
  onPending?: (key: string, contentType: string) => Promise<void>,
): Promise<void> {
  const stored = await storedObject(profile, key);
  if (stored === null) return ledger.release(key);
  const type = stored.contentType ?? contentType;
  const before = await ledger.commit(key, stored.size, type, now, settledState(profile));
  if (before === "reserved" && settledState(profile) === "pending") await onPending?.(key, type);
}

/**
 * Settles the reservations a sweep claimed (redis.ts, sqlite.ts), one after another; the number settled. One whose
 * profile left the configuration, or no longer on the books, can only be dropped.
 */
export async function settleClaimed(
  ledger: Ledger,
  profiles: ReadonlyMap<string, UploadProfile>,
  claimed: Iterable<{ readonly profile: string; readonly user: string; readonly key: string }>,
  now: number,
  onPending?: (profile: UploadProfile, user: string, key: string, contentType: string) => Promise<void>,
): Promise<number> {
  let settled = 0;
  for (const { profile: profileName, user, key } of claimed) {
    const profile = profiles.get(profileName);
    const books = ledger.of(profileName, user);
    const found = await books.get(key);
    if (!profile || !found) {
      await books.release(key);
    } else {
      await settle(books, profile, key, found.contentType, now, onPending && ((settledKey, contentType) => onPending(profile, user, settledKey, contentType)));
    }
    settled++;
  }
  return settled;
}
