// hosts: workers node edgeone
/**
 * The routes Tencent's SDKs call through getAuthorization: what /v1/cos/authorization signs (exactly the request
 * described, on the caller's own key) and every refusal with its code; /v1/cos/keys; the temporary keys' policy;
 * and how the calls are counted.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { parseConfig, type SignerEnv } from "../../src/config/index.js";
import { uploaderPolicy } from "../../src/sdk/credentials.js";
import { authorizationFields, baseEnv as routesOff, type ErrorBody, login, postJson, wechatEnv as sessionsRoutesOff } from "../helpers.js";

// The SDK routes are off unless SDK_ROUTES turns them on (security.test.ts checks the default).
const baseEnv = { ...routesOff, SDK_ROUTES: "true" } satisfies SignerEnv;
const wechatEnv = { ...sessionsRoutesOff, SDK_ROUTES: "true" } satisfies SignerEnv;

const BUCKET = baseEnv.COS_BUCKET;
const REGION = baseEnv.COS_REGION;
const BUCKET_HOST = `${BUCKET}.cos.${REGION}.myqcloud.com`;
const KEY = "uploads/2026/11/29/0123456789abcdef0123456789abcdef.jpg";
/** An UploadId of COS's shape (a timestamp and hex digits). */
const UPLOAD_ID = "1764547200000f0e1d2c3b4a5968778695a4b3c2";

/** What cos-wx-sdk-v5 passes to getAuthorization for a putObject of 1000 bytes, changed by `overrides`. */
function sdkRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  // The profile forbids overwrites (the default): the app passes the header to the SDK call, which signs it.
  const headers = { "x-cos-forbid-overwrite": "true", ...((overrides.Headers as object | undefined) ?? { "Content-Length": 1000, Host: BUCKET_HOST }) };
  return {
    Bucket: BUCKET,
    Region: REGION,
    Method: "put",
    Key: KEY,
    Pathname: `/${KEY}`,
    Query: {},
    Scope: [{ action: "name/cos:PutObject", bucket: BUCKET, region: REGION, prefix: KEY }],
    SystemClockOffset: 0,
    ForceSignHost: true,
    ...overrides,
    Headers: headers,
  };
}

async function authorize(body: Record<string, unknown>, env: SignerEnv = baseEnv, headers: Record<string, string> = {}) {
  const response = await postJson("/v1/cos/authorization", body, env, headers);
  return { status: response.status, body: (await response.json()) as { Authorization: string; ExpiredTime: number } & Partial<ErrorBody> };
}

async function expectRefused(body: Record<string, unknown>, status: number, code: string, env: SignerEnv = baseEnv): Promise<void> {
  const answer = await authorize(body, env);
  expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status, code });
}

