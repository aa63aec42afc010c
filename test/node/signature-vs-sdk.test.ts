/**
 * Property tests: our WebCrypto signer against things we did not write — Tencent's own Node SDK
 * (`COS.getAuthorization`, cos-nodejs-sdk-v5) for request signatures, and node:crypto following the "POST Object"
 * doc (436/14690) for POST policies — on thousands of random inputs.
 */
import { createHash, createHmac } from "node:crypto";
import COS from "cos-nodejs-sdk-v5";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPostPolicy, createPostForm, presignUrl, signPostPolicy, signRequest } from "../../worker/src/cos/index.js";

const RUNS = 1500;

// Headers the SDK will sign (it drops others: sdk/util.js getSignHeaderObj), in random letter case.
const SIGNABLE = ["content-disposition", "content-encoding", "content-length", "content-md5", "expect", "expires", "host", "if-match", "if-modified-since", "if-none-match", "if-unmodified-since", "origin", "range", "transfer-encoding"];
const randomCase = (name: string) => fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(""));
const headerName = fc.oneof(fc.constantFrom(...SIGNABLE), fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((s) => `x-cos-${s}`)).chain(randomCase);

// Object keys with what users really name files: unicode, spaces, `+`, `~`, `/`, `%`, and URL-special characters.
const keyPiece = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 }),
  fc.constantFrom(" ", "+", "~", "/", "%", "%20", "!", "'", "(", ")", "*", "?", "#", "&", "=", ";", ",", "$", "@", ":"),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 6 }),
);
const objectKey = fc.array(keyPiece, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(""));
// Names use characters that URL-encoding leaves alone, where the SDK (sorts, then encodes) and the doc (encodes, then
// sorts) agree; values are anything. "__proto__" is left out: the SDK copies parameters by assignment, which drops it.
const paramName = fc.stringMatching(/^[A-Za-z0-9._~-]{1,16}$/).filter((name) => name !== "__proto__");
const value = fc.oneof(fc.string({ unit: "grapheme", maxLength: 24 }), fc.string({ unit: "grapheme-ascii", maxLength: 24 }));
const uniqueByLowercase = <T extends [string, string]>(entries: T[]) => {
  const seen = new Set<string>();
  return Object.fromEntries(entries.filter(([name]) => !seen.has(name.toLowerCase()) && seen.add(name.toLowerCase())));
};
const keyTime = fc.integer({ min: 0, max: 4_000_000_000 }).chain((start) => fc.integer({ min: 0, max: 86_400 * 30 }).map((ttl) => ({ start, end: start + ttl })));
const credentials = fc.record({
  secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{32}$/),
  secretKey: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
});

