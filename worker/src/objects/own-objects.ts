/**
 * The routes about one of the caller's own objects: its receipt, a read URL, its deletion, and the caller's lists and
 * usage from the ledger.
 */
import type { SignerConfig, UploadProfile } from "../config/index.js";
import { SignerError } from "../http/errors.js";
import { keyPrefixFor } from "../uploads/object-key.js";
import { booksOf, type Caller, requiredBooks } from "../uploads/reserve.js";
import { resolveProfile } from "../uploads/request.js";
import { checkReads, deleteObject, deliverReceipt, objectFacts, ownKey, readUrl, receiptFor } from "./objects.js";
import { checkServable, moderationFor, settleUpload } from "../moderation/index.js";

/** A request naming one object: its key and, if not `default`, its profile. */
export interface ObjectNamed {
  readonly key: string;
  readonly profile?: string | undefined;
}

/** The profile and the key of a request about one of the caller's own objects: 400 key_invalid, 403 key_not_allowed. */
function ownObject(caller: Caller, config: SignerConfig, request: ObjectNamed): { profile: UploadProfile; key: string } {
  const profile = resolveProfile(config, request.profile);
  return { profile, key: ownKey(request.key, keyPrefixFor(profile, caller.user)) };
}

/** 404 receipts_off: the deployment has no RECEIPT_SECRET. */
export const receiptsOff = () => new SignerError("receipts_off", "receipts are off: set the RECEIPT_SECRET secret");

/**
 * `POST /v1/uploads/receipt`: what COS holds under the key, committed to the books and signed as a receipt; with a
 * webhook, `delivery` posts it there (after the answer).
 */
export async function receiptOf(caller: Caller, config: SignerConfig, request: ObjectNamed, now: Date, requestId: string) {
  const receipts = config.receipts;
  if (!receipts) throw receiptsOff();
  const { profile, key } = ownObject(caller, config, request);
  const facts = await objectFacts(profile, key, caller.user);
  const moderation = await settleUpload(moderationFor(caller, config), booksOf(caller, profile), profile, caller.user, facts, caller.sealedOpenid);
  const { receipt, expiresAt } = await receiptFor(facts, receipts.secret, now);
  const delivery = receipts.webhookUrl ? deliverReceipt(receipts.webhookUrl, receipt, requestId) : undefined;
  return { answer: { ...facts, receipt, expiresAt, ...(profile.moderation === "off" ? {} : { moderation }) }, delivery };
}

/** `POST /v1/objects/url`: a presigned GET of the caller's object, for profiles with `read = "owner"`. */
export async function readUrlOf(caller: Caller, config: SignerConfig, request: ObjectNamed & { expiresIn: number; process?: string | undefined }, now: Date) {
  const { profile, key } = ownObject(caller, config, request);
  checkReads(profile);
  await checkServable(booksOf(caller, profile), profile, key);
  return { key, ...(await readUrl(profile, key, request.expiresIn, request.process, now)) };
}

/** `POST /v1/objects/list`: a page of the caller's objects in a profile. */
export function listObjects(caller: Caller, config: SignerConfig, request: { profile?: string | undefined; cursor?: string | undefined; limit: number }) {
  return requiredBooks(caller, resolveProfile(config, request.profile)).list(request.cursor, request.limit);
}

/** `POST /v1/objects/delete`: one of the caller's objects, from COS and from the books. */
export async function deleteOwnObject(caller: Caller, config: SignerConfig, request: ObjectNamed) {
  const { profile, key } = ownObject(caller, config, request);
  const books = requiredBooks(caller, profile);
  const held = await books.get(key);
  if (!held) throw new SignerError("object_not_found", "you have no object with this key");
  await deleteObject(profile, key);
  // A reservation's signature may still upload: its bytes stay held until the ledger settles it after expiry.
  if (held.state !== "reserved") await books.remove(key);
  return { deleted: true };
}

/** `GET /v1/usage`: the caller's bytes in every profile, beside the profile's limits. */
export async function usageOf(caller: Caller, config: SignerConfig, now: Date) {
  const profiles = await Promise.all(
    [...config.profiles.values()].map(async (profile) => ({
      profile: profile.name,
      ...(await requiredBooks(caller, profile).usage(now.getTime())),
      quotaBytes: profile.quotaBytes ?? null,
      dailyBytes: profile.dailyBytes ?? null,
    })),
  );
  return { profiles };
}
