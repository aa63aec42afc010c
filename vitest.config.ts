import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "./test/support/wechat-stub";

/** Route tests that need no Workers-only API (entry.test.ts uses the Worker's exports; fuzz.test.ts stays in workerd). */
const HOST_SUITE = ["routes", "auth", "profiles", "security", "multipart", "sdk"].map((name) => `worker/test/${name}.test.ts`);

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
                // entry.test.ts drives Tencent's SDK routes through the Worker's own entry, slice-uploading 2 GB.
                SDK_ROUTES: "true",
                UPLOAD_MULTIPART_MAX_BYTES: String(3 * 1024 ** 3),
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
      // The same route suite on the other hosts: the Node server (also SCF's) over real HTTP, and the EdgeOne entry.
      ...(["node", "edgeone"] as const).map((host) => ({
        resolve: {
          alias: [
            { find: /^\.\/helpers\.js$/, replacement: resolve(import.meta.dirname, "test/hosts/helpers.ts") },
            { find: /^\.\/capture-logs\.js$/, replacement: resolve(import.meta.dirname, "test/hosts/capture-logs.ts") },
          ],
        },
        test: {
          name: `${host}-host`,
          environment: "node",
          env: { SIGNER_HOST: host },
          include: HOST_SUITE,
          setupFiles: ["test/hosts/capture-logs.ts"],
        },
      })),
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
