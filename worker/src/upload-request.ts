/** What a client asks for — profile, suffix, method, size, type — checked field by field, each mistake with its code. */
import { DEFAULT_PROFILE, type SignerConfig, type UploadMethod, type UploadProfile } from "./config.js";
import { InvalidRequestError } from "./errors.js";
import { mediaTypeOf } from "./media-types.js";
import { normalizeExtension } from "./object-key.js";

export interface UploadRequest {
  readonly profile: UploadProfile;
  readonly ext: string;
  readonly method: UploadMethod;
  readonly size?: number;
  readonly contentType?: string;
  readonly contentTypePrefix?: string;
}

const FIELDS = new Set(["profile", "ext", "method", "size", "contentType"]);
// type/subtype, RFC 9110 token characters, no parameters.
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

/** The named profile (default: `default`), or 400 unknown_profile. */
export function resolveProfile(config: SignerConfig, name: unknown): UploadProfile {
  const wanted = name === undefined ? DEFAULT_PROFILE : name;
  const profile = typeof wanted === "string" ? config.profiles.get(wanted) : undefined;
  if (!profile) {
    const known = [...config.profiles.keys()].join(", ");
    throw new InvalidRequestError("unknown_profile", `${typeof wanted === "string" ? `profile "${wanted.slice(0, 40)}" does not exist` : "profile must be a name"}; profiles: ${known}`);
  }
  return profile;
}

/** Refuses a method the profile does not allow. */
export function checkMethod(profile: UploadProfile, method: UploadMethod): void {
  if (!profile.methods.has(method)) {
    throw new InvalidRequestError("method_invalid", `profile "${profile.name}" allows only ${[...profile.methods].join(" and ")}`);
  }
}

export function parseUploadRequest(body: unknown, config: SignerConfig): UploadRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequestError("body_invalid", 'the body must be a JSON object such as {"ext":"jpg","method":"put"}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !FIELDS.has(name));
  if (unknown !== undefined) {
    throw new InvalidRequestError("body_invalid", `unknown field "${unknown.slice(0, 40)}"; expected profile, ext, method, size, contentType`);
  }
  const profile = resolveProfile(config, fields.profile);
  const ext = normalizeExtension(fields.ext, profile.allowedExtensions);
  const method = parseMethod(fields.method);
  checkMethod(profile, method);
  const size = parseSize(fields.size, profile.maxBytes);
  return { profile, ext, method, ...(size === undefined ? {} : { size }), ...parseContentType(fields.contentType, ext, profile) };
}

function parseMethod(value: unknown): UploadMethod {
  if (value === undefined) return "put";
  if (value === "put" || value === "post") return value;
  throw new InvalidRequestError("method_invalid", 'method must be "put" (wx.request) or "post" (wx.uploadFile)');
}

function parseSize(value: unknown, maxBytes: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError("size_invalid", "size must be the file's size in bytes: a whole number, 0 or more");
  }
  if (value > maxBytes) throw new InvalidRequestError("file_too_large", `size ${value} is over the limit of ${maxBytes} bytes`);
  return value;
}

function allowedBy(rule: string, type: string): boolean {
  return rule.endsWith("/*") ? type.startsWith(rule.slice(0, -1)) : type === rule;
}

/**
 * The declared type, or the suffix's usual one, within the profile's rules. A type of another family than the
 * suffix's is refused; with no type at all, a single `type/*` rule still binds the prefix.
 */
function parseContentType(value: unknown, ext: string, profile: UploadProfile): { contentType?: string; contentTypePrefix?: string } {
  const usual = mediaTypeOf(ext);
  if (value !== undefined && (typeof value !== "string" || !MEDIA_TYPE.test(value.toLowerCase()))) {
    throw new InvalidRequestError("content_type_invalid", "contentType must be a media type such as image/jpeg, without parameters");
  }
  const type = value === undefined ? usual : value.toLowerCase();
  const rules = profile.contentTypes;
  if (type === undefined) {
    if (rules.length === 0) return {};
    if (rules.length === 1 && rules[0]!.endsWith("/*")) return { contentTypePrefix: rules[0]!.slice(0, -1) };
    throw new InvalidRequestError("content_type_not_allowed", `declare contentType: profile "${profile.name}" allows ${rules.join(", ")}`);
  }
  // A .jpg stored as text/html would be served as a page from the bucket's domain.
  if (usual !== undefined && type.split("/")[0] !== usual.split("/")[0]) {
    throw new InvalidRequestError("content_type_mismatch", `contentType ${type} does not fit a .${ext} file (expected ${usual.split("/")[0]}/*)`);
  }
  if (rules.length > 0 && !rules.some((rule) => allowedBy(rule, type))) {
    throw new InvalidRequestError("content_type_not_allowed", `contentType ${type} is not allowed by profile "${profile.name}"; allowed: ${rules.join(", ")}`);
  }
  return { contentType: type };
}
