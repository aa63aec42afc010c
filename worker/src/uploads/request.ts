/** What a client asks for — profile, suffix, method, size, type — checked field by field, each mistake with its code. */
import { DEFAULT_PROFILE, type SignerConfig, type UploadMethod, type UploadProfile } from "../config/index.js";
import { InvalidRequestError } from "../http/errors.js";
import { ACTIVE_MEDIA_TYPE, DEFAULT_MEDIA_TYPE, MEDIA_FAMILY, MEDIA_TYPE, mediaTypesOf, ruleAllows } from "./media-types.js";
import { normalizeExtension } from "./object-key.js";
import { MultipartRequest, parseBody, UploadRequest } from "../schemas/requests.js";

export interface UploadRequest {
  readonly profile: UploadProfile;
  readonly ext: string;
  readonly method: UploadMethod;
  /** Exact byte size; always present for a PUT, whose signature binds it. */
  readonly size?: number;
  readonly contentType: string;
}

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
  const fields = parseBody(UploadRequest, body, '{"ext":"jpg","method":"put","size":1234}');
  const profile = resolveProfile(config, fields.profile);
  const ext = normalizeExtension(fields.ext, profile.allowedExtensions);
  const method = fields.method ?? "put";
  checkMethod(profile, method);
  const size = parseSize(fields.size, profile.multipart ? Math.max(profile.maxBytes, profile.multipartMaxBytes) : profile.maxBytes);
  if (size !== undefined && profile.multipart && (size > profile.multipartThreshold || size > profile.maxBytes)) {
    throw new InvalidRequestError(
      "multipart_required",
      `a file of ${size} bytes goes multipart in profile "${profile.name}" (above ${Math.min(profile.multipartThreshold, profile.maxBytes)} bytes): use POST /v1/multipart`,
    );
  }
  // Without content-length in the signature a PUT could send up to COS's 5 GB whatever the profile's limit.
  if (size === undefined && method === "put") {
    throw new InvalidRequestError("size_required", "a PUT signs the file's exact size: send size (bytes), or use method post");
  }
  // A signed empty PUT is also the shape of PUT Object - Copy (436/10881): one byte at least, so it stays an upload.
  if (size === 0 && method === "put") throw new InvalidRequestError("size_invalid", "a PUT takes at least 1 byte (an empty PUT signature could be sent as a copy): use method post for an empty file");
  return { profile, ext, method, ...(size === undefined ? {} : { size }), contentType: parseContentType(fields.contentType, ext, profile, method) };
}

/** A size the schema let through (a whole number ≥ 0), within the profile's limit. */
export function parseSize(value: number | undefined, maxBytes: number): number | undefined {
  if (value === undefined) return undefined;
  if (value > maxBytes) throw new InvalidRequestError("file_too_large", `size ${value} is over the limit of ${maxBytes} bytes`);
  return value;
}

/**
 * The one media type the upload is signed for (PUT signs it, POST binds it with eq). A declared type must fit the
 * suffix: one of its usual types, or for a suffix without usual types any type that is not active content; a profile
 * that names a type exactly makes it fit, and only that admits active types (HTML, SVG, XML, script). A POST may
 * declare a family (`image/*`) and gets the suffix's usual type in it. Undeclared: the suffix's usual type, else
 * application/octet-stream. The profile's rules then apply to the result.
 */
export function parseContentType(value: unknown, ext: string, profile: UploadProfile, method: UploadMethod): string {
  const declared = typeof value === "string" ? value.toLowerCase() : value;
  if (declared !== undefined && (typeof declared !== "string" || !(MEDIA_TYPE.test(declared) || MEDIA_FAMILY.test(declared)))) {
    throw new InvalidRequestError("content_type_invalid", "contentType must be a media type such as image/jpeg (or image/* for a POST), without parameters");
  }
  const usual = mediaTypesOf(ext);
  const rules = profile.contentTypes;
  // A .jpg stored as text/html or image/svg+xml would run as a page on the bucket's domain.
  const mismatch = (type: string) =>
    new InvalidRequestError(
      "content_type_mismatch",
      `contentType ${type} does not fit a .${ext} file (${usual.length > 0 ? `use ${usual.join(" or ")}` : "active content such as HTML, SVG or script"}); a profile may name it in contentTypes`,
    );
  let type: string;
  if (declared === undefined) {
    type = usual[0] ?? DEFAULT_MEDIA_TYPE;
  } else if (MEDIA_FAMILY.test(declared)) {
    if (method === "put") throw new InvalidRequestError("content_type_invalid", "a PUT signs one exact contentType, such as image/jpeg");
    const inFamily = usual.find((candidate) => candidate.startsWith(declared.slice(0, -1)));
    if (inFamily === undefined) {
      if (usual.length > 0) throw mismatch(declared);
      throw new InvalidRequestError("content_type_invalid", `declare the exact contentType of a .${ext} file: the signer binds one type, not ${declared}`);
    }
    type = inFamily;
  } else {
    const fits = usual.length > 0 ? usual.includes(declared) : !ACTIVE_MEDIA_TYPE.test(declared);
    if (!fits && !rules.includes(declared)) throw mismatch(declared);
    type = declared;
  }
  if (rules.length > 0 && !rules.some((rule) => ruleAllows(rule, type))) {
    throw new InvalidRequestError(
      "content_type_not_allowed",
      declared === undefined
        ? `declare contentType: profile "${profile.name}" allows ${rules.join(", ")}`
        : `contentType ${type} is not allowed by profile "${profile.name}"; allowed: ${rules.join(", ")}`,
    );
  }
  return type;
}

export interface MultipartRequest {
  readonly profile: UploadProfile;
  readonly ext: string;
  readonly size: number;
  readonly contentType: string;
  /** Bytes a part the client asks for; the signer raises it where 10,000 parts would not hold the file. */
  readonly partSize?: number;
}

/** `POST /v1/multipart`: the same suffix and type rules as a PUT, a size of 1 byte up to the profile's multipart limit. */
export function parseMultipartRequest(body: unknown, config: SignerConfig): MultipartRequest {
  const fields = parseBody(MultipartRequest, body, '{"ext":"mp4","size":104857600}');
  const profile = resolveProfile(config, fields.profile);
  if (!profile.multipart) throw new InvalidRequestError("multipart_off", `profile "${profile.name}" takes no multipart uploads: use POST /v1/uploads`);
  const ext = normalizeExtension(fields.ext, profile.allowedExtensions);
  const size = parseSize(fields.size, profile.multipartMaxBytes)!;
  if (size === 0) throw new InvalidRequestError("size_invalid", "an empty file has no parts: upload it with POST /v1/uploads");
  const partSize = fields.partSize;
  return { profile, ext, size, contentType: parseContentType(fields.contentType, ext, profile, "put"), ...(partSize === undefined ? {} : { partSize }) };
}
