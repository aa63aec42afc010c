/**
 * The upload permissions the routes hand out: the seed's `GET /put-sign` and `/post-policy`, and `POST /v1/uploads`.
 * Each picks the key, reserves its bytes, then signs.
 */
import type { SignerConfig, UploadMethod } from "../config/index.js";
import { postDescriptor, putDescriptor, seedPostPolicy, seedPutSign, type PostDescriptor, type PutDescriptor } from "./descriptors.js";
import { keyPrefixFor, newObjectKey, normalizeExtension } from "./object-key.js";
import { type Caller, reserve, signatureExpiry } from "./reserve.js";
import { checkMethod, parseUploadRequest, resolveProfile } from "./request.js";

/** The seed routes' query: `ext`, and `profile` (default `default`) that must allow the method. */
export interface SeedQuery {
  readonly ext: string | undefined;
  readonly profile: string | undefined;
}

/** The seed's signatures bind no size: each reserves the profile's largest file, settled from a HEAD later. */
async function seedTerms(caller: Caller, config: SignerConfig, query: SeedQuery, method: UploadMethod, now: Date) {
  const profile = resolveProfile(config, query.profile);
  checkMethod(profile, method);
  const ext = normalizeExtension(query.ext, profile.allowedExtensions);
  const key = newObjectKey(keyPrefixFor(profile, caller.user), ext, now);
  await reserve(caller, profile, { key, bytes: profile.maxBytes, contentType: "application/octet-stream", expiresAt: signatureExpiry(profile, now) }, now);
  return { profile, key };
}

/** `GET /put-sign`. */
export async function seedPut(caller: Caller, config: SignerConfig, query: SeedQuery, now: Date) {
  const { profile, key } = await seedTerms(caller, config, query, "put", now);
  return seedPutSign(profile, key, now);
}

/** `GET /post-policy`. */
export async function seedPost(caller: Caller, config: SignerConfig, query: SeedQuery, now: Date) {
  const { profile, key } = await seedTerms(caller, config, query, "post", now);
  return seedPostPolicy(profile, key, now);
}

/** `POST /v1/uploads`: the checked request's key, reserved, signed for a PUT or a POST form. */
export async function issueUpload(caller: Caller, config: SignerConfig, body: unknown, now: Date): Promise<PutDescriptor | PostDescriptor> {
  const { profile, ext, method, ...bounds } = parseUploadRequest(body, config);
  const key = newObjectKey(keyPrefixFor(profile, caller.user), ext, now);
  // A POST without a size reserves what fits of the profile's limit, and its policy's range is narrowed to that.
  const reserved = await reserve(
    caller,
    profile,
    { key, bytes: bounds.size ?? profile.maxBytes, contentType: bounds.contentType, expiresAt: signatureExpiry(profile, now), shrink: bounds.size === undefined },
    now,
  );
  const terms = { key, ...bounds, ...(bounds.size === undefined ? { maxBytes: reserved } : {}) };
  return method === "put" ? putDescriptor(profile, terms, now) : postDescriptor(profile, terms, now);
}

/** What a client may know of each profile, to pick one and check files before asking; nothing about keys. */
export function profileSummaries(config: SignerConfig) {
  const profiles = [...config.profiles.values()].map((profile) => ({
    name: profile.name,
    extensions: [...profile.allowedExtensions],
    contentTypes: profile.contentTypes,
    maxBytes: profile.maxBytes,
    methods: [...profile.methods],
  }));
  return { profiles };
}
