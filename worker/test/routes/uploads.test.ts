// hosts: workers node edgeone
import { describe, expect, it } from "vitest";
import { authorizationFields, baseEnv, call, decodePolicy, type ErrorBody, expectError, postJson, SECRET_KEY } from "../helpers.js";

const KEY = /^uploads\/(\d{4})\/(\d{2})\/(\d{2})\/[0-9a-f]{32}\.jpg$/;

function todayPath(): string {
  return new Date().toISOString().slice(0, 10).replaceAll("-", "/");
}

describe("GET /put-sign (seed-compatible)", () => {
  it("returns exactly the fields Tencent's sample reads, for the regional domain with the bucket in the path", async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await call("/put-sign?ext=jpg");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["authorization", "cosHost", "cosKey", "securityToken"]);
    expect(body.cosHost).toBe("cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000");
    expect(body.cosKey).toMatch(KEY);
    expect(body.cosKey!.startsWith(`uploads/${todayPath()}/`)).toBe(true);
    expect(body.securityToken).toBe("");
    const auth = authorizationFields(body.authorization!);
    expect(Object.keys(auth)).toEqual(["q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"]);
    expect(auth["q-ak"]).toBe(baseEnv.COS_SECRET_ID);
    expect(auth["q-header-list"]).toBe("host");
    expect(auth["q-url-param-list"]).toBe("");
    expect(auth["q-signature"]).toMatch(/^[0-9a-f]{40}$/);
    const [start, end] = auth["q-key-time"]!.split(";").map(Number) as [number, number];
    expect(auth["q-sign-time"]).toBe(auth["q-key-time"]);
    expect(start).toBeGreaterThanOrEqual(before - 60);
    expect(start).toBeLessThanOrEqual(before);
    expect(end - start).toBe(660);
  });

  it("gives a new random key each time", async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 20; i++) keys.add(((await (await call("/put-sign?ext=png")).json()) as { cosKey: string }).cosKey);
    expect(keys.size).toBe(20);
  });

  it("lowercases the suffix and accepts a leading dot", async () => {
    for (const ext of ["JPG", ".jpg", "Jpg"]) {
      const body = (await (await call(`/put-sign?ext=${encodeURIComponent(ext)}`)).json()) as { cosKey: string };
      expect(body.cosKey).toMatch(KEY);
    }
  });

  it("uses the bucket's own domain when COS_PATH_STYLE=false", async () => {
    const body = (await (await call("/put-sign?ext=jpg", {}, { ...baseEnv, COS_PATH_STYLE: "false" })).json()) as Record<string, string>;
    expect(body.cosHost).toBe("examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com");
  });

  it("uses COS_ENDPOINT's host, keeping the bucket in the path when path-style", async () => {
    const pathStyle = (await (await call("/put-sign?ext=jpg", {}, { ...baseEnv, COS_ENDPOINT: "https://upload.example.com" })).json()) as Record<string, string>;
    expect(pathStyle.cosHost).toBe("upload.example.com/examplebucket-1250000000");
    const custom = (await (
      await call("/put-sign?ext=jpg", {}, { ...baseEnv, COS_ENDPOINT: "https://static.example.com/", COS_PATH_STYLE: "false" })
    ).json()) as Record<string, string>;
    expect(custom.cosHost).toBe("static.example.com");
  });

  it("returns the STS token when temporary credentials are configured", async () => {
    const body = (await (await call("/put-sign?ext=jpg", {}, { ...baseEnv, COS_SECURITY_TOKEN: "token+/=" })).json()) as Record<string, string>;
    expect(body.securityToken).toBe("token+/=");
  });
});

