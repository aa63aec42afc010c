/**
 * `npm run dev -- --moderation` starts this: the local WeChat stand-in (emulator/wechat.ts) on 127.0.0.1:9100
 * (WECHAT_LOCAL_PORT), pushing its verdicts to the signer at SIGNER_URL (default http://127.0.0.1:8787) after
 * WECHAT_PUSH_DELAY_MS (default 1000). Not WeChat's service.
 */
import { startWechatStandin } from "./wechat.js";

const standin = await startWechatStandin({
  port: Number(process.env.WECHAT_LOCAL_PORT ?? 9100),
  delayMs: Number(process.env.WECHAT_PUSH_DELAY_MS ?? 1000),
  log: (line) => console.log(`  wechat stand-in: ${line}`),
});
standin.pushTo = process.env.SIGNER_URL ?? "http://127.0.0.1:8787";
console.log(`WeChat stand-in (local, not WeChat's service) on ${standin.url}, pushing verdicts to ${standin.pushTo}/v1/wechat/push`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void standin.close().then(() => process.exit(0)));
