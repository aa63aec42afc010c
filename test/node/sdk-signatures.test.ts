/**
 * Property tests for the SDK routes' signing, against code Tencent wrote: the TC3-HMAC-SHA256 signer of the API 3.0
 * Node SDK (tencentcloud-sdk-nodejs-common `Sign.sign3`), and `COS.getAuthorization` of cos-nodejs-sdk-v5 for what
 * POST /v1/cos/authorization hands an SDK.
 */
import COS from "cos-nodejs-sdk-v5";
import fc from "fast-check";
import Sign from "tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/src/app.js";
import { signTc3 } from "../../worker/src/sts/tc3.js";

const RUNS = 500;

const secretKey = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 });
const secretId = fc.stringMatching(/^AKID[A-Za-z0-9]{32}$/);
const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
// COS's UploadId shape (the route refuses any other): a timestamp and hex digits.
const uploadId = fc.stringMatching(/^[0-9]{10,13}[0-9a-f]{16,64}$/);

describe("TC3-HMAC-SHA256 = tencentcloud-sdk-nodejs Sign.sign3", () => {
  it(`agrees on ${RUNS} random requests (unicode JSON bodies, hosts, services, times across dates)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        secretId,
        secretKey,
        fc.stringMatching(/^[a-z]{2,10}$/),
        fc.json(),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        async (id, key, service, payload, timestamp) => {
          const host = `${service}.tencentcloudapi.com`;
          const ours = await signTc3({ secretId: id, secretKey: key }, { host, service, payload, timestamp });
          const theirs = Sign.sign3({
            method: "POST",
            url: `https://${host}/`,
            // A Buffer is hashed as the bytes sent; anything else the SDK serializes itself.
            payload: Buffer.from(payload, "utf8"),
            timestamp,
            service,
            secretId: id,
            secretKey: key,
            multipart: false,
            boundary: "",
            headers: { "Content-Type": "application/json; charset=utf-8" },
          });
          expect(ours.authorization).toBe(theirs);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

const env = {
  COS_SECRET_ID: "AKIDSDKROUTECHECKxxxxxxxxxxxxxxxxxxx",
  COS_SECRET_KEY: "sdk-route-cross-check-secret",
  COS_BUCKET: "examplebucket-1250000000",
  COS_REGION: "ap-shanghai",
  COS_PATH_STYLE: "false",
  AUTH_MODE: "none",
  SDK_ROUTES: "true",
  // Large enough for part numbers up to 10,000 (every part but the last is at least 1 MiB).
  UPLOAD_MULTIPART_MAX_BYTES: String(20 * 1024 ** 3),
};
const HOST = `${env.COS_BUCKET}.cos.${env.COS_REGION}.myqcloud.com`;

// The steps of a slice upload and a simple upload, as the SDK describes them (method, query).
const operation = fc.oneof(
  fc.constant(["put", {}] as const),
  fc.constant(["head", {}] as const),
  fc.constant(["post", { uploads: "" }] as const),
  fc.tuple(fc.integer({ min: 1, max: 10_000 }), uploadId).map(([n, id]) => ["put", { partNumber: String(n), uploadId: id }] as const),
  uploadId.map((id) => ["get", { uploadId: id }] as const),
  // (Complete is signed only after the Worker's own ListParts: test/node/tencent-sdks.test.ts.)
  uploadId.map((id) => ["delete", { uploadId: id }] as const),
);
// Headers both the route and the SDK's own signer take (sdk/util.js getSignHeaderObj), any value.
const metadata = fc.dictionary(fc.stringMatching(/^x-cos-meta-[a-z0-9]{1,8}$/), fc.string({ unit: "grapheme", maxLength: 20 }), { maxKeys: 3 });
const key = fc
  .tuple(fc.date({ min: new Date("2020-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }), hex(32), fc.constantFrom("jpg", "png", "mp4", "mov"))
  .map(([date, hex, ext]) => `uploads/${date.toISOString().slice(0, 10).replaceAll("-", "/")}/${hex}.${ext}`);

describe("POST /v1/cos/authorization = cos-nodejs-sdk-v5 COS.getAuthorization for the same request", () => {
  it(`agrees on ${RUNS} random steps of simple and slice uploads`, async () => {
    const app = createApp();
    await fc.assert(
      fc.asyncProperty(operation, key, fc.integer({ min: 1, max: 5 * 1024 ** 3 }), fc.option(fc.base64String({ minLength: 24, maxLength: 24 })), metadata, async ([method, query], objectKey, length, md5, meta) => {
        const body = method === "put";
        // The profile forbids overwrites: the SDK passes (and signs) x-cos-forbid-overwrite.
        const headers: Record<string, string> = { Host: HOST, "x-cos-forbid-overwrite": "true", ...meta, ...(body ? { "Content-Length": String(Math.min(length, 100 * 1024 * 1024)) } : {}), ...(md5 ? { "Content-MD5": md5 } : {}) };
        const request = { Bucket: env.COS_BUCKET, Region: env.COS_REGION, Method: method, Key: objectKey, Pathname: `/${objectKey}`, Query: query, Headers: headers };
        const response = await app.request("http://signer.test/v1/cos/authorization", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) }, { ...env });
        expect(response.status).toBe(200);
        const { Authorization } = (await response.json()) as { Authorization: string };
        const expected = COS.getAuthorization({
          SecretId: env.COS_SECRET_ID,
          SecretKey: env.COS_SECRET_KEY,
          Method: method as "get", // the SDK's type lists lowercase names of some methods; it lowercases any
          Pathname: `/${objectKey}`,
          Query: query,
          Headers: headers,
          KeyTime: /q-key-time=([^&]+)/.exec(Authorization)![1]!,
        });
        expect(Authorization).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });
});
