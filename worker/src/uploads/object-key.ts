/**
 * Object keys are chosen here, never by the client ("Practice of Direct Upload", 436/30934: the server picks a random,
 * dated path so uploads cannot overwrite each other or escape their prefix).
 */
import { toHex } from "../cos/index.js";
import { InvalidRequestError } from "../http/errors.js";

const EXTENSION = /^[a-z0-9]{1,10}$/;

/** The suffix as the client sent it (`jpg`, `JPG` or `.jpg`) → the lowercase extension, if it is allowed. */
export function normalizeExtension(raw: unknown, allowed: ReadonlySet<string>): string {
  if (typeof raw !== "string" || raw === "") {
    throw new InvalidRequestError("ext_invalid", "ext is required: the file suffix, such as jpg");
  }
  const ext = raw.startsWith(".") ? raw.slice(1).toLowerCase() : raw.toLowerCase();
  if (!EXTENSION.test(ext)) {
    throw new InvalidRequestError("ext_invalid", "ext must be 1 to 10 letters or digits, such as jpg");
  }
  if (!allowed.has(ext)) {
    throw new InvalidRequestError("ext_not_allowed", `ext "${ext}" is not allowed; allowed: ${[...allowed].join(", ")}`);
  }
  return ext;
}

/** `<prefix>/<YYYY>/<MM>/<DD>/<128 random bits as hex>.<ext>`, dated in UTC. */
export function newObjectKey(prefix: string, ext: string, now: Date, random: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): string {
  if (random.length < 16) throw new RangeError("an object key needs at least 128 random bits");
  const date = now.toISOString().slice(0, 10).replaceAll("-", "/");
  const name = `${date}/${toHex(random)}.${ext}`;
  return prefix ? `${prefix}/${name}` : name;
}

/** Key prefix for a caller: the profile's prefix, then the user's segment when sessions are on. */
export function keyPrefixFor(profile: { readonly keyPrefix: string }, user = ""): string {
  return [profile.keyPrefix, user].filter((part) => part !== "").join("/");
}
