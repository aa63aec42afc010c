import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";
import { STUB_APPID, STUB_APPSECRET, wechatStub } from "./test/support/wechat-stub";

const HOSTS = ["workers", "node", "edgeone"] as const;

/**
 * Each worker test file says on its first line which hosts run it (`// hosts: workers node edgeone`): a route test
 * runs on every host unless it needs a Workers-only API. A file without the line stops the run, so no new test is
 * silently left off a host.
 */
function testsFor(host: (typeof HOSTS)[number]): string[] {
  const files = readdirSync(resolve(import.meta.dirname, "worker/test"), { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".test.ts"));
  return files
    .map((file) => join("worker/test", file))
    .filter((file) => {
      const hosts = /^\/\/ hosts: ([a-z ]+)\n/.exec(readFileSync(resolve(import.meta.dirname, file), "utf8"))?.[1]?.split(" ");
      if (!hosts || hosts.some((name) => !(HOSTS as readonly string[]).includes(name)) || !hosts.includes("workers")) {
        throw new Error(`${file} must start with "// hosts: workers" and any of node, edgeone (vitest.config.ts)`);
      }
      return hosts.includes(host);
    });
}

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
        test: { name: "workers", include: testsFor("workers"), setupFiles: ["worker/test/capture-logs.ts"] },
      },
      {
        // Cross-checks against Tencent's Node SDK and node:crypto, and the end-to-end flow with real servers.
        test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
      },
      // The same route suite on the other hosts: the Node server (also SCF's) over real HTTP, and the EdgeOne entry.
      ...(["node", "edgeone"] as const).map((host) => ({
        resolve: {
          alias: [
            // A test's own ./helpers.js or ../helpers.js (worker/test/…), never the hosts' import of the original.
            { find: /^\.\.?\/helpers\.js$/, replacement: resolve(import.meta.dirname, "test/hosts/helpers.ts") },
            { find: /^\.\.?\/capture-logs\.js$/, replacement: resolve(import.meta.dirname, "test/hosts/capture-logs.ts") },
          ],
        },
        test: {
          name: `${host}-host`,
          environment: "node",
          env: { SIGNER_HOST: host },
          include: testsFor(host),
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