describe("POST /v1/cos/authorization", () => {
  it("signs a PutObject with its Content-Length and Host, and nothing the SDK did not describe", async () => {
    const { status, body } = await authorize(sdkRequest());
    expect(status).toBe(200);
    const fields = authorizationFields(body.Authorization);
    expect(fields["q-ak"]).toBe(baseEnv.COS_SECRET_ID);
    expect(fields["q-header-list"]).toBe("content-length;host;x-cos-forbid-overwrite");
    expect(fields["q-url-param-list"]).toBe("");
    const [start, end] = fields["q-key-time"]!.split(";").map(Number) as [number, number];
    expect(end - start).toBe(600 + 60);
    expect(body.ExpiredTime).toBe(end);
    expect(body).not.toHaveProperty("SecurityToken");
  });

  it("signs each step of a slice upload with its own query, so that no signature serves another step", async () => {
    const steps: [string, Record<string, string | number>, string][] = [
      ["post", { uploads: "" }, "uploads"],
      ["put", { partNumber: 3, uploadId: UPLOAD_ID }, "partnumber;uploadid"],
      ["get", { uploadId: UPLOAD_ID, "max-parts": 1000 }, "max-parts;uploadid"],
      ["delete", { uploadId: UPLOAD_ID }, "uploadid"],
    ];
    // A Complete is signed after the Worker's own ListParts of the upload: test/node/tencent-sdks.test.ts.
    for (const [method, query, list] of steps) {
      const { status, body } = await authorize(sdkRequest({ Method: method, Query: query }));
      expect(status).toBe(200);
      expect(authorizationFields(body.Authorization)["q-url-param-list"]).toBe(list);
    }
  });

  it("lists unfinished uploads only under the caller's own space", async () => {
    const list = (prefix: string) => sdkRequest({ Method: "get", Key: "", Pathname: "/", Query: { uploads: "", prefix }, Headers: { Host: BUCKET_HOST } });
    expect((await authorize(list(KEY))).status).toBe(200);
    await expectRefused(list("elsewhere/"), 403, "key_not_allowed");
    await expectRefused(list(""), 403, "key_not_allowed");
  });

  it("takes the regional domain with the bucket in the path, and a profile's own endpoint", async () => {
    const pathStyle = sdkRequest({ Pathname: `/${BUCKET}/${KEY}`, Headers: { "Content-Length": 5, Host: `cos.${REGION}.myqcloud.com` } });
    expect((await authorize(pathStyle)).status).toBe(200);
    const custom = { ...baseEnv, COS_ENDPOINT: "https://static.example.com", COS_PATH_STYLE: "false" };
    expect((await authorize(sdkRequest({ Headers: { "Content-Length": 5, Host: "static.example.com" } }), custom)).status).toBe(200);
    await expectRefused(sdkRequest(), 403, "bucket_not_allowed", custom);
  });

  it("refuses what an uploader never needs, naming the reason", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ Bucket: "otherbucket-1250000000" }, 403, "bucket_not_allowed"],
      [{ Region: "ap-beijing" }, 403, "bucket_not_allowed"],
      [{ Headers: { "Content-Length": 1, Host: "evil.example.com" } }, 403, "bucket_not_allowed"],
      [{ Headers: { "Content-Length": 1 } }, 400, "host_required"],
      [{ Method: "delete" }, 403, "operation_not_allowed"],
      [{ Method: "get" }, 403, "operation_not_allowed"],
      [{ Query: { acl: "" } }, 403, "operation_not_allowed"],
      [{ Method: "put", Query: { partNumber: 1, uploadId: "a", tagging: "" } }, 403, "operation_not_allowed"],
      [{ Method: "post", Key: "", Pathname: "/", Headers: { Host: BUCKET_HOST } }, 403, "operation_not_allowed"],
      [{ Method: "get", Key: "", Pathname: "/", Query: { prefix: "" }, Headers: { Host: BUCKET_HOST } }, 403, "operation_not_allowed"],
      [{ Headers: { "Content-Length": 1, Host: BUCKET_HOST, "x-cos-acl": "public-read" } }, 403, "header_not_allowed"],
      [{ Headers: { "Content-Length": 1, Host: BUCKET_HOST, "x-cos-grant-read": 'id="1"' } }, 403, "header_not_allowed"],
      [{ Headers: { "Content-Length": 1, Host: BUCKET_HOST, "x-cos-copy-source": `${BUCKET_HOST}/other.jpg` } }, 403, "header_not_allowed"],
      [{ Headers: { Host: BUCKET_HOST } }, 400, "size_required"],
      [{ Headers: { "Content-Length": "12abc", Host: BUCKET_HOST } }, 400, "size_required"],
      [{ Headers: { "Content-Length": 100 * 1024 * 1024 + 1, Host: BUCKET_HOST } }, 400, "file_too_large"],
      [{ Headers: { "Content-Length": 1, Host: BUCKET_HOST, "Content-Type": "text/html" } }, 400, "content_type_mismatch"],
      [{ Headers: { "Content-Length": 1, host: BUCKET_HOST, Host: BUCKET_HOST } }, 400, "header_invalid"],
      [{ Query: "uploads" }, 400, "query_invalid"],
      [{ Key: "../etc/passwd.jpg", Pathname: "/../etc/passwd.jpg" }, 400, "key_invalid"],
      [{ Pathname: "no-slash.jpg" }, 400, "key_invalid"],
      [{ Key: KEY.replace(".jpg", ".exe"), Pathname: `/${KEY.replace(".jpg", ".exe")}` }, 400, "ext_not_allowed"],
      [{ profile: "nope" }, 400, "unknown_profile"],
    ];
    for (const [overrides, status, code] of cases) {
      const answer = await authorize(sdkRequest(overrides));
      expect({ case: overrides, status: answer.status, code: answer.body.error?.code }).toEqual({ case: overrides, status, code });
    }
  });

  it("signs a part up to 5 GiB (and the profile's multipart limit), and reads only where the profile allows it", async () => {
    const part = (length: number) => sdkRequest({ Query: { partNumber: 1, uploadId: UPLOAD_ID }, Headers: { "Content-Length": length, Host: BUCKET_HOST } });
    const env = { ...baseEnv, UPLOAD_MULTIPART_MAX_BYTES: String(20 * 1024 ** 3) };
    expect((await authorize(part(5 * 1024 ** 3), env)).status).toBe(200);
    await expectRefused(part(5 * 1024 ** 3 + 1), 400, "file_too_large", env);
    await expectRefused(sdkRequest({ Method: "put", Query: { uploads: "" } }), 403, "operation_not_allowed", { ...baseEnv, UPLOAD_MULTIPART: "false" });
    await expectRefused(sdkRequest({ Method: "post", Query: { uploads: "" } }), 403, "operation_not_allowed", { ...baseEnv, UPLOAD_MULTIPART: "false" });
    const read = sdkRequest({ Method: "get", Headers: { Host: BUCKET_HOST } });
    await expectRefused(read, 403, "operation_not_allowed");
    expect((await authorize(read, { ...baseEnv, UPLOAD_READ: "owner" })).status).toBe(200);
  });

  it("with sessions, signs only inside the caller's own space", async () => {
    const token = await login("sdk-dana");
    const keyResponse = await postJson("/v1/cos/keys", { ext: "jpg" }, wechatEnv, { Authorization: `Bearer ${token}` });
    const { Key } = (await keyResponse.json()) as { Key: string };
    const own = await authorize(sdkRequest({ Key, Pathname: `/${Key}` }), wechatEnv, { Authorization: `Bearer ${token}` });
    expect(own.status).toBe(200);
    const other = await authorize(sdkRequest(), wechatEnv, { Authorization: `Bearer ${token}` });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 403, code: "key_not_allowed" });
    expect((await authorize(sdkRequest({ Key, Pathname: `/${Key}` }), wechatEnv)).status).toBe(401);
  });

  it("counts every call per caller, and a request that starts an object also as a new upload", async () => {
    const counted: Record<string, string[]> = { COS_AUTH_LIMITER: [], SIGN_LIMITER: [] };
    const limiter = (name: string) => ({ limit: async ({ key }: { key: string }) => (counted[name]!.push(key), { success: true }) });
    const env = { ...baseEnv, COS_AUTH_LIMITER: limiter("COS_AUTH_LIMITER"), SIGN_LIMITER: limiter("SIGN_LIMITER") } as SignerEnv;
    const app = createApp({ clientAddress: () => "192.0.2.5" });
    const send = (body: Record<string, unknown>) =>
      app.request("http://signer.test/v1/cos/authorization", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }, env);
    expect((await send(sdkRequest())).status).toBe(200);
    expect((await send(sdkRequest({ Query: { partNumber: 2, uploadId: UPLOAD_ID } }))).status).toBe(200);
    expect((await send(sdkRequest({ Method: "post", Query: { uploads: "" } }))).status).toBe(200);
    expect(counted).toEqual({ COS_AUTH_LIMITER: ["ip:192.0.2.5", "ip:192.0.2.5", "ip:192.0.2.5"], SIGN_LIMITER: ["ip:192.0.2.5", "ip:192.0.2.5"] });
  });
});

