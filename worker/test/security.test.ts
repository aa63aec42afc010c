// hosts: workers node edgeone
/**
 * What each signature binds, and the ways around it that a security review found (issue "every signature as tight
 * as the README promises"): one block per finding, each refusing what the earlier code signed.
 */
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app.js";
import { sessionUser } from "../src/auth/session.js";
import { signerConfig, type SignerEnv } from "../src/config/index.js";
import { addressKey } from "../src/http/client-address.js";
import { capturedLogs } from "./capture-logs.js";
import { authorizationFields, baseEnv, call, decodePolicy, type ErrorBody, expectError, hostEnv, login, postJson, SESSION_SECRET, signSessionClaims, wechatEnv } from "./helpers.js";

type PutBody = { key: string; headers: Record<string, string> };
type PostBody = { key: string; fields: Record<string, string> };

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("1. seed routes: on only where asked for, since they bind neither size nor type nor overwrite", () => {
  it("are off by default with AUTH_MODE=wechat, before any session is looked at", async () => {
    const token = await login("seed");
    for (const path of ["/put-sign?ext=jpg", "/post-policy?ext=jpg"]) {
      const message = await expectError(await call(path, { headers: bearer(token) }, wechatEnv), 404, "seed_routes_off");
      expect(message).toContain("SEED_ROUTES=true");
      await expectError(await call(path, {}, wechatEnv), 404, "seed_routes_off");
    }
  });

  it("are on by default with AUTH_MODE=none (local development, Tencent's sample unchanged), and follow SEED_ROUTES", async () => {
    expect((await call("/put-sign?ext=jpg")).status).toBe(200);
    await expectError(await call("/post-policy?ext=jpg", {}, { ...baseEnv, SEED_ROUTES: "false" }), 404, "seed_routes_off");
    const token = await login("seed-on");
    expect((await call("/put-sign?ext=jpg", { headers: bearer(token) }, { ...wechatEnv, SEED_ROUTES: "true" })).status).toBe(200);
    await expectError(await call("/healthz", {}, { ...baseEnv, SEED_ROUTES: "yes" }), 500, "config_invalid");
  });
});

describe("2. a PUT always signs content-length", () => {
  it("refuses a PUT descriptor without size, and signs the declared one", async () => {
    await expectError(await postJson("/v1/uploads", { ext: "jpg" }), 400, "size_required");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", method: "put" }), 400, "size_required");
    const put = (await (await postJson("/v1/uploads", { ext: "jpg", size: 3 })).json()) as PutBody;
    expect(authorizationFields(put.headers.Authorization!)["q-header-list"]).toContain("content-length");
  });
});

