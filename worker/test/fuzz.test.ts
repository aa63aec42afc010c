// hosts: workers
/**
 * 10,000 generated requests against every route — random methods, paths, query strings, headers, tokens and bodies,
 * overlong, unicode and injection strings — with and without sessions. No 5xx, every 4xx is `{error:{code,message}}`,
 * and nothing that looks like a signature leaves with a refusal.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { baseEnv, call, login, wechatEnv } from "./helpers.js";

const RUNS = 10_000;
const ROUTES = [
  "/put-sign",
  "/post-policy",
  "/v1/uploads",
  "/v1/session",
  "/healthz",
  "/v1/multipart",
  "/v1/multipart/parts",
  "/v1/multipart/list",
  "/v1/multipart/complete",
  "/v1/multipart/abort",
  "/v1/uploads/receipt",
  "/v1/objects/url",
];
const NASTY = ["../", "..%2f", "%2e%2e%2f", "%00", "' OR 1=1 --", "<script>alert(1)</script>", "${jndi:ldap://x}", "\u202e", "😀", "ｊｐｇ", "jpg\u0000", "/etc/passwd", "C:\\boot.ini", "%", "%%", "+", "&", "=", "#", ";"];
const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(...NASTY, "jpg", "JPG", ".png", "mp4", "exe", "", "put", "post"),
  fc.string({ maxLength: 3000 }),
  printable,
);
const magicCodes = new Set(["busy", "down", "rate", "risky", "used", "null"]);
// Bodies shaped like the real ones, with every field wrong in some way (or right).
const uploadLike = fc
  .record(
    {
      ext: fc.oneof(text, fc.integer(), fc.constant(null)),
      method: fc.oneof(text, fc.constant("put"), fc.constant("post")),
      size: fc.oneof(fc.integer(), fc.double(), text, fc.constant(2 ** 60)),
      contentType: fc.oneof(text, fc.constantFrom("image/jpeg", "text/html", "video/mp4")),
      // The stub's special codes would make WeChat "fail" on purpose (502): left to the auth tests.
      code: fc.oneof(text.filter((c) => !magicCodes.has(c)), fc.constant("code-fuzz")),
      token: fc.oneof(text, printable),
      partNumbers: fc.oneof(fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 120 }), text),
      // Well-formed keys of someone else: refused before COS is asked (which no test here can reach).
      key: fc.oneof(text, fc.constant("uploads/someone-else/2026/11/29/0123456789abcdef0123456789abcdef.jpg")),
      expiresIn: fc.oneof(fc.integer(), text),
      process: fc.oneof(text, fc.constantFrom("thumbnail", "webp")),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));

const request = fc.record({
  auth: fc.constantFrom("none", "wechat"),
  // The methods workerd lets through to a Worker (its HTTP server refuses unknown ones itself).
  // Weighted towards requests that get past routing and authentication, so the deeper checks are fuzzed too.
  method: fc.oneof({ arbitrary: fc.constantFrom("GET", "POST"), weight: 4 }, fc.constantFrom("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "MKCOL")),
  path: fc.oneof(
    { arbitrary: fc.constantFrom(...ROUTES), weight: 6 },
    fc.constantFrom(...ROUTES).chain((route) => fc.constantFrom(...NASTY).map((tail) => `${route}/${tail}`)),
    text.map((t) => `/${encodeURIComponent(t)}`),
  ),
  query: fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom("ext", "method", "size", "profile", "key"), weight: 3 }, text), text), { maxLength: 4 }),
  authorization: fc.oneof(fc.constant(undefined), { arbitrary: fc.constant("VALID"), weight: 4 }, printable, printable.map((t) => `Bearer ${t}`)),
  contentType: fc.oneof(
    fc.constant(undefined),
    { arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8"), weight: 4 },
    fc.constantFrom("text/plain", "multipart/form-data", "application/x-www-form-urlencoded"),
    printable,
  ),
  origin: fc.oneof(fc.constant(undefined), printable),
  body: fc.oneof(fc.constant(undefined), text, fc.jsonValue().map((value) => JSON.stringify(value)), { arbitrary: uploadLike, weight: 5 }),
});

// Receipts and read URLs on; multipart off, since a well-formed one would call COS, which no test here can reach.
const AFTER_UPLOAD = { RECEIPT_SECRET: "fuzz-receipt-secret-0123456789abcdef-xyz", UPLOAD_READ: "owner", UPLOAD_MULTIPART: "false" };

describe("fuzzing every route", () => {
  it(`${RUNS.toLocaleString("en-US")} generated requests: no 5xx, every 4xx is a coded JSON error, no signature on a refusal`, async () => {
    const token = await login("fuzz");
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const url = new URL(`http://signer.test${r.path}`);
        for (const [name, value] of r.query) url.searchParams.append(name, value);
        const headers: Record<string, string> = {};
        if (r.authorization !== undefined) headers.Authorization = r.authorization === "VALID" ? `Bearer ${token}` : r.authorization;
        if (r.contentType !== undefined) headers["Content-Type"] = r.contentType;
        if (r.origin !== undefined) headers.Origin = r.origin;
        const canHaveBody = r.method !== "GET" && r.method !== "HEAD";
        const response = await call(
          `${url.pathname}${url.search}`,
          { method: r.method, headers, ...(canHaveBody && r.body !== undefined ? { body: r.body } : {}) },
          r.auth === "wechat" ? { ...wechatEnv, ...AFTER_UPLOAD } : { ...baseEnv, ...AFTER_UPLOAD, CORS_ORIGINS: "https://app.example.com" },
        );
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeLessThan(500);
        const body = await response.text();
        if (response.status >= 400) {
          if (r.method !== "HEAD") {
            const error = (JSON.parse(body) as { error: { code: unknown; message: unknown } }).error;
            expect(error.code).toMatch(/^[a-z_]+$/);
            expect(typeof error.message === "string" && error.message.length > 0).toBe(true);
            codes.set(`${response.status} ${error.code}`, (codes.get(`${response.status} ${error.code}`) ?? 0) + 1);
          }
          expect(body).not.toMatch(/q-signature|q-sign-algorithm|"policy"|"authorization"/);
        }
      }),
      { numRuns: RUNS },
    );
    // The generator reaches past the front door: successes and the main refusals all occur.
    for (const status of [200, 400, 401, 404, 405]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
  }, 300_000);
});