describe("request signature = cos-nodejs-sdk-v5 COS.getAuthorization", () => {
  it(`agrees on ${RUNS} random requests (method, unicode keys, query, headers, KeyTime, keys)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        credentials,
        fc.constantFrom("get", "PUT", "post", "Delete", "head", "OPTIONS"),
        objectKey,
        fc.array(fc.tuple(paramName, value), { maxLength: 6 }).map(uniqueByLowercase),
        fc.array(fc.tuple(headerName, value), { maxLength: 6 }).map(uniqueByLowercase),
        keyTime,
        async (creds, method, key, query, headers, time) => {
          const ours = await signRequest(creds, { method, pathname: `/${key}`, query, headers }, time);
          const sdk = COS.getAuthorization({
            SecretId: creds.secretId,
            SecretKey: creds.secretKey,
            Method: method as "get", // the SDK's type lists lowercase names; it lowercases whatever it gets
            Pathname: `/${key}`,
            Query: query,
            Headers: headers,
            KeyTime: `${time.start};${time.end}`,
          });
          expect(ours.authorization).toBe(sdk);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("agrees on regional-domain requests, where the bucket is the first path segment", async () => {
    await fc.assert(
      fc.asyncProperty(credentials, objectKey, keyTime, async (creds, key, time) => {
        const pathname = `/examplebucket-1250000000/${key}`;
        const headers = { host: "cos.ap-guangzhou.myqcloud.com" };
        const ours = await signRequest(creds, { method: "PUT", pathname, headers }, time);
        const sdk = COS.getAuthorization({ SecretId: creds.secretId, SecretKey: creds.secretKey, Method: "put", Pathname: pathname, Headers: headers, KeyTime: `${time.start};${time.end}` });
        expect(ours.authorization).toBe(sdk);
      }),
      { numRuns: 300 },
    );
  });

  it("presigned URLs carry the SDK's Authorization for the URL's decoded path, query and host", async () => {
    await fc.assert(
      // A URL's "." and ".." path segments are resolved away by the URL parser, so a key with one has no URL of its own.
      fc.asyncProperty(credentials, objectKey.filter((key) => !key.split("/").some((segment) => segment === "." || segment === "..")), fc.array(fc.tuple(paramName, value), { maxLength: 4 }).map(uniqueByLowercase), keyTime, async (creds, key, query, time) => {
        const url = new URL(`https://examplebucket-1250000000.cos.ap-beijing.myqcloud.com/${key.split("/").map(encodeURIComponent).join("/")}`);
        for (const [name, v] of Object.entries(query)) url.searchParams.set(name, v);
        const signed = await presignUrl(creds, { method: "GET", url, keyTime: time });
        const sdk = COS.getAuthorization({
          SecretId: creds.secretId,
          SecretKey: creds.secretKey,
          Method: "get",
          Pathname: `/${key}`,
          Query: Object.fromEntries(url.searchParams),
          Headers: { host: url.host },
          KeyTime: `${time.start};${time.end}`,
        });
        expect(signed.url.endsWith(sdk)).toBe(true);
        expect(signed.url.startsWith(url.origin + url.pathname)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

// The doc's steps 4–6, written here with node:crypto: SignKey = HMAC(SecretKey, KeyTime); StringToSign = SHA1(policy);
// Signature = HMAC(SignKey, StringToSign).
function docPolicySignature(secretKey: string, qKeyTime: string, policyText: string): string {
  const signKey = createHmac("sha1", secretKey).update(qKeyTime).digest("hex");
  const stringToSign = createHash("sha1").update(policyText, "utf8").digest("hex");
  return createHmac("sha1", signKey).update(stringToSign).digest("hex");
}

describe("POST policy = node:crypto following 436/14690", () => {
  it(`agrees on ${RUNS} random policies (keys, sizes, content types, tokens, KeyTimes)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        credentials,
        fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }),
        objectKey,
        keyTime,
        fc.option(fc.tuple(fc.nat(1e9), fc.nat(1e9)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const), { nil: undefined }),
        fc.option(fc.oneof(fc.constantFrom("image/jpeg", "video/mp4").map((eq) => ({ eq })), fc.constantFrom("image/", "").map((startsWith) => ({ startsWith }))), { nil: undefined }),
        async (creds, token, key, time, range, contentType) => {
          const withToken = token === undefined ? creds : { ...creds, securityToken: token };
          const options = { bucket: "examplebucket-1250000000", key, keyTime: time, ...(range && { contentLengthRange: range }), ...(contentType && { contentType }) };
          const form = await createPostForm(withToken, options, { success_action_status: "200" });
          const policyText = Buffer.from(form.fields.policy!, "base64").toString("utf8");
          expect(JSON.parse(policyText)).toEqual(buildPostPolicy(creds.secretId, options));
          expect(form.fields["q-signature"]).toBe(docPolicySignature(creds.secretKey, `${time.start};${time.end}`, policyText));
          expect(form.fields["q-key-time"]).toBe(`${time.start};${time.end}`);
          expect(form.fields.key).toBe(key);
          expect(form.fields["x-cos-security-token"]).toBe(token);
          const names = Object.keys(form.fields);
          expect(names.indexOf("key")).toBe(0);
          expect(names.slice(-(token === undefined ? 5 : 6))).toEqual(["policy", "q-sign-algorithm", "q-ak", "q-key-time", "q-signature", ...(token === undefined ? [] : ["x-cos-security-token"])]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("hashes and encodes exactly the policy text given, byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(credentials, fc.string({ unit: "grapheme", maxLength: 300 }), keyTime, async (creds, text, time) => {
        const signed = await signPostPolicy(creds, text, time);
        expect(signed.policy).toBe(Buffer.from(text, "utf8").toString("base64"));
        expect(signed.signature).toBe(docPolicySignature(creds.secretKey, `${time.start};${time.end}`, text));
      }),
      { numRuns: 500 },
    );
  });
});
