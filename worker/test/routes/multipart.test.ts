// hosts: workers node edgeone
/**
 * Multipart routes inside workerd where no COS is needed: the upload token (minted here with the key derivation the
 * README documents, computed on its own) and the part signatures, checked field by field.
 */
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { authorizationFields, baseEnv, type ErrorBody, expectError, postJson, SECRET_KEY } from "../helpers.js";

const MiB = 1024 * 1024;

/** HMAC-SHA256(SecretKey, "cos-edge-signer/upload-token/v1") as the HS256 key, claims as given. */
async function uploadToken(claims: Record<string, unknown>, secretKey = SECRET_KEY): Promise<string> {
  const utf8 = new TextEncoder();
  const hmac = (key: BufferSource, message: string) =>
    crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then((k) => crypto.subtle.sign("HMAC", k, utf8.encode(message)));
  const key = await crypto.subtle.importKey("raw", await hmac(utf8.encode(secretKey), "cos-edge-signer/upload-token/v1"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return sign(claims, key, "HS256");
}

const now = Math.floor(Date.now() / 1000);
const upload = {
  aud: "cos-edge-signer/multipart",
  sub: "",
  profile: "default",
  key: "uploads/2026/11/29/0123456789abcdef0123456789abcdef.mp4",
  uploadId: "1764000000abcdef",
  size: 12 * MiB + 5,
  partSize: 5 * MiB,
  partCount: 3,
  contentType: "video/mp4",
  iat: now,
  exp: now + 3600,
};

describe("POST /v1/multipart/parts", () => {
  it("signs each part for its number, the upload, the host and its exact length (the last one shorter)", async () => {
    const response = await postJson("/v1/multipart/parts", { token: await uploadToken(upload), partNumbers: [3, 1] });
    expect(response.status).toBe(200);
    const { parts } = (await response.json()) as { parts: { partNumber: number; url: string; headers: Record<string, string> }[] };
    expect(parts.map((part) => part.partNumber)).toEqual([3, 1]);
    const base = `https://cos.ap-guangzhou.myqcloud.com/examplebucket-1250000000/${upload.key}`;
    expect(parts[0]!.url).toBe(`${base}?partNumber=3&uploadId=${upload.uploadId}`);
    for (const part of parts) {
      const auth = authorizationFields(part.headers.Authorization!);
      expect(auth["q-header-list"]).toBe("content-length;host");
      expect(auth["q-url-param-list"]).toBe("partnumber;uploadid");
      const [start, end] = auth["q-key-time"]!.split(";").map(Number) as [number, number];
      expect(end - start).toBe(3660);
    }
  });

  it("binds a Content-MD5 the client gives", async () => {
    const response = await postJson("/v1/multipart/parts", { token: await uploadToken(upload), partNumbers: [2], contentMd5: { 2: "1B2M2Y8AsgTpgAmY7PhCfg==" } });
    const { parts } = (await response.json()) as { parts: { headers: Record<string, string> }[] };
    expect(parts[0]!.headers["Content-MD5"]).toBe("1B2M2Y8AsgTpgAmY7PhCfg==");
    expect(authorizationFields(parts[0]!.headers.Authorization!)["q-header-list"]).toBe("content-length;content-md5;host");
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken(upload), partNumbers: [2], contentMd5: { 2: "nope" } }), 400, "body_invalid");
  });

  it("refuses an expired token, one signed with another SecretKey, another audience, or a profile the signer lacks", async () => {
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken({ ...upload, exp: now - 1 }), partNumbers: [1] }), 401, "upload_token_expired");
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken(upload, "another-secret-key"), partNumbers: [1] }), 401, "upload_token_invalid");
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken({ ...upload, aud: "cos-edge-signer" }), partNumbers: [1] }), 401, "upload_token_invalid");
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken({ ...upload, profile: "gone" }), partNumbers: [1] }), 401, "upload_token_invalid");
    await expectError(await postJson("/v1/multipart/parts", { partNumbers: [1] }), 400, "body_invalid");
  });

  it("refuses a token of a user when anyone may sign (its sub is not the caller's)", async () => {
    await expectError(await postJson("/v1/multipart/parts", { token: await uploadToken({ ...upload, sub: "0123456789abcdef0123" }), partNumbers: [1] }), 403, "upload_token_foreign");
  });

  it("is off for a profile with multipart = false", async () => {
    const env = { ...baseEnv, UPLOAD_MULTIPART: "false" };
    await expectError(await postJson("/v1/multipart", { ext: "mp4", size: 30 * MiB }, env), 400, "multipart_off");
    // Without multipart, /v1/uploads takes the file whole.
    expect((await postJson("/v1/uploads", { ext: "mp4", size: 30 * MiB }, env)).status).toBe(200);
  });

  it("refuses a part size under COS's 1 MiB or over 5 GiB", async () => {
    for (const partSize of [MiB - 1, 5 * 1024 ** 3 + 1, MiB + 0.5, "8"]) {
      await expectError(await postJson("/v1/multipart", { ext: "mp4", size: 30 * MiB, partSize }), 400, "part_size_invalid");
    }
  });
});
