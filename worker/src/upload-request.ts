/** The body of `POST /v1/uploads`, checked field by field so every mistake gets its own code. */
import type { SignerConfig } from "./config.js";
import { InvalidRequestError } from "./errors.js";
import { mediaTypeOf } from "./media-types.js";
import { normalizeExtension } from "./object-key.js";

export interface UploadRequest {
  readonly ext: string;
  readonly method: "put" | "post";
  readonly size?: number;
  readonly contentType?: string;
}

const FIELDS = new Set(["ext", "method", "size", "contentType"]);
// type/subtype, RFC 9110 token characters, no parameters.
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

export function parseUploadRequest(body: unknown, config: SignerConfig): UploadRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequestError("body_invalid", 'the body must be a JSON object such as {"ext":"jpg","method":"put"}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !FIELDS.has(name));
  if (unknown !== undefined) {
    throw new InvalidRequestError("body_invalid", `unknown field "${unknown.slice(0, 40)}"; expected ext, method, size, contentType`);
  }
  const ext = normalizeExtension(fields.ext, config.allowedExtensions);
  const method = parseMethod(fields.method);
  const size = parseSize(fields.size, config.maxBytes);
  const contentType = parseContentType(fields.contentType, ext);
  return { ext, method, ...(size === undefined ? {} : { size }), ...(contentType === undefined ? {} : { contentType }) };
}

function parseMethod(value: unknown): "put" | "post" {
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

/** The declared type, or the extension's usual one; a type of another family than the extension's is refused. */
function parseContentType(value: unknown, ext: string): string | undefined {
  const usual = mediaTypeOf(ext);
  if (value === undefined) return usual;
  if (typeof value !== "string" || !MEDIA_TYPE.test(value.toLowerCase())) {
    throw new InvalidRequestError("content_type_invalid", "contentType must be a media type such as image/jpeg, without parameters");
  }
  const declared = value.toLowerCase();
  // A .jpg stored as text/html would be served as a page from the bucket's domain.
  if (usual !== undefined && declared.split("/")[0] !== usual.split("/")[0]) {
    throw new InvalidRequestError("content_type_mismatch", `contentType ${declared} does not fit a .${ext} file (expected ${usual.split("/")[0]}/*)`);
  }
  return declared;
}
