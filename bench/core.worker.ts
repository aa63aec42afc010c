/**
 * Benchmark Worker for the signing core inside workerd. `GET /?kind=put|post|push&n=N` signs N times (push: opens N
 * safe-mode WeChat pushes — msg_signature, AES-256-CBC, appid) and answers when done; the runner times the request
 * from outside (workerd's clock does not advance during CPU work) and subtracts n=0.
 */
import { createPostForm, signRequest } from "../worker/src/cos/index.js";
import { encryptPush, pushKey, pushSignature } from "../worker/src/wechat/push-crypto.js";
import { openPush } from "../worker/src/wechat/push.js";

const APPID = "wx0123456789abcdef";
/** Sealed once, in the first request (workerd allows no random values at the top level). */
const sealed = async () => {
  const key = await pushKey("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
  const event = { ToUserName: "gh_bench", MsgType: "event", Event: "wxa_media_check", appid: APPID, trace_id: "bench-trace", version: 2, result: { suggest: "pass", label: 100 } };
  const encrypted = await encryptPush(key, JSON.stringify(event), APPID);
  const query = new URLSearchParams({ timestamp: "1795600000", nonce: "bench", encrypt_type: "aes", msg_signature: await pushSignature("benchToken", "1795600000", "bench", encrypted) });
  return { settings: { token: "benchToken", key, appId: APPID }, query, body: JSON.stringify({ ToUserName: "gh_bench", Encrypt: encrypted }) };
};
let push: ReturnType<typeof sealed> | undefined;

const credentials = { secretId: "AKIDBENCHxxxxxxxxxxxxxxxxxxxxxxxxxxx", secretKey: "bench-secret-key-0123456789abcdef" };

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const kind = url.searchParams.get("kind");
    // One KeyTime for the whole run, as for all signatures issued within the same second.
    const keyTime = { start: 1795600000, end: 1795600660 };
    let last = "";
    for (let i = 0; i < n; i++) {
      const key = `uploads/2026/11/25/${i.toString(16).padStart(32, "0")}.jpg`;
      if (kind === "push") {
        const { settings, query, body } = await (push ??= sealed());
        last = String((await openPush(settings, query, body)).trace_id);
      } else if (kind === "post") {
        const form = await createPostForm(credentials, { bucket: "examplebucket-1250000000", key, keyTime, contentLengthRange: [0, 104857600] });
        last = form.signature.signature;
      } else {
        const signed = await signRequest(credentials, { method: "PUT", pathname: `/examplebucket-1250000000/${key}`, headers: { host: "cos.ap-guangzhou.myqcloud.com" } }, keyTime);
        last = signed.signature;
      }
    }
    return new Response(last);
  },
};
