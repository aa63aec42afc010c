import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "./test/support/wechat-stub";

export default defineConfig({
  test: {
    projects: [
      {
        // Worker code runs where it is deployed: inside workerd, with the bindings of wrangler.toml.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                COS_SECRET_ID: "AKIDTESTxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                COS_SECRET_KEY: "test-secret-key-for-the-workers-suite",
                WX_APPID: STUB_APPID,
                WX_APPSECRET: STUB_APPSECRET,
                SESSION_SECRET: "workers-suite-session-secret-0123456789abcdef",
              },
              // Every outbound fetch (WeChat's code2Session) is answered by the stub: no test reaches the network.
              outboundService: wechatStub,
            },
          }),
        ],
        test: { name: "workers", include: ["worker/test/**/*.test.ts"], setupFiles: ["worker/test/capture-logs.ts"] },
      },
      {
        // Cross-checks against Tencent's Node SDK and node:crypto, and the end-to-end flow with real servers.
        test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
      },
      {
        // The Mini Program page, rendered by miniprogram-simulate in jsdom; servers start in Node (globalSetup).
        test: {
          name: "miniprogram",
          environment: "jsdom",
          include: ["test/miniprogram/**/*.test.ts"],
          globalSetup: ["test/miniprogram/global-setup.ts"],
        },
      },
    ],
  },
});