describe("3. the media type fits the suffix", () => {
  const mismatches: [string, string][] = [
    ["jpg", "image/svg+xml"],
    ["png", "image/svg+xml"],
    ["md", "text/html"],
    ["txt", "text/html"],
    ["pdf", "application/xhtml+xml"],
    ["jpg", "text/html"],
    ["mp4", "application/javascript"],
    ["jpg", "image/png"],
  ];
  const env = { ...baseEnv, UPLOAD_ALLOWED_EXTENSIONS: "jpg,png,md,txt,pdf,mp4,bin,svg" };
  for (const [ext, contentType] of mismatches) {
    it(`.${ext} as ${contentType}: refused for PUT and POST`, async () => {
      await expectError(await postJson("/v1/uploads", { ext, size: 1, contentType }, env), 400, "content_type_mismatch");
      await expectError(await postJson("/v1/uploads", { ext, method: "post", contentType }, env), 400, "content_type_mismatch");
    });
  }

  it("a POST family (image/*) binds the suffix's exact type with eq, never a starts-with that admits image/svg+xml", async () => {
    const post = (await (await postJson("/v1/uploads", { ext: "png", method: "post", contentType: "image/*" }, env)).json()) as PostBody;
    const conditions = decodePolicy(post.fields.policy!).conditions;
    expect(conditions).toContainEqual(["eq", "$Content-Type", "image/png"]);
    expect(conditions.some((condition) => Array.isArray(condition) && condition[0] === "starts-with")).toBe(false);
    await expectError(await postJson("/v1/uploads", { ext: "png", method: "post", contentType: "text/*" }, env), 400, "content_type_mismatch");
  });

  it("without a declared type: the suffix's usual type, else application/octet-stream — never a free type", async () => {
    const jpg = (await (await postJson("/v1/uploads", { ext: "jpg", method: "post" }, env)).json()) as PostBody;
    expect(decodePolicy(jpg.fields.policy!).conditions).toContainEqual(["eq", "$Content-Type", "image/jpeg"]);
    const bin = (await (await postJson("/v1/uploads", { ext: "bin", method: "post" }, env)).json()) as PostBody;
    expect(decodePolicy(bin.fields.policy!).conditions).toContainEqual(["eq", "$Content-Type", "application/octet-stream"]);
    const put = (await (await postJson("/v1/uploads", { ext: "bin", size: 1 }, env)).json()) as PutBody;
    expect(put.headers["Content-Type"]).toBe("application/octet-stream");
    expect(authorizationFields(put.headers.Authorization!)["q-header-list"]).toContain("content-type");
  });

  it("a suffix without usual types takes any declared type but active content (HTML, SVG, XML, script)", async () => {
    expect((await postJson("/v1/uploads", { ext: "bin", size: 1, contentType: "application/zip" }, env)).status).toBe(200);
    for (const contentType of ["text/html", "image/svg+xml", "application/xml", "text/javascript", "application/rss+xml"]) {
      await expectError(await postJson("/v1/uploads", { ext: "bin", size: 1, contentType }, env), 400, "content_type_mismatch");
    }
    // An SVG suffix alone is not enough: SVG runs script, so its type must be named.
    await expectError(await postJson("/v1/uploads", { ext: "svg", size: 1, contentType: "image/svg+xml" }, env), 400, "content_type_mismatch");
  });

  it("a profile that names an active type exactly may sign it; a family rule (image/*) never admits it", async () => {
    const profiles = {
      icons: { bucket: "icons-1250000000", extensions: ["svg"], contentTypes: ["image/svg+xml"] },
      images: { bucket: "images-1250000000", extensions: ["svg", "png"], contentTypes: ["image/*"] },
    };
    const withProfiles = { ...env, UPLOAD_PROFILES: profiles };
    const svg = (await (await postJson("/v1/uploads", { profile: "icons", ext: "svg", size: 1, contentType: "image/svg+xml" }, withProfiles)).json()) as PutBody;
    expect(svg.headers["Content-Type"]).toBe("image/svg+xml");
    await expectError(await postJson("/v1/uploads", { profile: "images", ext: "svg", size: 1, contentType: "image/svg+xml" }, withProfiles), 400, "content_type_mismatch");
  });
});

describe("4. a POST form cannot be posted again over its own object", () => {
  it("binds x-cos-forbid-overwrite in the policy and sends it as a form field (the emulator proves COS's 409)", async () => {
    const post = (await (await postJson("/v1/uploads", { ext: "jpg", method: "post", size: 1 })).json()) as PostBody;
    expect(post.fields["x-cos-forbid-overwrite"]).toBe("true");
    expect(decodePolicy(post.fields.policy!).conditions).toContainEqual({ "x-cos-forbid-overwrite": "true" });
  });

  it("a profile with forbidOverwrite = false binds neither", async () => {
    const env = { ...baseEnv, UPLOAD_PROFILES: { open: { bucket: "open-1250000000", forbidOverwrite: false } } };
    const post = (await (await postJson("/v1/uploads", { profile: "open", ext: "jpg", method: "post" }, env)).json()) as PostBody;
    expect(post.fields["x-cos-forbid-overwrite"]).toBeUndefined();
  });
});