describe("GET /post-policy (seed-compatible)", () => {
  it("returns the sample's fields and a policy binding bucket, exact key and size, with no Content-Type rule", async () => {
    const response = await call("/post-policy?ext=jpg");
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["cosHost", "cosKey", "policy", "qAk", "qKeyTime", "qSignAlgorithm", "qSignature", "securityToken"]);
    expect(body.cosHost).toBe("cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000");
    expect(body.cosKey).toMatch(KEY);
    expect(body.qSignAlgorithm).toBe("sha1");
    expect(body.qAk).toBe(baseEnv.COS_SECRET_ID);
    expect(body.qSignature).toMatch(/^[0-9a-f]{40}$/);
    const policy = decodePolicy(body.policy!);
    expect(policy.conditions).toEqual([
      { "q-sign-algorithm": "sha1" },
      { "q-ak": baseEnv.COS_SECRET_ID },
      { "q-sign-time": body.qKeyTime },
      { bucket: "examplebucket-1250000000" },
      { key: body.cosKey },
      ["content-length-range", 0, 104857600],
    ]);
    const end = Number(body.qKeyTime!.split(";")[1]);
    expect(policy.expiration).toBe(new Date(end * 1000).toISOString());
  });
});

describe("suffix checks (both seed routes and /v1/uploads)", () => {
  const invalid = ["", "../x", "jpg/../..", "a".repeat(50), "jpg%00", "jp g", "图片", "ｊｐｇ", "jpg.", "..jpg", "j*g", "jpg?x=1"];
  for (const ext of invalid) {
    it(`refuses ${JSON.stringify(ext)} with ext_invalid`, async () => {
      await expectError(await call(`/put-sign?ext=${encodeURIComponent(ext)}`), 400, "ext_invalid");
      await expectError(await call(`/post-policy?ext=${encodeURIComponent(ext)}`), 400, "ext_invalid");
      await expectError(await postJson("/v1/uploads", { ext }), 400, "ext_invalid");
    });
  }

  it("refuses a missing ext", async () => {
    await expectError(await call("/put-sign"), 400, "ext_invalid");
    await expectError(await postJson("/v1/uploads", { method: "put" }), 400, "ext_invalid");
  });

  it("refuses a well-formed suffix outside the allowlist with ext_not_allowed", async () => {
    const message = await expectError(await call("/put-sign?ext=exe"), 400, "ext_not_allowed");
    expect(message).toContain("jpg");
    await expectError(await call("/post-policy?ext=html"), 400, "ext_not_allowed");
    await expectError(await postJson("/v1/uploads", { ext: "svg" }), 400, "ext_not_allowed");
  });

  it("follows UPLOAD_ALLOWED_EXTENSIONS", async () => {
    const env = { ...baseEnv, UPLOAD_ALLOWED_EXTENSIONS: "pdf, TXT" };
    expect((await call("/put-sign?ext=txt", {}, env)).status).toBe(200);
    await expectError(await call("/put-sign?ext=jpg", {}, env), 400, "ext_not_allowed");
  });
});