describe("POST /v1/cos/keys", () => {
  it("hands out a new random key in the caller's space, with the bucket and region the SDK needs", async () => {
    const response = await postJson("/v1/cos/keys", { ext: ".JPG" }, baseEnv);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { Bucket: string; Region: string; Key: string };
    expect(body).toEqual({ Bucket: BUCKET, Region: REGION, Key: expect.stringMatching(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/) });
    const again = (await (await postJson("/v1/cos/keys", { ext: "jpg" }, baseEnv)).json()) as { Key: string };
    expect(again.Key).not.toBe(body.Key);
  });

  it("refuses a suffix the profile does not allow and a key the client chose", async () => {
    expect(((await (await postJson("/v1/cos/keys", { ext: "exe" }, baseEnv)).json()) as ErrorBody).error.code).toBe("ext_not_allowed");
    expect(((await (await postJson("/v1/cos/keys", { ext: "jpg", key: KEY }, baseEnv)).json()) as ErrorBody).error.code).toBe("body_invalid");
  });
});

describe("POST /v1/cos/credentials", () => {
  it("refuses a profile that itself signs with temporary keys: STS takes only a permanent key pair", async () => {
    const response = await postJson("/v1/cos/credentials", {}, { ...baseEnv, COS_SECURITY_TOKEN: "a-token" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.code).toBe("credentials_off");
  });

  it("answers 502 sts_unavailable when STS cannot be reached, naming no secret", async () => {
    // Nothing listens on port 1 (and in workerd the outbound stub refuses anything but WeChat).
    const profiles = { keys: { bucket: BUCKET, forbidOverwrite: false } };
    const response = await postJson("/v1/cos/credentials", { profile: "keys" }, { ...baseEnv, UPLOAD_PROFILES: profiles, STS_ENDPOINT: "http://127.0.0.1:1" });
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe("sts_unavailable");
  });

  it("asks for a policy of uploader actions on the caller's space, its suffixes with their types, and the size limits", () => {
    const profile = parseConfig({ ...baseEnv, UPLOAD_ALLOWED_EXTENSIONS: "jpg,bin", UPLOAD_MAX_BYTES: "1000", UPLOAD_MULTIPART_MAX_BYTES: "9000000000" }).profiles.get("default")!;
    const resource = (suffix: string) => `qcs::cos:${REGION}:uid/1250000000:${BUCKET}/${suffix}`;
    const space = [resource("uploads/u1/*.jpg"), resource("uploads/u1/*.bin")];
    const jpeg = { string_equal: { "cos:content-type": ["image/jpeg", "image/pjpeg"] } };
    const put = ["name/cos:PutObject", "name/cos:PostObject"];
    expect(uploaderPolicy(profile, "uploads/u1/*")).toEqual({
      version: "2.0",
      statement: [
        { effect: "allow", action: put, resource: [space[0]], condition: { numeric_less_than_equal: { "cos:content-length": 1000 }, ...jpeg } },
        { effect: "allow", action: ["name/cos:InitiateMultipartUpload"], resource: [space[0]], condition: jpeg },
        { effect: "allow", action: put, resource: [space[1]], condition: { numeric_less_than_equal: { "cos:content-length": 1000 } } },
        { effect: "allow", action: ["name/cos:InitiateMultipartUpload"], resource: [space[1]] },
        {
          effect: "deny",
          action: [...put, "name/cos:InitiateMultipartUpload"],
          resource: space,
          condition: { string_like: { "cos:content-type": ["text/html*", "text/xml*", "text/xsl*", "*xml*", "*javascript*", "*ecmascript*", "application/x-shockwave-flash*"] } },
        },
        { effect: "allow", action: ["name/cos:HeadObject"], resource: space },
        { effect: "allow", action: ["name/cos:UploadPart"], resource: space, condition: { numeric_less_than_equal: { "cos:content-length": 5 * 1024 ** 3 } } },
        { effect: "allow", action: ["name/cos:ListParts", "name/cos:CompleteMultipartUpload", "name/cos:AbortMultipartUpload"], resource: space },
        { effect: "allow", action: ["name/cos:ListMultipartUploads"], resource: [resource("")], condition: { string_like: { "cos:prefix": "uploads/u1/*" } } },
      ],
    });
    // A profile's methods: a form-only profile's keys may not PutObject.
    const forms = parseConfig({ ...baseEnv, UPLOAD_PROFILES: { forms: { bucket: BUCKET, methods: ["post"], multipart: false } } }).profiles.get("forms")!;
    const actions = (uploaderPolicy(forms, "uploads/u1/*") as { statement: { action: string[] }[] }).statement.flatMap((statement) => statement.action);
    expect(actions).toContain("name/cos:PostObject");
    expect(actions).not.toContain("name/cos:PutObject");
  });
});