describe("5. the caller's address comes from the host's own source", () => {
  /** A Rate Limiting binding that records the keys it is asked about. */
  function recordingLimiter() {
    const keys: string[] = [];
    return { keys, limit: async ({ key }: { key: string }) => (keys.push(key), { success: true }) };
  }

  it("a host that reads the socket's address is not fooled by a CF-Connecting-IP the client sent", async () => {
    const limiter = recordingLimiter();
    const app = createApp({ clientAddress: () => "192.0.2.10" });
    const env: SignerEnv & { SIGN_LIMITER: typeof limiter } = { ...baseEnv, SIGN_LIMITER: limiter };
    const init = { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.99" }, body: '{"ext":"jpg","size":1}' };
    expect((await app.request("http://signer.test/v1/uploads", init, env)).status).toBe(200);
    expect(limiter.keys).toEqual(["ip:192.0.2.10"]);
  });

  it("reads the address from the request the host handed over, also for a body sent without Content-Length", async () => {
    const limiter = recordingLimiter();
    const peers = new WeakMap<Request, string>();
    const app = createApp({ clientAddress: (request) => peers.get(request) });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"ext":"jpg","size":1}'));
        controller.close();
      },
    });
    // A streamed body has no Content-Length: hono/body-limit reads it through a copy of the request.
    const request = new Request("http://signer.test/v1/uploads", { method: "POST", headers: { "Content-Type": "application/json" }, body, duplex: "half" } as RequestInit);
    peers.set(request, "192.0.2.77");
    expect((await app.fetch(request, { ...baseEnv, SIGN_LIMITER: limiter })).status).toBe(200);
    expect(limiter.keys).toEqual(["ip:192.0.2.77"]);
  });

  it("counts a login only once its code is well-formed", async () => {
    const limiter = recordingLimiter();
    const env = hostEnv({ ...wechatEnv, SESSION_LIMITER: limiter });
    const init = (code: string) => ({ method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.1" }, body: JSON.stringify({ code }) });
    expect((await createApp().request("http://signer.test/v1/session", init("bad code!"), env)).status).toBe(400);
    expect(limiter.keys).toEqual([]);
    expect((await createApp().request("http://signer.test/v1/session", init("code-counted"), env)).status).toBe(200);
    expect(limiter.keys).toEqual(["ip:192.0.2.1"]);
  });

  it("keys IPv4 whole and IPv6 by /64, in any notation", () => {
    expect(addressKey("203.0.113.7")).toBe("ip:203.0.113.7");
    for (const address of ["2001:db8:aa:1::1", "2001:0DB8:00AA:0001:ffff:ffff:ffff:ffff", "2001:db8:aa:1:0:0:0:0", "2001:db8:aa:1::1.2.3.4"]) {
      expect(addressKey(address)).toBe("ip:2001:db8:aa:1::/64");
    }
    expect(addressKey("2001:db8:aa:2::1")).toBe("ip:2001:db8:aa:2::/64");
    expect(addressKey("::1")).toBe("ip:0:0:0:0::/64");
    expect(addressKey("::ffff:203.0.113.7")).toBe("ip:203.0.113.7");
    expect(addressKey(undefined)).toBe("ip:unknown");
  });
});

describe("6. tokens and key segments have separate keys", () => {
  it("never accepts a token signed with SESSION_SECRET itself: tokens use a derived key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { sign } = await import("hono/jwt");
    const raw = await sign({ iss: "cos-edge-signer", aud: wechatEnv.WX_APPID, sub: "0123456789abcdef0123", iat: now, exp: now + 60 }, SESSION_SECRET, "HS256");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1 }, wechatEnv, bearer(raw)), 401, "token_invalid");
  });

  it("rotating SESSION_SECRET with USER_SEGMENT_SECRET set to the old one logs everyone out but moves no folder", async () => {
    const segmentOf = async (env: SignerEnv) => {
      const token = await login("rotating", env);
      const body = (await (await postJson("/v1/uploads", { ext: "jpg", size: 1 }, env, bearer(token))).json()) as { key: string };
      return { token, segment: body.key.split("/")[1] };
    };
    const before = await segmentOf(wechatEnv);
    const rotated = { ...wechatEnv, SESSION_SECRET: "a-brand-new-session-secret-0123456789abcdef", USER_SEGMENT_SECRET: SESSION_SECRET };
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1 }, rotated, bearer(before.token)), 401, "token_invalid");
    expect((await segmentOf(rotated)).segment).toBe(before.segment);
    // Without USER_SEGMENT_SECRET the same rotation would start new folders.
    const { USER_SEGMENT_SECRET: _kept, ...moved } = rotated;
    expect((await segmentOf(moved)).segment).not.toBe(before.segment);
  });

  it("refuses a short USER_SEGMENT_SECRET", async () => {
    const message = await expectError(await call("/healthz", {}, { ...wechatEnv, USER_SEGMENT_SECRET: "short" }), 500, "config_invalid");
    expect(message.startsWith("USER_SEGMENT_SECRET")).toBe(true);
  });
});

