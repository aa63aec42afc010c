/**
 * Content moderation: an object settled in a moderated profile is `pending` until a check passes it, and only
 * `stored` objects are served. The check: WeChat's mediaCheckAsync v2 (images and audio, profile `moderation =
 * "wechat"`; its verdict arrives as a message push, routes/wechat-push.ts) or a COS moderation job (video, what
 * WeChat cannot take, and everything in `moderation = "cos"`). Verdicts: pass → stored, risky → blocked (and the
 * object made private on COS), review → review. Each verdict goes to the receipt webhook as a signed event.
 */
import { sign } from "hono/jwt";
import type { SignerConfig, UploadProfile } from "../config/index.js";
import { callCos } from "../cos-api/client.js";
import { ModerationError, SignerError } from "../http/errors.js";
import { hmacKey } from "../auth/hmac-keys.js";
import { type Ledger, type LedgerState, settledState, type UserLedger } from "../ledger/index.js";
import { deliverToWebhook, MAX_READ_SECONDS, RECEIPT_TTL_SECONDS, readUrl } from "../objects/objects.js";
import { MediaCheckRefused, mediaCheckAsync, type TokenSource, type WechatApp } from "../wechat/api.js";
import { type AuditKind, auditJobVerdict, submitAuditJob } from "./cos-audit.js";
import { openOpenid } from "./openid.js";

export type Verdict = "pass" | "risky" | "review";
/** What can arrive for a check: WeChat's verdict, or COS's word that its job ended ("ask": read the verdict back). */
export type EarlyWord = Verdict | "ask";
export const VERDICT_STATES = { pass: "stored", risky: "blocked", review: "review" } as const satisfies Record<Verdict, LedgerState>;
export const MODERATION_AUDIENCE = "cos-edge-signer/moderation";

/** The object a check is about. */
export interface CheckTarget {
  readonly profile: string;
  readonly user: string;
  readonly key: string;
}

/**
 * The moderation desk of one Mini Program (appid): its access token, and the checks in flight by id (`wx:<trace_id>`,
 * `cos:<JobId>`). Workers: a Durable Object per appid; Node: Redis, or the SQLite file of a single instance. Shared by
 * every instance.
 */
export interface ModerationDesk extends TokenSource {
  /** Records a submitted check; what already arrived for it, if anything (the check is then claimed at once). */
  track(checkId: string, target: CheckTarget): Promise<EarlyWord | undefined>;
  /**
   * The check's object, once: undefined for one already claimed (a duplicate push) or not tracked yet — then `word`
   * is kept for its `track`, since a verdict can outrun the submission's own bookkeeping.
   */
  claim(checkId: string, word: EarlyWord): Promise<CheckTarget | undefined>;
  /** Gives a claimed check back when its verdict could not be applied, so WeChat's next try is taken. */
  unclaim(checkId: string): Promise<void>;
}

export interface Moderation {
  readonly config: SignerConfig;
  readonly ledger: Ledger;
  readonly desk: ModerationDesk;
}

/** What moderation needs of the host: undefined without a ledger or a desk (then configOf refuses moderated profiles). */
export function moderationFor(host: { readonly ledger?: Ledger | undefined; readonly desk?: ModerationDesk | undefined }, config: SignerConfig): Moderation | undefined {
  return host.ledger && host.desk ? { config, ledger: host.ledger, desk: host.desk } : undefined;
}

/** The WeChat app whose token the desk keeps, when sessions are WeChat's. */
export function wechatAppOf(config: SignerConfig): WechatApp | undefined {
  const auth = config.auth;
  return auth.mode === "wechat" ? { appId: auth.appId, appSecret: auth.appSecret, apiOrigin: auth.wechatApiOrigin } : undefined;
}

type CheckRoute = { readonly via: "wechat"; readonly mediaType: 1 | 2 } | { readonly via: "cos"; readonly kind: AuditKind } | { readonly via: "human" };

/** mediaCheckAsync takes jpg, png, bmp and gif images and audio; COS takes images, video and audio. */
function routeOf(profile: UploadProfile, contentType: string): CheckRoute {
  const family = contentType.split("/")[0];
  if (profile.moderation === "wechat") {
    if (/^image\/(jpeg|pjpeg|png|gif|bmp)$/.test(contentType)) return { via: "wechat", mediaType: 2 };
    if (family === "audio") return { via: "wechat", mediaType: 1 };
  }
  if (family === "image" || family === "video" || family === "audio") return { via: "cos", kind: family };
  // A PDF or a text file: nothing automatic checks it.
  return { via: "human" };
}

