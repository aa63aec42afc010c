/**
 * Benchmark Worker for the signing core inside workerd. `GET /?kind=put|post&n=N` signs N times and answers when done;
 * the runner times the request from outside (workerd's clock does not advance during CPU work) and subtracts n=0.
 */
import { createPostForm, signRequest } from "../worker/src/cos/index.js";

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
      if (kind === "post") {
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
