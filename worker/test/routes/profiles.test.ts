// hosts: workers node edgeone
/** Upload profiles: several buckets and rules behind one signer, configured as one structured var. */
import { describe, expect, it } from "vitest";
import { authorizationFields, baseEnv, call, decodePolicy, type ErrorBody, expectError, postJson, SECRETS } from "../helpers.js";

const PARTNER_KEY = "partner-account-secret-key-never-shown";

// A realistic three-profile set: small public avatars, photos, and large videos in another region's bucket signed
// with another account's key pair.
const PROFILES = {
  avatar: { bucket: "avatars-1250000000", keyPrefix: "avatars", extensions: ["jpg", "png", "webp"], contentTypes: ["image/*"], maxBytes: 2_000_000, methods: ["post"] },
  photo: { bucket: "photos-1250000000", keyPrefix: "photos", extensions: "jpg,jpeg,png,heic", contentTypes: ["image/jpeg", "image/png", "image/heic"], maxBytes: 20_000_000 },
  video: {
    bucket: "videos-1250000001",
    region: "ap-shanghai",
    pathStyle: false,
    keyPrefix: "videos",
    extensions: ["mp4", "mov", "bin"],
    contentTypes: ["video/*"],
    maxBytes: 500_000_000,
    methods: ["put", "post"],
    forbidOverwrite: false,
    credentials: "partner",
    signatureTtlSeconds: 1800,
  },
};
const env = { ...baseEnv, UPLOAD_PROFILES: PROFILES, COS_SECRET_ID_PARTNER: "AKIDPARTNERxxxxxxxxxxxxxxxxxxxxxxxxx", COS_SECRET_KEY_PARTNER: PARTNER_KEY };

describe("GET /v1/profiles", () => {
  it("lists what a client may know — and nothing about buckets or keys", async () => {
    const response = await call("/v1/profiles", {}, env);
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    for (const hidden of ["AKID", "1250000000", "bucket", "credentials", "partner", PARTNER_KEY, ...SECRETS]) expect(text).not.toContain(hidden);
    expect(await response.json()).toEqual({
      profiles: [
        { name: "default", extensions: ["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"], contentTypes: [], maxBytes: 104857600, methods: ["put", "post"] },
        { name: "avatar", extensions: ["jpg", "png", "webp"], contentTypes: ["image/*"], maxBytes: 2000000, methods: ["post"] },
        { name: "photo", extensions: ["jpg", "jpeg", "png", "heic"], contentTypes: ["image/jpeg", "image/png", "image/heic"], maxBytes: 20000000, methods: ["put", "post"] },
        { name: "video", extensions: ["mp4", "mov", "bin"], contentTypes: ["video/*"], maxBytes: 500000000, methods: ["put", "post"] },
      ],
    });
  });

  it("works from a JSON string too, and without the single-bucket default when COS_BUCKET is unset", async () => {
    const { COS_BUCKET: _bucket, ...noDefault } = env;
    const response = await call("/v1/profiles", {}, { ...noDefault, UPLOAD_PROFILES: JSON.stringify(PROFILES) });
    expect(((await response.json()) as { profiles: { name: string }[] }).profiles.map((p) => p.name)).toEqual(["avatar", "photo", "video"]);
    await expectError(await postJson("/v1/uploads", { ext: "jpg" }, { ...noDefault, UPLOAD_PROFILES: PROFILES }), 400, "unknown_profile");
  });
});

