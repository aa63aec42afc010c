/**
 * The ledger on the Node/SCF host: Redis (REDIS_URL), shared by every instance. Each change is one Lua script, which
 * Redis runs alone, so a reservation is atomic across instances. Per profile and user, under `ledger:{<profile>/<user>}`:
 * `:objects` (hash key → entry JSON), `:newest` (sorted by `sortKey`, for the list), `:totals` (used, reserved, files),
 * `:day:<YYYY-MM-DD>` (bytes signed that day, kept two days). `ledger:due` holds every reservation by its expiry, for
 * the sweep that settles those nobody settled; an instance claims a batch by moving it a lease ahead, so instances
 * never settle the same entry at once, and an instance that dies mid-batch leaves it to another when the lease ends.
 */
import { createHash } from "node:crypto";
import type { createClient } from "redis";
import type { UploadProfile } from "../config/index.js";
import { dayOf, type Ledger, type LedgerObject, type LedgerState, type LimitName, type Page, type ReserveResult, SETTLE_DELAY_MS, checkSortCursor, settleClaimed, sortKey, type UserLedger } from "./books.js";

export type RedisClient = ReturnType<typeof createClient>;

const DUE = "ledger:due";
/** How long an instance holds a claimed batch before another may take it. */
const LEASE_MS = 120_000;
const DAY_SECONDS_KEPT = 2 * 86_400;

interface Entry {
  profile: string;
  user: string;
  bytes: number;
  contentType: string;
  createdAt: number;
  day: string;
  state: LedgerState;
  /** The uploader's sealed openid (moderation/openid.ts), never answered; the moderation check it waits for. */
  sealedOpenid?: string;
  checkId?: string;
}

/**
 * KEYS objects newest totals today due; ARGV key, entry JSON (bytes 0), bytes, shrink, quota, daily, sortKey, expiresAt,
 * due member. {1, bytes}: granted (or still reserved); {0, left, limit, 1 quota | 2 daily}: refused; {2, 0, 0, state}: settled.
 */
const RESERVE = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local held = cjson.decode(existing)
  if held.state == 'reserved' then return {1, held.bytes, 0, 0} end
  return {2, 0, 0, held.state}
end
local used = tonumber(redis.call('HGET', KEYS[3], 'used') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[3], 'reserved') or '0')
local today = tonumber(redis.call('GET', KEYS[4]) or '0')
local wanted = tonumber(ARGV[3])
local quota, daily = tonumber(ARGV[5]), tonumber(ARGV[6])
local leftQuota = quota >= 0 and quota - used - reserved or math.huge
local leftDaily = daily >= 0 and daily - today or math.huge
local left = math.max(0, math.min(leftQuota, leftDaily))
local bytes = wanted
if ARGV[4] == '1' then bytes = math.min(wanted, left) end
if bytes > left or (bytes == 0 and wanted > 0) then
  if leftQuota <= leftDaily then return {0, left, quota, 1} end
  return {0, left, daily, 2}
end
local entry = cjson.decode(ARGV[2])
entry.bytes = bytes
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
redis.call('ZADD', KEYS[2], 0, ARGV[7])
redis.call('HINCRBY', KEYS[3], 'reserved', bytes)
redis.call('INCRBY', KEYS[4], bytes)
redis.call('EXPIRE', KEYS[4], ${DAY_SECONDS_KEPT})
redis.call('ZADD', KEYS[5], ARGV[8], ARGV[9])
return {1, bytes, 0, 0}
`;

/** KEYS objects newest totals due; ARGV key, size, entry JSON if new, sortKey if new, day prefix, due member; the state before ('' when new). */
const COMMIT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local size = tonumber(ARGV[2])
if not raw then
  local entry = cjson.decode(ARGV[3])
  entry.bytes = size
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
  redis.call('ZADD', KEYS[2], 0, ARGV[4])
  redis.call('HINCRBY', KEYS[3], 'used', size)
  redis.call('HINCRBY', KEYS[3], 'files', 1)
  return ''
end
local entry = cjson.decode(raw)
local before = entry.state
if entry.state == 'reserved' then
  redis.call('HINCRBY', KEYS[3], 'reserved', -entry.bytes)
  redis.call('HINCRBY', KEYS[3], 'used', size)
  redis.call('HINCRBY', KEYS[3], 'files', 1)
  local day = ARGV[5] .. entry.day
  if redis.call('EXISTS', day) == 1 then redis.call('INCRBY', day, size - entry.bytes) end
  redis.call('ZREM', KEYS[4], ARGV[6])
  entry.state = cjson.decode(ARGV[3]).state
else
  redis.call('HINCRBY', KEYS[3], 'used', size - entry.bytes)
end
entry.bytes = size
entry.contentType = cjson.decode(ARGV[3]).contentType
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return before
`;

/** KEYS objects; ARGV key, state, check id ('' keeps it): 0 when the key is not a settled object. */
const MODERATE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if entry.state == 'reserved' then return 0 end
entry.state = ARGV[2]
if ARGV[3] ~= '' then entry.checkId = ARGV[3] end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return 1
`;

/** KEYS objects newest totals due; ARGV key, day prefix, due member, only-reserved ('1' release, '0' remove). */
const DROP = `
redis.call('ZREM', KEYS[4], ARGV[3])
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if ARGV[4] == '1' and entry.state ~= 'reserved' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], string.format('%013d', entry.createdAt) .. ':' .. ARGV[1])
if entry.state == 'reserved' then
  redis.call('HINCRBY', KEYS[3], 'reserved', -entry.bytes)
  local day = ARGV[2] .. entry.day
  if ARGV[4] == '1' and redis.call('EXISTS', day) == 1 then redis.call('INCRBY', day, -entry.bytes) end
