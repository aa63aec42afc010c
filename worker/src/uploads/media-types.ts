/** `type/subtype`: RFC 9110 token characters, no parameters. */
export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;
/** A family of media types: `image/*`. */
export const MEDIA_FAMILY = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/\*$/;

/** Stored as the type of an object that declares none: browsers download it rather than render it. */
export const DEFAULT_MEDIA_TYPE = "application/octet-stream";

/**
 * Suffix → the media types a file with that suffix may be stored as, the usual one first. Nothing here is active
 * content: a browser renders none of these as a page or runs script from it.
 */
const SUFFIX_TYPES: Readonly<Record<string, readonly string[]>> = {
  jpg: ["image/jpeg", "image/pjpeg"],
  jpeg: ["image/jpeg", "image/pjpeg"],
  png: ["image/png"],
  gif: ["image/gif"],
  webp: ["image/webp"],
  heic: ["image/heic", "image/heif"],
  heif: ["image/heif", "image/heic"],
  bmp: ["image/bmp"],
  mp4: ["video/mp4"],
  mov: ["video/quicktime", "video/mp4"],
  m4v: ["video/x-m4v", "video/mp4"],
  webm: ["video/webm"],
  mp3: ["audio/mpeg"],
  m4a: ["audio/mp4", "audio/x-m4a"],
  aac: ["audio/aac"],
  wav: ["audio/wav", "audio/x-wav"],
  pdf: ["application/pdf"],
  txt: ["text/plain"],
  md: ["text/markdown", "text/plain"],
};

/**
 * Types a browser renders as a document or runs script from (HTML, XHTML, SVG and other XML, JavaScript, Flash):
 * served from the bucket's domain they would run there. Signed only where a profile names them exactly.
 */
export const ACTIVE_MEDIA_TYPE = /^(?:text\/html|text\/xml|text\/xsl|[a-z0-9-]+\/(?:[a-z0-9.!#$&^_-]+\+)?xml|(?:text|application)\/(?:x-)?(?:java|ecma)script|application\/x-shockwave-flash)$/;

/** The media types a `.ext` file may be stored as, the usual first; empty for a suffix not listed here. */
export function mediaTypesOf(ext: string): readonly string[] {
  return Object.hasOwn(SUFFIX_TYPES, ext) ? SUFFIX_TYPES[ext]! : [];
}

/** Does a profile rule (`image/png`, or a family `image/*`) allow this exact type? */
export function ruleAllows(rule: string, type: string): boolean {
  return rule.endsWith("/*") ? type.startsWith(rule.slice(0, -1)) : type === rule;
}
