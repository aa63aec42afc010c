/**
 * The COS XML-API request signature ("Request Signature", https://cloud.tencent.com/document/product/436/7778),
 * every step exposed so that a mismatch can be traced to the step where it starts.
 */
import type { Credentials } from "./credentials.js";
import { hmacSha1Hex, sha1Hex, signKeyFor } from "./digest.js";
import { cosUrlEncode } from "./encoding.js";
import { formatKeyTime, type KeyTime } from "./key-time.js";

export interface RequestToSign {
  /** HTTP method, any case (the doc lowercases it). */
  readonly method: string;
  /** The DECODED path, starting with `/`. For regional-domain requests the bucket is its first segment. */
  readonly pathname: string;
  /** Query parameters to sign (decoded names and values). */
  readonly query?: Readonly<Record<string, string>>;
  /** Headers to sign (decoded values). The request must send exactly these values. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RequestSignature {
  readonly keyTime: string;
  readonly signKey: string;
  readonly urlParamList: string;
  readonly httpParameters: string;
  readonly headerList: string;
  readonly httpHeaders: string;
  readonly httpString: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** The value of the `Authorization` header (and, as a query string, of a presigned URL). */
  readonly authorization: string;
}

interface Canonical {
  /** Lowercased, encoded names joined by `;` (UrlParamList / HeaderList). */
  readonly list: string;
  /** `name=value` pairs joined by `&` (HttpParameters / HttpHeaders). */
  readonly pairs: string;
}

/** Steps 3 and 4: encode names and values, lowercase names, sort by name, join. */
export function canonicalize(entries: Readonly<Record<string, string>> = {}): Canonical {
  const encoded = Object.entries(entries).map(([name, value]) => [cosUrlEncode(name).toLowerCase(), cosUrlEncode(value)] as const);
  encoded.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < encoded.length; i++) {
    if (encoded[i]![0] === encoded[i - 1]![0]) throw new TypeError(`"${encoded[i]![0]}" is given twice (names are case-insensitive)`);
  }
  return {
    list: encoded.map(([name]) => name).join(";"),
    pairs: encoded.map(([name, value]) => `${name}=${value}`).join("&"),
  };
}

export async function signRequest(credentials: Credentials, request: RequestToSign, keyTime: KeyTime): Promise<RequestSignature> {
  if (!request.pathname.startsWith("/")) throw new TypeError(`pathname must start with "/", got "${request.pathname}"`);
  const qKeyTime = formatKeyTime(keyTime);
  // Step 2: SignKey = HMAC-SHA1(SecretKey, KeyTime).
  const signKey = await signKeyFor(credentials.secretKey, qKeyTime);
  const params = canonicalize(request.query);
  const headers = canonicalize(request.headers);
  // Step 5: HttpString = method \n decoded path \n HttpParameters \n HttpHeaders \n
  const httpString = `${request.method.toLowerCase()}\n${request.pathname}\n${params.pairs}\n${headers.pairs}\n`;
  // Step 6: StringToSign = sha1 \n KeyTime \n SHA1(HttpString) \n
  const stringToSign = `sha1\n${qKeyTime}\n${await sha1Hex(httpString)}\n`;
  // Step 7: Signature = HMAC-SHA1(SignKey, StringToSign), the SignKey used as its hex string.
  const signature = await hmacSha1Hex(signKey, stringToSign);
  const authorization =
    `q-sign-algorithm=sha1&q-ak=${credentials.secretId}&q-sign-time=${qKeyTime}&q-key-time=${qKeyTime}` +
    `&q-header-list=${headers.list}&q-url-param-list=${params.list}&q-signature=${signature}`;
  return {
    keyTime: qKeyTime,
    signKey,
    urlParamList: params.list,
    httpParameters: params.pairs,
    headerList: headers.list,
    httpHeaders: headers.pairs,
    httpString,
    stringToSign,
    signature,
    authorization,
  };
}