const log = (level: "warn" | "info", code: string, message: string) => console[level === "warn" ? "warn" : "log"](JSON.stringify({ level, code, message }));

/**
 * Submits the check of a pending object and records what it waits for; the object's state after (still pending, or
 * review when nothing can check it). A check WeChat refuses for now (its limits) leaves the object pending and
 * unsubmitted: the next receipt of it submits again. An openid WeChat no longer takes (61010: not seen in 2 hours)
 * sends the object to COS moderation instead.
 */
export async function submitCheck(
  m: Pick<Moderation, "config" | "desk">,
  books: Pick<UserLedger, "moderate">,
  profile: UploadProfile,
  user: string,
  key: string,
  contentType: string,
  sealedOpenid: string | undefined,
): Promise<LedgerState> {
  let route = routeOf(profile, contentType);
  let checkId: string | undefined;
  if (route.via === "wechat") {
    const app = wechatAppOf(m.config);
    const sessionSecret = m.config.auth.mode === "wechat" ? m.config.auth.sessionSecret : "";
    const openid = sealedOpenid === undefined ? undefined : await openOpenid(sessionSecret, user, sealedOpenid);
    if (!app || openid === undefined) {
      route = routeOf({ ...profile, moderation: "cos" }, contentType);
    } else {
      // The URL must outlive the check: WeChat fetches it within 30 minutes.
      const { url } = await readUrl(profile, key, MAX_READ_SECONDS, undefined, new Date());
      try {
        checkId = `wx:${await mediaCheckAsync(app, m.desk, { mediaUrl: url, mediaType: route.mediaType, openid, scene: profile.moderationScene })}`;
      } catch (error) {
        if (!(error instanceof MediaCheckRefused)) throw error;
        if (error.reason === "rate_limited") {
          log("warn", "moderation_deferred", `WeChat refused the check for now (errcode ${error.errcode}): the object stays pending; a receipt submits it again`);
          return "pending";
        }
        log("info", "moderation_rerouted", `WeChat refused the check (errcode ${error.errcode}): sent to COS moderation`);
        route = routeOf({ ...profile, moderation: "cos" }, contentType);
      }
    }
  }
  let jobId: string | undefined;
  if (route.via === "cos") checkId = `cos:${(jobId = await submitAuditJob(profile, route.kind, key, m.config.moderation.callbackUrl!))}`;
  if (checkId === undefined) {
    await books.moderate(key, "review");
    return "review";
  }
  const target = { profile: profile.name, user, key };
  const early = await m.desk.track(checkId, target);
  await books.moderate(key, "pending", checkId);
  if (early === undefined) return "pending";
  // The verdict came before the check was on the desk (a fast push or callback): applied now.
  const verdict = early === "ask" && route.via === "cos" ? await auditJobVerdict(profile, route.kind, jobId!) : early === "ask" ? undefined : early;
  if (verdict === undefined) {
    await m.desk.unclaim(checkId);
    return "pending";
  }
  const { delivery } = await applyClaimed(m, books, checkId, target, verdict, "moderation");
  await delivery;
  return VERDICT_STATES[verdict];
}

/**
 * Commits an uploaded object (receipt, multipart complete) and, the first time it settles in a moderated profile,
 * submits its check; the object's state. Without a ledger: stored, unmoderated (a moderated profile needs a store).
 */
export async function settleUpload(
  m: Moderation | undefined,
  books: UserLedger | undefined,
  profile: UploadProfile,
  user: string,
  object: { key: string; size: number; contentType: string },
  sealedOpenid: string | undefined,
): Promise<LedgerState> {
  if (!books) return "stored";
  const state = settledState(profile);
  const before = await books.commit(object.key, object.size, object.contentType, Date.now(), state);
  if (state === "stored" || !m) return before === undefined || before === "reserved" ? "stored" : before;
  if (before === undefined || before === "reserved") return submitCheck(m, books, profile, user, object.key, object.contentType, sealedOpenid ?? (await books.checkOf(object.key))?.sealedOpenid);
  // A pending object whose check WeChat deferred: submitted again now.
  if (before === "pending" && (await books.checkOf(object.key))?.checkId === undefined) return submitCheck(m, books, profile, user, object.key, object.contentType, sealedOpenid);
  return before;
}