describe("POST /v1/uploads", () => {
  it("PUT with size: signs host, content-length, content-type and x-cos-forbid-overwrite; lists the headers to send", async () => {
    const response = await postJson("/v1/uploads", { ext: "jpg", size: 1234, method: "put" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { method: string; key: string; url: string; objectUrl: string; expiresAt: string; headers: Record<string, string> };
    expect(body.method).toBe("PUT");
    expect(body.key).toMatch(KEY);
    expect(body.url).toBe(`https://cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000/${body.key}`);
    expect(body.objectUrl).toBe(body.url);
    expect(Object.keys(body.headers).sort()).toEqual(["Authorization", "Content-Type", "x-cos-forbid-overwrite"]);
    expect(body.headers["Content-Type"]).toBe("image/jpeg");
    expect(body.headers["x-cos-forbid-overwrite"]).toBe("true");
    const auth = authorizationFields(body.headers.Authorization!);
    expect(auth["q-header-list"]).toBe("content-length;content-type;host;x-cos-forbid-overwrite");
    const end = Number(auth["q-key-time"]!.split(";")[1]);
    expect(body.expiresAt).toBe(new Date(end * 1000).toISOString());
  });

  it("PUT is the default method, and needs size: without content-length in the signature any size would do", async () => {
    const body = (await (await postJson("/v1/uploads", { ext: "png", size: 10 })).json()) as { method: string; headers: Record<string, string> };
    expect(body.method).toBe("PUT");
    expect(authorizationFields(body.headers.Authorization!)["q-header-list"]).toBe("content-length;content-type;host;x-cos-forbid-overwrite");
    await expectError(await postJson("/v1/uploads", { ext: "png" }), 400, "size_required");
    await expectError(await postJson("/v1/uploads", { ext: "png", method: "put" }), 400, "size_required");
  });

  it("PUT adds the STS token header, unsigned", async () => {
    const body = (await (await postJson("/v1/uploads", { ext: "png", size: 10 }, { ...baseEnv, COS_SECURITY_TOKEN: "sts-token" })).json()) as {
      headers: Record<string, string>;
    };
    expect(body.headers["x-cos-security-token"]).toBe("sts-token");
    expect(authorizationFields(body.headers.Authorization!)["q-header-list"]).not.toContain("x-cos-security-token");
  });

  it("POST with size and contentType: exact size range, Content-Type bound with eq, fields in order before the file", async () => {
    const response = await postJson("/v1/uploads", { ext: "mp4", size: 5_000_000, contentType: "video/mp4", method: "post" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      method: string;
      key: string;
      url: string;
      objectUrl: string;
      fileField: string;
      expiresAt: string;
      fields: Record<string, string>;
    };
    expect(body.method).toBe("POST");
    expect(body.url).toBe("https://cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000/");
    expect(body.objectUrl).toBe(`https://cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000/${body.key}`);
    expect(body.fileField).toBe("file");
    expect(Object.keys(body.fields)).toEqual([
      "key",
      "Content-Type",
      "success_action_status",
      "x-cos-forbid-overwrite",
      "policy",
      "q-sign-algorithm",
      "q-ak",
      "q-key-time",
      "q-signature",
    ]);
    expect(body.fields["x-cos-forbid-overwrite"]).toBe("true");
    expect(body.fields.key).toBe(body.key);
    const policy = decodePolicy(body.fields.policy!);
    expect(policy.expiration).toBe(body.expiresAt);
    expect(policy.conditions).toEqual([
      { "q-sign-algorithm": "sha1" },
      { "q-ak": baseEnv.COS_SECRET_ID },
      { "q-sign-time": body.fields["q-key-time"] },
      { bucket: "examplebucket-1250000000" },
      { key: body.key },
      ["content-length-range", 5_000_000, 5_000_000],
      ["eq", "$Content-Type", "video/mp4"],
      { "x-cos-forbid-overwrite": "true" },
    ]);
  });

  it("POST without size allows 0 to UPLOAD_MAX_BYTES", async () => {
    const body = (await (await postJson("/v1/uploads", { ext: "jpg", method: "post" }, { ...baseEnv, UPLOAD_MAX_BYTES: "1000" })).json()) as {
      fields: Record<string, string>;
    };
    expect(decodePolicy(body.fields.policy!).conditions).toContainEqual(["content-length-range", 0, 1000]);
  });

  it("POST to the bucket domain when virtual-hosted", async () => {
    const body = (await (await postJson("/v1/uploads", { ext: "jpg", method: "post" }, { ...baseEnv, COS_PATH_STYLE: "false" })).json()) as {
      url: string;
      key: string;
      objectUrl: string;
    };
    expect(body.url).toBe("https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/");
    expect(body.objectUrl).toBe(`https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/${body.key}`);
  });

  it("uses COS_ENDPOINT for a local emulator", async () => {
    const env = { ...baseEnv, COS_ENDPOINT: "http://127.0.0.1:9000" };
    const body = (await (await postJson("/v1/uploads", { ext: "jpg", size: 1 }, env)).json()) as { url: string; key: string };
    expect(body.url).toBe(`http://127.0.0.1:9000/examplebucket-1250000000/${body.key}`);
  });

  it("keeps UPLOAD_KEY_PREFIX (nested or empty)", async () => {
    const nested = (await (await postJson("/v1/uploads", { ext: "jpg", size: 1 }, { ...baseEnv, UPLOAD_KEY_PREFIX: "/app/photos/" })).json()) as { key: string };
    expect(nested.key).toMatch(/^app\/photos\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
    const empty = (await (await postJson("/v1/uploads", { ext: "jpg", size: 1 }, { ...baseEnv, UPLOAD_KEY_PREFIX: "" })).json()) as { key: string };
    expect(empty.key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/);
  });

  it("signs for UPLOAD_SIGNATURE_TTL_SECONDS", async () => {
    const before = Math.floor(Date.now() / 1000);
    const body = (await (await postJson("/v1/uploads", { ext: "jpg", size: 1 }, { ...baseEnv, UPLOAD_SIGNATURE_TTL_SECONDS: "120" })).json()) as {
      expiresAt: string;
    };
    const end = Date.parse(body.expiresAt) / 1000;
    expect(end).toBeGreaterThanOrEqual(before + 120);
    expect(end).toBeLessThanOrEqual(before + 121);
  });

  it("refuses a size over the limit, a negative, fractional or string size", async () => {
    const env = { ...baseEnv, UPLOAD_MAX_BYTES: "1000" };
    expect((await postJson("/v1/uploads", { ext: "jpg", size: 1000 }, env)).status).toBe(200);
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1001 }, env), 400, "file_too_large");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1001, method: "post" }, env), 400, "file_too_large");
    for (const size of [-1, 1.5, "10", null, 2 ** 60]) {
      await expectError(await postJson("/v1/uploads", { ext: "jpg", size }), 400, "size_invalid");
    }
  });

  it("refuses a bad method, content type, or a type from another family than the suffix", async () => {
    await expectError(await postJson("/v1/uploads", { ext: "jpg", method: "PATCH" }), 400, "method_invalid");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1, contentType: "image/jpeg; charset=x" }), 400, "content_type_invalid");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1, contentType: 5 }), 400, "content_type_invalid");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", size: 1, contentType: "text/html" }), 400, "content_type_mismatch");
    expect((await postJson("/v1/uploads", { ext: "jpg", size: 1, contentType: "IMAGE/PJPEG" })).status).toBe(200);
  });

  it("refuses bodies that are not a JSON object, unknown fields, wrong content type, and oversized bodies", async () => {
    await expectError(await call("/v1/uploads", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{nope" }), 400, "body_invalid");
    await expectError(await postJson("/v1/uploads", ["jpg"]), 400, "body_invalid");
    await expectError(await postJson("/v1/uploads", null), 400, "body_invalid");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", key: "mine.jpg" }), 400, "body_invalid");
    await expectError(await call("/v1/uploads", { method: "POST", headers: { "Content-Type": "text/plain" }, body: '{"ext":"jpg"}' }), 415, "unsupported_media_type");
    await expectError(await call("/v1/uploads", { method: "POST", body: '{"ext":"jpg"}' }), 415, "unsupported_media_type");
    await expectError(await postJson("/v1/uploads", { ext: "jpg", pad: "x".repeat(5000) }), 413, "body_too_large");
  });
});

describe("health, unknown routes and methods", () => {
  it("GET /healthz", async () => {
    const response = await call("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("404 JSON for an unknown route", async () => {
    await expectError(await call("/nope"), 404, "not_found");
    await expectError(await call("/v1/uploads/extra", { method: "POST" }), 404, "not_found");
  });

  it("405 JSON with Allow for a wrong method", async () => {
    const put = await call("/put-sign?ext=jpg", { method: "POST" });
    expect(put.headers.get("Allow")).toBe("GET, HEAD");
    await expectError(put, 405, "method_not_allowed");
    const uploads = await call("/v1/uploads");
    expect(uploads.headers.get("Allow")).toBe("POST");
    await expectError(uploads, 405, "method_not_allowed");
    await expectError(await call("/healthz", { method: "DELETE" }), 405, "method_not_allowed");
  });
});

describe("configuration errors", () => {
  const cases: [string, Record<string, string | undefined>][] = [
    ["COS_SECRET_ID", { COS_SECRET_ID: undefined }],
    ["COS_SECRET_KEY", { COS_SECRET_KEY: "" }],
    ["COS_SECRET_KEY", { COS_SECRET_KEY: `${SECRET_KEY} ` }],
    ["COS_BUCKET", { COS_BUCKET: undefined }],
    ["COS_BUCKET", { COS_BUCKET: "NoAppId" }],
    ["COS_REGION", { COS_REGION: "Guangzhou" }],
    ["COS_PATH_STYLE", { COS_PATH_STYLE: "yes" }],
    ["COS_ENDPOINT", { COS_ENDPOINT: "ftp://x" }],
    ["COS_ENDPOINT", { COS_ENDPOINT: "https://example.com/path" }],
    ["UPLOAD_MAX_BYTES", { UPLOAD_MAX_BYTES: "10MB" }],
    ["UPLOAD_SIGNATURE_TTL_SECONDS", { UPLOAD_SIGNATURE_TTL_SECONDS: "86400" }],
    ["UPLOAD_SIGNATURE_TTL_SECONDS", { UPLOAD_SIGNATURE_TTL_SECONDS: "5" }],
    ["UPLOAD_ALLOWED_EXTENSIONS", { UPLOAD_ALLOWED_EXTENSIONS: "jpg,../x" }],
    ["UPLOAD_KEY_PREFIX", { UPLOAD_KEY_PREFIX: "a/../b" }],
  ];
  for (const [variable, override] of cases) {
    it(`500 config_invalid naming ${variable} for ${JSON.stringify(override)}`, async () => {
      const env = { ...baseEnv, ...override };
      for (const response of [await call("/put-sign?ext=jpg", {}, env), await postJson("/v1/uploads", { ext: "jpg" }, env), await call("/healthz", {}, env)]) {
        const text = await response.clone().text();
        expect(text).not.toContain(SECRET_KEY);
        const message = await expectError(response, 500, "config_invalid");
        expect(message.startsWith(variable)).toBe(true);
        for (const value of Object.values(override)) if (value) expect(message).not.toContain(value.trim());
      }
    });
  }
});

describe("after the upload: the refusals that need no COS", () => {
  const key = "uploads/2026/11/29/0123456789abcdef0123456789abcdef.jpg";

  it("receipts are off without RECEIPT_SECRET; read URLs are off unless the profile says read = owner", async () => {
    await expectError(await postJson("/v1/uploads/receipt", { key }), 404, "receipts_off");
    await expectError(await postJson("/v1/objects/url", { key }), 403, "read_not_allowed");
  });

  it("a key outside the caller's prefix, or not of the signer's shape, is refused before COS is asked", async () => {
    const env = { ...baseEnv, RECEIPT_SECRET: "receipt-secret-0123456789abcdef-0123456789", UPLOAD_READ: "owner" };
    for (const path of ["/v1/uploads/receipt", "/v1/objects/url"]) {
      await expectError(await postJson(path, { key: "other/2026/11/29/0123456789abcdef0123456789abcdef.jpg" }, env), 403, "key_not_allowed");
      await expectError(await postJson(path, { key: "uploads/../../secret.jpg" }, env), 400, "key_invalid");
      await expectError(await postJson(path, { key, extra: 1 }, env), 400, "body_invalid");
    }
  });

  it("configuration: a short RECEIPT_SECRET, a plain-HTTP webhook off this machine, an unknown read mode", async () => {
    for (const [variable, override] of [
      ["RECEIPT_SECRET", { RECEIPT_SECRET: "short" }],
      ["RECEIPT_WEBHOOK_URL", { RECEIPT_SECRET: "receipt-secret-0123456789abcdef-0123456789", RECEIPT_WEBHOOK_URL: "http://api.example.com/hook" }],
      ["UPLOAD_READ", { UPLOAD_READ: "everyone" }],
    ] as const) {
      const message = await expectError(await call("/healthz", {}, { ...baseEnv, ...override }), 500, "config_invalid");
      expect(message.startsWith(variable)).toBe(true);
    }
  });
});
