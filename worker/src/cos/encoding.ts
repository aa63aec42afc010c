/**
 * Byte and string encodings used by the COS q-sign algorithm.
 * "Request Signature" (436/7778) URL-encodes with encodeURIComponent plus `! ' ( ) *`, the characters it leaves alone.
 */

const UTF8 = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  // TextEncoder always allocates a fresh, non-shared ArrayBuffer.
  return UTF8.encode(text) as Uint8Array<ArrayBuffer>;
}

/** `encodeURIComponent`, then the five characters it does not encode: the doc's URL encoding. */
export function cosUrlEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += HEX[view[i]!];
  return out;
}

/** Standard Base64 (with padding) of raw bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