/** Refuses to serve what moderation has not passed: 403 moderation_pending / _review / _blocked. */
export async function checkServable(books: UserLedger | undefined, profile: UploadProfile, key: string): Promise<void> {
  if (profile.moderation === "off" || !books) return;
  const state = (await books.get(key))?.state;
  if (state === "stored") return;
  if (state === "review") throw new ModerationError("moderation_review", "this object waits for a human's review of its content");
  if (state === "blocked") throw new ModerationError("moderation_blocked", "this object's content was blocked by moderation; it is never served");
  // Pending, or not settled yet (reserved, or not on the books): uploaded bytes no check has passed.
  if (!profile.moderationOwnerRead) throw new ModerationError("moderation_pending", "this object is waiting for its content check; ask again when it passed");
}

/** Temporary keys read every object of the user's space, pending and blocked ones too. */
export function checkNoTemporaryKeys(profile: UploadProfile): void {
  if (profile.moderation !== "off") {
    throw new SignerError("operation_not_allowed", `temporary keys would read objects that moderation has not passed in profile "${profile.name}": use POST /v1/cos/authorization`);
  }
}

/**
 * A blocked object is made private on COS, so that a public-read bucket does not serve it either. Signed with the
 * read pair, which signs no client's PUT: a write pair allowed PutObjectACL would let an upload signature carry one.
 */
async function quarantine(profile: UploadProfile, key: string): Promise<void> {
  try {
    await callCos(profile, { method: "PUT", key, query: { acl: "" }, headers: { "x-cos-acl": "private" }, readPair: true });
  } catch (error) {
    log("warn", "moderation_quarantine_failed", `the blocked object could not be made private on COS (${error instanceof SignerError ? error.code : "error"}); the signer still serves it to no one`);
  }
}

/** The signed `moderation` event for the receipt webhook: HS256 with RECEIPT_SECRET, like receipts. */
async function moderationEvent(secret: string, target: CheckTarget, state: LedgerState, now: Date): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const claims = { iss: "cos-edge-signer", aud: MODERATION_AUDIENCE, event: "moderation", key: target.key, profile: target.profile, ...(target.user ? { sub: target.user } : {}), state, iat, exp: iat + RECEIPT_TTL_SECONDS };
  return sign(claims, await hmacKey(secret), "HS256");
}

/**
 * Applies a verdict to the object its check is about, once per check: duplicates and unknown checks are ignored
 * (false). The webhook delivery, if any, is returned for the host to finish after the answer.
 */
export async function applyVerdict(m: Moderation, checkId: string, verdict: Verdict, requestId: string): Promise<{ applied: boolean; delivery?: Promise<void> }> {
  const target = await m.desk.claim(checkId, verdict);
  return target ? applyClaimed(m, m.ledger.of(target.profile, target.user), checkId, target, verdict, requestId) : { applied: false };
}

async function applyClaimed(
  m: Pick<Moderation, "config" | "desk">,
  books: Pick<UserLedger, "moderate">,
  checkId: string,
  target: CheckTarget,
  verdict: Verdict,
  requestId: string,
): Promise<{ applied: boolean; delivery?: Promise<void> }> {
  const state = VERDICT_STATES[verdict];
  try {
    if (!(await books.moderate(target.key, state))) return { applied: false };
  } catch (error) {
    await m.desk.unclaim(checkId);
    throw error;
  }
  const profile = m.config.profiles.get(target.profile);
  if (state === "blocked" && profile) await quarantine(profile, target.key);
  const receipts = m.config.receipts;
  if (!receipts?.webhookUrl) return { applied: true };
  const event = await moderationEvent(receipts.secret, target, state, new Date());
  return { applied: true, delivery: deliverToWebhook(receipts.webhookUrl, { event: "moderation", moderation: event }, requestId) };
}

/**
 * A COS job's callback. Only a job this signer submitted and has not settled is looked at (anything else costs no
 * call to COS), and its verdict is read back from COS — the callback itself is not believed — then applied.
 */
export async function applyAuditCallback(m: Moderation, kind: AuditKind, jobId: string, requestId: string): Promise<{ applied: boolean; delivery?: Promise<void> }> {
  const checkId = `cos:${jobId}`;
  const target = await m.desk.claim(checkId, "ask");
  if (!target) return { applied: false };
  const profile = m.config.profiles.get(target.profile);
  let verdict: Verdict | undefined;
  try {
    verdict = profile && (await auditJobVerdict(profile, kind, jobId));
  } catch (error) {
    await m.desk.unclaim(checkId);
    throw error;
  }
  if (!verdict) {
    // Still running (or COS does not know it): the job's next callback tries again.
    await m.desk.unclaim(checkId);
    return { applied: false };
  }
  return applyClaimed(m, m.ledger.of(target.profile, target.user), checkId, target, verdict, requestId);
}
