/**
 * Presigned URLs: the same q-sign fields as the Authorization header, carried in the query string
 * ("Request Signature", 436/7778: "the signature can be put in the query string").
 */
import { type Credentials, SECURITY_TOKEN_FIELD } from "./credentials.js";
import { cosUrlEncode } from "./encoding.js";
import type { KeyTime } from "./key-time.js";
import { type RequestSignature, signRequest } from "./request-signature.js";

export interface PresignOptions {
  readonly method: string;
  /** The object URL. Its query parameters are signed; its host is signed unless `headers` says otherwise. */
  readonly url: string | URL;
  /** Headers the request will send and that must be signed. Default: `{ host }` of the URL. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly keyTime: KeyTime;
}

export interface PresignedUrl {
  readonly url: string;
  readonly signature: RequestSignature;
}

export async function presignUrl(credentials: Credentials, options: PresignOptions): Promise<PresignedUrl> {
  const url = new URL(options.url);
  const query = Object.fromEntries(url.searchParams);
  const signature = await signRequest(
    credentials,
    {
      method: options.method,
      pathname: decodeURIComponent(url.pathname),
      query,
      headers: options.headers ?? { host: url.host },
    },
    options.keyTime,
  );
  let search = url.search ? `${url.search}&${signature.authorization}` : `?${signature.authorization}`;
  if (credentials.securityToken) search += `&${SECURITY_TOKEN_FIELD}=${cosUrlEncode(credentials.securityToken)}`;
  return { url: `${url.origin}${url.pathname}${search}`, signature };
}