describe("POST /v1/uploads with a profile", () => {
  it("goes to the profile's bucket, region and prefix, signed with its key pair", async () => {
    const video = (await (await postJson("/v1/uploads", { profile: "video", ext: "mp4", size: 1000 }, env)).json()) as { key: string; url: string; headers: Record<string, string> };
    expect(video.key).toMatch(/^videos\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.mp4$/);
    expect(video.url).toBe(`https://videos-1250000001.cos.ap-shanghai.myqcloud.com/${video.key}`);
    const auth = authorizationFields(video.headers.Authorization!);
    expect(auth["q-ak"]).toBe("AKIDPARTNERxxxxxxxxxxxxxxxxxxxxxxxxx");
    // forbidOverwrite = false: not signed, not sent.
    expect(auth["q-header-list"]).toBe("content-length;content-type;host");
    expect(video.headers["x-cos-forbid-overwrite"]).toBeUndefined();
    const [start, end] = auth["q-key-time"]!.split(";").map(Number) as [number, number];
    expect(end - start).toBe(1860);

    const photo = (await (await postJson("/v1/uploads", { profile: "photo", ext: "png", method: "post" }, env)).json()) as { key: string; url: string; fields: Record<string, string> };
    expect(photo.key).toMatch(/^photos\/.+\.png$/);
    expect(photo.url).toBe("https://cos.ap-guangzhou.myqcloud.com/photos-1250000000/");
    expect(photo.fields["q-ak"]).toBe(baseEnv.COS_SECRET_ID);
    expect(decodePolicy(photo.fields.policy!).conditions).toContainEqual({ bucket: "photos-1250000000" });
  });

  it("binds one exact type: eq in the policy (POST), signed content-type (PUT); a declared family gets the suffix's type", async () => {
    const post = (await (await postJson("/v1/uploads", { profile: "avatar", ext: "png", method: "post" }, env)).json()) as { fields: Record<string, string> };
    expect(decodePolicy(post.fields.policy!).conditions).toContainEqual(["eq", "$Content-Type", "image/png"]);
    const put = (await (await postJson("/v1/uploads", { profile: "photo", ext: "heic", size: 1, contentType: "image/heic" }, env)).json()) as { headers: Record<string, string> };
    expect(put.headers["Content-Type"]).toBe("image/heic");
    expect(authorizationFields(put.headers.Authorization!)["q-header-list"]).toContain("content-type");
    // A family (image/*) never becomes a starts-with rule (image/svg+xml starts with image/): it is the suffix's type.
    const family = (await (await postJson("/v1/uploads", { profile: "photo", ext: "jpg", method: "post", contentType: "image/*" }, env)).json()) as { fields: Record<string, string> };
    expect(decodePolicy(family.fields.policy!).conditions).toContainEqual(["eq", "$Content-Type", "image/jpeg"]);
    expect(family.fields["Content-Type"]).toBe("image/jpeg");
    // .bin has no usual type: the client declares the exact one, within the profile's rules.
    const bin = (await (await postJson("/v1/uploads", { profile: "video", ext: "bin", method: "post", contentType: "video/mpeg" }, env)).json()) as { fields: Record<string, string> };
    expect(decodePolicy(bin.fields.policy!).conditions).toContainEqual(["eq", "$Content-Type", "video/mpeg"]);
    await expectError(await postJson("/v1/uploads", { profile: "video", ext: "bin", method: "post", contentType: "video/*" }, env), 400, "content_type_invalid");
    // Undeclared, a .bin would be application/octet-stream, which this profile's video/* refuses.
    await expectError(await postJson("/v1/uploads", { profile: "video", ext: "bin", method: "post" }, env), 400, "content_type_not_allowed");
    await expectError(await postJson("/v1/uploads", { profile: "video", ext: "bin", size: 1, contentType: "video/*" }, env), 400, "content_type_invalid");
  });

  it("refuses what the profile does not allow", async () => {
    await expectError(await postJson("/v1/uploads", { profile: "avatar", ext: "mp4", method: "post" }, env), 400, "ext_not_allowed");
    await expectError(await postJson("/v1/uploads", { profile: "avatar", ext: "png", method: "put" }, env), 400, "method_invalid");
    await expectError(await postJson("/v1/uploads", { profile: "avatar", ext: "png", method: "post", size: 2_000_001 }, env), 400, "file_too_large");
    await expectError(await postJson("/v1/uploads", { profile: "photo", ext: "png", size: 1, contentType: "image/gif" }, env), 400, "content_type_mismatch");
    await expectError(await postJson("/v1/uploads", { profile: "video", ext: "bin", size: 1, contentType: "application/zip" }, env), 400, "content_type_not_allowed");
    await expectError(await postJson("/v1/uploads", { profile: "nope", ext: "jpg" }, env), 400, "unknown_profile");
    await expectError(await postJson("/v1/uploads", { profile: 7, ext: "jpg" }, env), 400, "unknown_profile");
  });
});

describe("seed routes with ?profile=", () => {
  it("sign for the profile's bucket; unknown profiles and forbidden methods are refused", async () => {
    const put = (await (await call("/put-sign?ext=jpg&profile=photo", {}, env)).json()) as { cosHost: string; cosKey: string };
    expect(put.cosHost).toBe("cos.ap-guangzhou.myqcloud.com/photos-1250000000");
    expect(put.cosKey).toMatch(/^photos\//);
    const post = (await (await call("/post-policy?ext=mp4&profile=video", {}, env)).json()) as { cosHost: string; qAk: string };
    expect(post.cosHost).toBe("videos-1250000001.cos.ap-shanghai.myqcloud.com");
    expect(post.qAk).toBe("AKIDPARTNERxxxxxxxxxxxxxxxxxxxxxxxxx");
    await expectError(await call("/put-sign?ext=png&profile=avatar", {}, env), 400, "method_invalid");
    await expectError(await call("/put-sign?ext=jpg&profile=other", {}, env), 400, "unknown_profile");
  });
});

describe("profile configuration errors name the profile and the field", () => {
  const cases: [string, unknown][] = [
    ["UPLOAD_PROFILES.photo.bucket", { photo: { region: "ap-guangzhou" } }],
    ["UPLOAD_PROFILES.photo.bucket", { photo: { bucket: "Photos" } }],
    ["UPLOAD_PROFILES.photo.maxBytes", { photo: { bucket: "photos-1250000000", maxBytes: "lots" } }],
    ["UPLOAD_PROFILES.photo.credentials", { photo: { bucket: "photos-1250000000", credentials: "missing" } }],
    ["UPLOAD_PROFILES.photo.bukket", { photo: { bukket: "photos-1250000000" } }],
    ["UPLOAD_PROFILES.photo.methods", { photo: { bucket: "photos-1250000000", methods: ["get"] } }],
    ["UPLOAD_PROFILES.photo.contentTypes", { photo: { bucket: "photos-1250000000", contentTypes: ["images"] } }],
    ["UPLOAD_PROFILES.photo.region", { photo: { bucket: "photos-1250000000", region: "Shanghai" } }],
    ["UPLOAD_PROFILES.photo.endpoint", { photo: { bucket: "photos-1250000000", endpoint: "ftp://x" } }],
    ["UPLOAD_PROFILES.Photo", { Photo: { bucket: "photos-1250000000" } }],
    ["UPLOAD_PROFILES", "{not json"],
    ["UPLOAD_PROFILES", ["photo"]],
  ];
  for (const [field, profiles] of cases) {
    it(`${field} for ${JSON.stringify(profiles)}`, async () => {
      const message = await expectError(await call("/healthz", {}, { ...env, UPLOAD_PROFILES: profiles }), 500, "config_invalid");
      expect(message.startsWith(`${field} `)).toBe(true);
      expect(message).not.toContain(PARTNER_KEY);
    });
  }
});