else
  redis.call('HINCRBY', KEYS[3], 'used', -entry.bytes)
  redis.call('HINCRBY', KEYS[3], 'files', -1)
end
return 1
`;

/** KEYS due; ARGV cutoff, lease end, batch: the members due by the cutoff, each moved to the lease end. */
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
`;

const sha1 = (script: string) => createHash("sha1").update(script).digest("hex");
const SHAS = new Map([RESERVE, COMMIT, MODERATE, DROP, CLAIM].map((script) => [script, sha1(script)]));

/** Runs a script by its digest, sending it whole only when Redis does not have it (first use, after a restart). */
async function run(client: RedisClient, script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
  const options = { keys, arguments: args.map(String) };
  try {
    return await client.evalSha(SHAS.get(script)!, options);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
    return client.eval(script, options);
  }
}

const toObject = (key: string, entry: Entry): LedgerObject => ({
  key,
  size: entry.bytes,
  contentType: entry.contentType,
  createdAt: new Date(entry.createdAt).toISOString(),
  state: entry.state,
});

export function redisLedger(client: RedisClient): Ledger {
  return {
    of(profile, user): UserLedger {
      const base = `ledger:{${profile}/${user}}`;
      const objects = `${base}:objects`;
      const newest = `${base}:newest`;
      const totals = `${base}:totals`;
      const dayPrefix = `${base}:day:`;
      const dueMember = (key: string) => JSON.stringify([profile, user, key]);
      const entry = (contentType: string, createdAt: number, state: Entry["state"], sealedOpenid?: string): string =>
        JSON.stringify({ profile, user, bytes: 0, contentType, createdAt, day: dayOf(createdAt), state, ...(sealedOpenid === undefined ? {} : { sealedOpenid }) } satisfies Entry);
      return {
        async reserve(request): Promise<ReserveResult> {
          const { quotaBytes, dailyBytes } = request.limits;
          const [granted, bytes, limit, which] = (await run(
            client,
            RESERVE,
            [objects, newest, totals, `${dayPrefix}${dayOf(request.now)}`, DUE],
            [
              request.key,
              entry(request.contentType, request.now, "reserved", request.sealedOpenid),
              request.bytes,
              request.shrink ? 1 : 0,
              quotaBytes ?? -1,
              dailyBytes ?? -1,
              sortKey(request.now, request.key),
              request.expiresAt,
              dueMember(request.key),
            ],
          )) as [number, number, number, number | LedgerState];
          if (granted === 1) return { bytes };
          if (granted === 2) return { settled: which as LedgerState };
          return { refused: (which === 1 ? "quotaBytes" : "dailyBytes") satisfies LimitName, left: bytes, limit };
        },
        async commit(key, size, contentType, now, state = "stored") {
          const before = (await run(client, COMMIT, [objects, newest, totals, DUE], [key, size, entry(contentType, now, state), sortKey(now, key), dayPrefix, dueMember(key)])) as string;
          return before === "" ? undefined : (before as LedgerState);
        },
        async moderate(key, state, checkId) {
          return (await run(client, MODERATE, [objects], [key, state, checkId ?? ""])) === 1;
        },
        async checkOf(key) {
          const raw = await client.hGet(objects, key);
          if (!raw) return undefined;
          const { sealedOpenid, checkId } = JSON.parse(raw) as Entry;
          return { sealedOpenid, checkId };
        },
        async release(key) {
          await run(client, DROP, [objects, newest, totals, DUE], [key, dayPrefix, dueMember(key), 1]);
        },
        async get(key) {
          const raw = await client.hGet(objects, key);
          return raw ? toObject(key, JSON.parse(raw) as Entry) : undefined;
        },
        async list(cursor, limit): Promise<Page> {
          checkSortCursor(cursor);
          const members = await client.zRange(newest, cursor === undefined ? "+" : `(${cursor}`, "-", { BY: "LEX", REV: true, LIMIT: { offset: 0, count: limit + 1 } });
          const page = members.slice(0, limit);
          const keys = page.map((member) => member.slice(member.indexOf(":") + 1));
          const raws = keys.length === 0 ? [] : await client.hmGet(objects, keys);
          const objectsOnPage = keys.flatMap((key, i) => (raws[i] ? [toObject(key, JSON.parse(raws[i]!) as Entry)] : []));
          return { objects: objectsOnPage, ...(members.length > limit ? { cursor: page.at(-1)! } : {}) };
        },
        async remove(key) {
          return (await run(client, DROP, [objects, newest, totals, DUE], [key, dayPrefix, dueMember(key), 0])) === 1;
        },
        async usage(now) {
          const [used, reserved, files] = await client.hmGet(totals, ["used", "reserved", "files"]);
          const today = await client.get(`${dayPrefix}${dayOf(now)}`);
          return { usedBytes: Number(used ?? 0), reservedBytes: Number(reserved ?? 0), dailyUsedBytes: Number(today ?? 0), files: Number(files ?? 0) };
        },
      };
    },
  };
}

/**
 * Settles up to `batch` reservations whose signatures expired SETTLE_DELAY_MS before `now`, from a HEAD each; the
 * number settled. Safe to run on every instance at once.
 */
export async function settleDue(
  client: RedisClient,
  ledger: Ledger,
  profiles: ReadonlyMap<string, UploadProfile>,
  now: number,
  batch = 50,
  onPending?: (profile: UploadProfile, user: string, key: string, contentType: string) => Promise<void>,
): Promise<number> {
  const claimed = (await run(client, CLAIM, [DUE], [now - SETTLE_DELAY_MS, now + LEASE_MS, batch])) as string[];
  const due = claimed.map((member) => {
    const [profile, user, key] = JSON.parse(member) as [string, string, string];
    return { profile, user, key };
  });
  return settleClaimed(ledger, profiles, due, now, onPending);
}