describe("7. a token must carry iat and exp within the session lifetime, and our issuer and audience", () => {
  const now = Math.floor(Date.now() / 1000);
  const good = { iss: "cos-edge-signer", aud: wechatEnv.WX_APPID, sub: "0123456789abcdef0123", iat: now, exp: now + 600 };
  const bad: [string, Record<string, unknown>][] = [
    ["no exp", { ...good, exp: undefined }],
    ["no iat", { ...good, iat: undefined }],
    ["exp far beyond SESSION_TTL_SECONDS", { ...good, exp: now + 10 * 365 * 86400 }],
    ["a lifetime one second over SESSION_TTL_SECONDS", { ...good, iat: now - 1, exp: now + 3600 }],
    ["another issuer", { ...good, iss: "someone-else" }],
    ["no issuer", { ...good, iss: undefined }],
    ["another Mini Program's AppID", { ...good, aud: "wx00000000000000ff" }],
    ["no audience", { ...good, aud: undefined }],
  ];
  it("accepts the well-formed token", async () => {
    expect((await postJson("/v1/uploads", { ext: "jpg", size: 1 }, wechatEnv, bearer(await signSessionClaims(good)))).status).toBe(200);
  });
  it("a token the isolate already verified (and keeps, to skip the HMAC) still expires on time", async () => {
    // One configuration, as in a deployed isolate, so the later calls find the token verified; the clock is a parameter.
    const auth = signerConfig(wechatEnv).auth;
    if (auth.mode !== "wechat") throw new Error("wechatEnv must turn sessions on");
    const start = Math.floor(Date.now() / 1000);
    const token = await signSessionClaims({ ...good, iat: start, exp: start + 2 });
    const at = (seconds: number) => sessionUser(auth, `Bearer ${token}`, new Date(seconds * 1000));
    const verifications = vi.spyOn(crypto.subtle, "verify");
    try {
      expect(await at(start)).toBe(good.sub);
      expect(await at(start + 1.999)).toBe(good.sub);
      expect(verifications).toHaveBeenCalledTimes(1);
      await expect(at(start + 2)).rejects.toMatchObject({ code: "token_expired", status: 401 });
    } finally {
      verifications.mockRestore();
    }
  });
  it("two requests of one isolate verify the token once", async () => {
    const app = createApp();
    const env = { ...wechatEnv };
    const token = await signSessionClaims(good);
    const send = () => app.request("http://signer.test/v1/uploads", { method: "POST", headers: { "Content-Type": "application/json", ...bearer(token) }, body: '{"ext":"jpg","size":1}' }, env);
    const verifications = vi.spyOn(crypto.subtle, "verify");
    try {
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      expect(verifications).toHaveBeenCalledTimes(1);
    } finally {
      verifications.mockRestore();
    }
  });
  for (const [what, claims] of bad) {
    it(`refuses ${what}`, async () => {
      const token = await signSessionClaims(JSON.parse(JSON.stringify(claims)));
      await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1 }, wechatEnv, bearer(token)), 401, "token_invalid");
    });
  }
});

describe("8. request ids and WeChat's odd answers", () => {
  it("never adopts the client's X-Request-Id; logs it apart as clientRequestId", async () => {
    const response = await call("/nowhere", { headers: { "X-Request-Id": "client-chosen-id" } });
    const ours = response.headers.get("X-Request-Id")!;
    expect(ours).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await call("/healthz", { headers: { "X-Request-Id": "client-chosen-id" } })).headers.get("X-Request-Id")).not.toBe("client-chosen-id");
    const line = JSON.parse(capturedLogs().findLast((entry) => entry.includes(ours))!);
    expect(line).toMatchObject({ requestId: ours, clientRequestId: "client-chosen-id", status: 404 });
    // A client id that could break a log reader is not logged at all.
    const odd = await call("/nowhere", { headers: { "X-Request-Id": 'x","level":"error' } });
    expect(JSON.parse(capturedLogs().findLast((entry) => entry.includes(odd.headers.get("X-Request-Id")!))!).clientRequestId).toBeUndefined();
  });

  it("a JSON null from code2Session is 502 wechat_unavailable, not 500", async () => {
    await expectError(await postJson("/v1/session", { code: "null" }, wechatEnv), 502, "wechat_unavailable");
  });
});

