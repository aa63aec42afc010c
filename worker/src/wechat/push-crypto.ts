/**
 * WeChat's message push in safe mode (WXBizMsgCrypt), with WebCrypto only
 * (developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md):
 * - signature = hex SHA-1 of the sorted, concatenated Token, timestamp, nonce (and, in safe mode, the Encrypt field);
 * - AESKey = base64 decode of the 43-character EncodingAESKey + "=", 32 bytes; AES-256-CBC, IV = its first 16 bytes;
 * - plaintext = 16 random bytes + the message's length (4 bytes, big-endian) + the message + the appid, PKCS#7
 *   padded to a multiple of 32 bytes.
 * WebCrypto's AES-CBC pads and unpads to 16-byte blocks itself, so the 32-byte padding is handled around it (below).
 */
import { toHex } from "../cos/index.js";

const UTF8 = new TextEncoder();
const BLOCK = 32;

/** WeChat's signature over the push's query fields (and the Encrypt field): hex SHA-1 of the sorted parts joined. */
export async function pushSignature(...parts: string[]): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-1", UTF8.encode([...parts].sort().join(""))));
}

/** Compares two signatures in constant time (same length: both are 40 hex characters when well formed). */
export function sameSignature(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export interface PushKey {
  readonly key: CryptoKey;
  readonly iv: Uint8Array<ArrayBuffer>;
}

/** The EncodingAESKey: 43 letters and digits, the base64 of a 32-byte key without its `=`. */
export const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;

/** Imports the EncodingAESKey as the AES-256-CBC key, with its IV. */
export async function pushKey(encodingAesKey: string): Promise<PushKey> {
  if (!ENCODING_AES_KEY.test(encodingAesKey)) throw new Error("the EncodingAESKey must be 43 letters and digits");
  const raw = Uint8Array.from(atob(`${encodingAesKey}=`), (char) => char.charCodeAt(0));
  return { key: await crypto.subtle.importKey("raw", raw, "AES-CBC", false, ["encrypt", "decrypt"]), iv: raw.slice(0, 16) };
}

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Why a push could not be opened: never its content. */
export class PushCryptoError extends Error {
  override readonly name = "PushCryptoError";
}

/**
 * Decrypts an `Encrypt` field and checks that it was sealed for `appId`; the message. WebCrypto insists on its own
 * 16-byte padding, so one block is appended that decrypts to a full padding block (AES-CBC of nothing, chained on
 * the last ciphertext block): WebCrypto strips it, and WeChat's own 32-byte padding is removed here.
 */
export async function decryptPush({ key, iv }: PushKey, encrypted: string, appId: string): Promise<string> {
  let cipher: Uint8Array;
  try {
    cipher = fromBase64(encrypted);
  } catch {
    throw new PushCryptoError("Encrypt is not base64");
  }
  if (cipher.length === 0 || cipher.length % BLOCK !== 0) throw new PushCryptoError("Encrypt is not whole 32-byte blocks");
  const padding = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv: cipher.slice(-16) }, key, new Uint8Array(0)));
  const extended = new Uint8Array(cipher.length + 16);
  extended.set(cipher);
  extended.set(padding, cipher.length);
  const plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key, extended));
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK || plain.subarray(plain.length - pad).some((byte) => byte !== pad)) throw new PushCryptoError("bad padding");
  const body = plain.subarray(16, plain.length - pad);
  if (body.length < 4) throw new PushCryptoError("too short");
  const length = new DataView(body.buffer, body.byteOffset).getUint32(0);
  if (4 + length > body.length) throw new PushCryptoError("bad length");
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const sealedFor = decoder.decode(body.subarray(4 + length));
  if (sealedFor !== appId) throw new PushCryptoError("sealed for another appid");
  return decoder.decode(body.subarray(4, 4 + length));
}

/**
 * Encrypts a message for `appId` as WeChat does (the local stand-in's pushes and replies); `random` is the 16-byte
 * prefix (random unless a test vector names it). WebCrypto adds one 16-byte padding block to the already padded
 * plaintext: it is dropped.
 */
export async function encryptPush({ key, iv }: PushKey, message: string, appId: string, random: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): Promise<string> {
  const text = UTF8.encode(message);
  const id = UTF8.encode(appId);
  const length = 16 + 4 + text.length + id.length;
  const pad = BLOCK - (length % BLOCK);
  const plain = new Uint8Array(length + pad).fill(pad);
  plain.set(random.subarray(0, 16));
  new DataView(plain.buffer).setUint32(16, text.length);
  plain.set(text, 20);
  plain.set(id, 20 + text.length);
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, key, plain));
  return toBase64(cipher.subarray(0, plain.length));
}
