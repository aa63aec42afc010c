/** What a client asks for — profile, suffix, method, size, type — checked field by field, each mistake with its code. */
import { DEFAULT_PROFILE, type SignerConfig, type UploadMethod, type UploadProfile } from "./config.js";
import { InvalidRequestError } from "./errors.js";
import { MEDIA_FAMILY, MEDIA_TYPE, mediaTypeOf } from "./media-types.js";
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
  return { profile, ext, method, ...(size === undefined ? {} : { size }), ...parseContentType(fields.contentType, ext, profile, method) };
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
 * The declared type — exact (`image/png`: POST binds it with eq, PUT signs it) or a family (`image/*`: POST binds it
 * with starts-with, the client sends the file's own type) — or else the suffix's usual type, within the profile's
 * rules. A type of another family than the suffix's is refused.
 */
function parseContentType(value: unknown, ext: string, profile: UploadProfile, method: UploadMethod): { contentType?: string; contentTypePrefix?: string } {
  const usual = mediaTypeOf(ext);
  const usualFamily = usual?.split("/")[0];
  // A .jpg stored as text/html would be served as a page from the bucket's domain.
  const mismatch = (declaredType: string) =>
    new InvalidRequestError("content_type_mismatch", `contentType ${declaredType} does not fit a .${ext} file (expected ${usualFamily}/*)`);
  const declared = typeof value === "string" ? value.toLowerCase() : value;
  if (declared !== undefined && (typeof declared !== "string" || !(MEDIA_TYPE.test(declared) || MEDIA_FAMILY.test(declared)))) {
    throw new InvalidRequestError("content_type_invalid", "contentType must be a media type such as image/jpeg (or image/* for a POST), without parameters");
  }
  const rules = profile.contentTypes;
  if (declared !== undefined && MEDIA_FAMILY.test(declared)) {
    if (method === "put") throw new InvalidRequestError("content_type_invalid", "a PUT signs one exact contentType, such as image/jpeg");
    const prefix = declared.slice(0, -1);
    if (usualFamily !== undefined && `${usualFamily}/` !== prefix) throw mismatch(declared);
    if (rules.length > 0 && !rules.some((rule) => rule === declared)) {
      throw new InvalidRequestError("content_type_not_allowed", `contentType ${declared} is wider than profile "${profile.name}" allows: ${rules.join(", ")}`);
    }
    return { contentTypePrefix: prefix };
  }
  const type = declared ?? usual;
  if (type === undefined) {
    if (rules.length === 0) return {};
    throw new InvalidRequestError("content_type_not_allowed", `declare contentType: profile "${profile.name}" allows ${rules.join(", ")}`);
  }
  if (usualFamily !== undefined && type.split("/")[0] !== usualFamily) throw mismatch(type);
  if (rules.length > 0 && !rules.some((rule) => allowedBy(rule, type))) {
    throw new InvalidRequestError("content_type_not_allowed", `contentType ${type} is not allowed by profile "${profile.name}"; allowed: ${rules.join(", ")}`);
  }
  return { contentType: type };
}
