/**
 * WeChat's message push to the signer (Mini Program console → 开发管理 → 消息推送), as plain data in and out: the
 * server check of the push URL, and a push opened and checked — signature, decryption, appid — before anything in it
 * is believed. Safe mode when an EncodingAESKey is configured (the only mode accepted then); plain mode otherwise,
 * whose body is not signed (docs/moderation.md says why safe mode is the one to use).
 */
import { ModerationError } from "../http/errors.js";
import { decryptPush, PushCryptoError, type PushKey, pushSignature, sameSignature } from "./push-crypto.js";

export interface PushSettings {
  readonly token: string;
  /** Safe mode's key; undefined: plain mode. */
  readonly key: PushKey | undefined;
  readonly appId: string;
}

/** A refused push changes nothing and gets a 4xx. */
const refused = (code: "push_invalid" | "push_signature_invalid" | "push_foreign", message: string) => new ModerationError(code, message);

/** The echostr to answer WeChat's check of the push URL (GET with signature, timestamp, nonce, echostr). */
export async function serverCheck(token: string, query: URLSearchParams): Promise<string> {
  const [signature, timestamp, nonce, echostr] = ["signature", "timestamp", "nonce", "echostr"].map((name) => query.get(name) ?? "");
  if (!signature || !timestamp || !nonce || !echostr) throw refused("push_invalid", "signature, timestamp, nonce and echostr are required");
  if (!sameSignature(await pushSignature(token, timestamp, nonce), signature)) throw refused("push_signature_invalid", "the signature does not match WX_PUSH_TOKEN");
  return echostr;
}

/** The Encrypt field of a safe-mode body, JSON (`{"Encrypt": …}`) or XML (`<Encrypt><![CDATA[…]]></Encrypt>`). */
function encryptField(body: string): string | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value = (JSON.parse(trimmed) as { Encrypt?: unknown }).Encrypt;
      return typeof value === "string" ? value : undefined;
    } catch {
      return undefined;
    }
  }
  return /<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]><\/Encrypt>/.exec(trimmed)?.[1];
}

/** A push's event, as WeChat sends it in JSON (the data format to choose in the console). */
export type PushEvent = Record<string, unknown>;

/** Verifies and opens one push; its event. Refuses anything that is not WeChat's. */
export async function openPush(settings: PushSettings, query: URLSearchParams, body: string): Promise<PushEvent> {
  const timestamp = query.get("timestamp") ?? "";
  const nonce = query.get("nonce") ?? "";
  if (!timestamp || !nonce) throw refused("push_invalid", "timestamp and nonce are required");
  let message: string;
  if (settings.key) {
    const encrypted = encryptField(body);
    const signature = query.get("msg_signature") ?? "";
    if (query.get("encrypt_type") !== "aes" || !encrypted || !signature) {
      throw refused("push_invalid", "safe mode is on (WX_PUSH_AES_KEY): a push needs encrypt_type=aes, msg_signature and an Encrypt field");
    }
    if (!sameSignature(await pushSignature(settings.token, timestamp, nonce, encrypted), signature)) {
      throw refused("push_signature_invalid", "msg_signature does not match WX_PUSH_TOKEN and the Encrypt field");
    }
    try {
      message = await decryptPush(settings.key, encrypted, settings.appId);
    } catch (error) {
      // Signed with our token yet not sealed for our appid with our key: a misconfiguration, or another app's push.
      if (error instanceof PushCryptoError || error instanceof DOMException || error instanceof TypeError) {
        throw refused("push_foreign", "the push does not decrypt with WX_PUSH_AES_KEY for WX_APPID");
      }
      throw error;
    }
  } else {
    if (!sameSignature(await pushSignature(settings.token, timestamp, nonce), query.get("signature") ?? "")) {
      throw refused("push_signature_invalid", "the signature does not match WX_PUSH_TOKEN");
    }
    message = body;
  }
  let event: unknown;
  try {
    event = JSON.parse(message);
  } catch {
    throw refused("push_invalid", "the push is not JSON: choose the JSON data format in the WeChat console");
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw refused("push_invalid", "the push is not a JSON object");
  return event as PushEvent;
}

export type Suggest = "pass" | "risky" | "review";

export interface MediaCheckVerdict {
  readonly traceId: string;
  readonly suggest: Suggest;
  readonly label: number | undefined;
}

/**
 * The verdict of a `wxa_media_check` event (mediaCheckAsync v2: `result.suggest`), or undefined for any other event
 * (which the receiver acknowledges and ignores). An event that names another appid is refused.
 */
export function mediaCheckVerdict(event: PushEvent, appId: string): MediaCheckVerdict | undefined {
  if (event.Event !== "wxa_media_check") return undefined;
  if (event.appid !== undefined && event.appid !== appId) throw refused("push_foreign", "the push names another appid");
  const traceId = event.trace_id;
  const result = event.result as { suggest?: unknown; label?: unknown } | undefined;
  const suggest = result?.suggest;
  if (typeof traceId !== "string" || !/^[\w-]{1,128}$/.test(traceId) || (suggest !== "pass" && suggest !== "risky" && suggest !== "review")) {
    throw refused("push_invalid", "a wxa_media_check push needs trace_id and result.suggest (pass, risky or review)");
  }
  return { traceId, suggest, label: typeof result?.label === "number" ? result.label : undefined };
}