describe("9. requests that cannot be turned into other requests (issue 18)", () => {
  const sdkEnv = { ...baseEnv, SDK_ROUTES: "true" } satisfies SignerEnv;
  const HOST = `${baseEnv.COS_BUCKET}.cos.${baseEnv.COS_REGION}.myqcloud.com`;
  const KEY = "uploads/2026/11/29/0123456789abcdef0123456789abcdef.jpg";
  const UPLOAD_ID = "1764547200000f0e1d2c3b4a5968778695a4b3c2";
  const sdk = (overrides: Record<string, unknown>) => ({
    Bucket: baseEnv.COS_BUCKET,
    Region: baseEnv.COS_REGION,
    Method: "put",
    Key: KEY,
    Query: {},
    Headers: { "Content-Length": 10, Host: HOST, "x-cos-forbid-overwrite": "true" },
    ...overrides,
  });
  const refused = async (body: Record<string, unknown>, status: number, code: string, env: SignerEnv = sdkEnv) =>
    expectError(await postJson("/v1/cos/authorization", body, env), status, code);

  it("the SDK routes are off unless SDK_ROUTES=true, in every AUTH_MODE", async () => {
    for (const env of [baseEnv, wechatEnv, { ...baseEnv, SDK_ROUTES: "false" }] as SignerEnv[]) {
      for (const [path, body] of [["/v1/cos/keys", { ext: "jpg" }], ["/v1/cos/authorization", sdk({})], ["/v1/cos/credentials", {}]] as const) {
        const message = await expectError(await postJson(path, body, env), 404, "sdk_routes_off");
        expect(message).toContain("SDK_ROUTES=true");
      }
    }
    expect((await postJson("/v1/cos/keys", { ext: "jpg" }, sdkEnv)).status).toBe(200);
  });

  it("no empty PUT signature, which PUT Object - Copy could use: /v1/uploads and the SDK's PutObject and UploadPart", async () => {
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 0 }), 400, "size_invalid");
    expect((await postJson("/v1/uploads", { ext: "jpg", size: 0, method: "post" })).status).toBe(200);
    await refused(sdk({ Headers: { "Content-Length": 0, Host: HOST, "x-cos-forbid-overwrite": "true" } }), 400, "size_invalid");
    await refused(sdk({ Query: { partNumber: 1, uploadId: UPLOAD_ID }, Headers: { "Content-Length": 0, Host: HOST } }), 400, "size_invalid");
  });

  it("uploadId and partNumber only in COS's shapes: an empty one would sign the request without it", async () => {
    for (const [Method, Query] of [
      ["delete", { uploadId: "" }],
      ["get", { uploadId: "" }],
      ["post", { uploadId: "" }],
      ["put", { partNumber: 1, uploadId: "" }],
      ["put", { partNumber: 1, uploadId: "a&b=c" }],
      ["put", { partNumber: "", uploadId: UPLOAD_ID }],
      ["put", { partNumber: 0, uploadId: UPLOAD_ID }],
      ["put", { partNumber: 10001, uploadId: UPLOAD_ID }],
      ["put", { partNumber: "01", uploadId: UPLOAD_ID }],
    ] as const) {
      await refused(sdk({ Method, Query }), 400, "query_invalid");
    }
    const large = { ...sdkEnv, UPLOAD_MULTIPART_MAX_BYTES: String(20 * 1024 ** 3) };
    expect((await postJson("/v1/cos/authorization", sdk({ Query: { partNumber: 10000, uploadId: UPLOAD_ID } }), large)).status).toBe(200);
    // 100 MiB (the default limit) holds at most 101 parts: every part but the last is at least 1 MiB.
    expect((await postJson("/v1/cos/authorization", sdk({ Query: { partNumber: 101, uploadId: UPLOAD_ID } }), sdkEnv)).status).toBe(200);
    await refused(sdk({ Query: { partNumber: 102, uploadId: UPLOAD_ID } }), 400, "query_invalid");
  });

  it("sub-resources and extra parameters are refused, not signed: ?acl, ?tagging, ?append, a listing as GET Bucket or ?policy", async () => {
    for (const Query of [{ acl: "" }, { tagging: "" }, { append: "", position: 0 }, { "response-content-type": "text/html" }]) {
      await refused(sdk({ Query }), 403, "operation_not_allowed");
    }
    const list = (Query: Record<string, string>) => sdk({ Method: "get", Key: "", Pathname: "/", Query, Headers: { Host: HOST } });
    for (const Query of [{ uploads: "", prefix: "uploads/", acl: "" }, { uploads: "", prefix: "uploads/", policy: "" }, { prefix: "uploads/" }] as Record<string, string>[]) {
      await refused(list(Query), 403, "operation_not_allowed");
    }
  });

  it("the SDK routes keep the profile's rules: methods, contentTypes, forbidOverwrite", async () => {
    const profiles = {
      formsonly: { bucket: baseEnv.COS_BUCKET, methods: ["post"], extensions: ["jpg", "png"], contentTypes: ["image/jpeg", "image/png"] },
      typed: { bucket: baseEnv.COS_BUCKET, extensions: ["jpg"], contentTypes: ["image/jpeg"] },
      open: { bucket: baseEnv.COS_BUCKET, forbidOverwrite: false },
    };
    const env = { ...sdkEnv, UPLOAD_PROFILES: profiles } satisfies SignerEnv;
    await refused({ ...sdk({}), profile: "formsonly" }, 403, "operation_not_allowed", env);
    await refused({ ...sdk({ Headers: { "Content-Length": 10, Host: HOST, "x-cos-forbid-overwrite": "true", "Content-Type": "image/svg+xml" } }), profile: "formsonly" }, 403, "operation_not_allowed", env);
    await refused({ ...sdk({}), profile: "typed" }, 403, "content_type_unbound", env);
    await refused({ ...sdk({ Method: "post", Query: { uploads: "" } }), profile: "typed" }, 403, "content_type_unbound", env);
    const typed = await postJson("/v1/cos/authorization", { ...sdk({ Headers: { "Content-Length": 10, Host: HOST, "x-cos-forbid-overwrite": "true", "Content-Type": "image/jpeg" } }), profile: "typed" }, env);
    expect(typed.status).toBe(200);
    await refused(sdk({ Headers: { "Content-Length": 10, Host: HOST } }), 400, "overwrite_protection_required");
    await refused(sdk({ Method: "post", Query: { uploads: "" }, Headers: { Host: HOST, "x-cos-forbid-overwrite": "false" } }), 400, "overwrite_protection_required");
    expect((await postJson("/v1/cos/authorization", { ...sdk({ Headers: { "Content-Length": 10, Host: HOST } }), profile: "open" }, env)).status).toBe(200);
  });

  it("reads are signed with the read key pair (COS_READ_SECRET_ID), uploads with the write pair", async () => {
    const READ_ID = "AKIDREADONLYxxxxxxxxxxxxxxxxxxxxxxxx";
    const env = { ...sdkEnv, UPLOAD_READ: "owner", COS_READ_SECRET_ID: READ_ID, COS_READ_SECRET_KEY: "read-secret-key-never-shown" } satisfies SignerEnv;
    const signedBy = async (body: Record<string, unknown>) => {
      const response = await postJson("/v1/cos/authorization", body, env);
      expect(response.status).toBe(200);
      return authorizationFields(((await response.json()) as { Authorization: string }).Authorization)["q-ak"];
    };
    expect(await signedBy(sdk({}))).toBe(baseEnv.COS_SECRET_ID);
    expect(await signedBy(sdk({ Method: "head", Headers: { Host: HOST } }))).toBe(READ_ID);
    expect(await signedBy(sdk({ Method: "get", Headers: { Host: HOST } }))).toBe(READ_ID);
    const url = (await (await postJson("/v1/objects/url", { key: KEY }, env)).json()) as { url: string };
    expect(new URL(url.url).searchParams.get("q-ak")).toBe(READ_ID);
    const put = (await (await postJson("/v1/uploads", { ext: "jpg", size: 3 }, env)).json()) as PutBody;
    expect(authorizationFields(put.headers.Authorization!)["q-ak"]).toBe(baseEnv.COS_SECRET_ID);
    await expectError(await call("/healthz", {}, { ...env, COS_READ_SECRET_KEY: "" }), 500, "config_invalid");
  });
});
