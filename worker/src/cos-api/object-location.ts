/**
 * Where uploads go. COS accepts the bucket's own domain (`<bucket>.cos.<region>.myqcloud.com/<key>`) or the
 * regional domain with the bucket as first path segment (`cos.<region>.myqcloud.com/<bucket>/<key>`), the form the
 * Mini Program practice (436/30934) uses so that one whitelisted domain serves every bucket of a region. In the
 * latter the signed path includes the bucket. Buckets created after 2024-01-01 refuse it (436/57456).
 */
import type { UploadProfile } from "../config/index.js";
import { cosUrlEncode } from "../cos/index.js";

export interface ObjectLocation {
  /** `https://host[:port]`. */
  readonly origin: string;
  /** The URL host, signed as the `host` header. */
  readonly host: string;
  /** `/<bucket>` for path-style addressing, `` otherwise. */
  readonly bucketPath: string;
  /** The decoded path that is signed: bucketPath + `/` + key. */
  readonly signedPath: string;
  /** The object's URL, key encoded segment by segment. */
  readonly url: string;
}

/** Origin and host of each profile, worked out once (a URL parse per request is measurable in workerd). */
const origins = new WeakMap<UploadProfile, { readonly origin: string; readonly host: string }>();

function originOf(profile: UploadProfile): { readonly origin: string; readonly host: string } {
  let known = origins.get(profile);
  if (!known) {
    const origin =
      profile.endpoint ?? (profile.pathStyle ? `https://cos.${profile.region}.myqcloud.com` : `https://${profile.bucket}.cos.${profile.region}.myqcloud.com`);
    known = { origin, host: new URL(origin).host };
    origins.set(profile, known);
  }
  return known;
}

export function objectLocation(profile: UploadProfile, key: string): ObjectLocation {
  const { origin, host } = originOf(profile);
  const bucketPath = profile.pathStyle ? `/${profile.bucket}` : "";
  const encodedKey = key.split("/").map(cosUrlEncode).join("/");
  return {
    origin,
    host,
    bucketPath,
    signedPath: `${bucketPath}/${key}`,
    url: `${origin}${bucketPath}/${encodedKey}`,
  };
}
