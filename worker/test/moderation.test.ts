// hosts: workers
/**
 * Content moderation's rules inside workerd, with the LEDGER and MODERATION Durable Objects of wrangler.toml: nothing
 * pending, in review or blocked is served by any route (read URLs, an SDK's GetObject, temporary keys), the owner-read
 * switch, the sealed openid in the session token, and the configurations that cannot work. The flow itself (WeChat's
 * pushes, COS's jobs) runs end to end in test/node/moderation-*.test.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { signerConfig, type SignerEnv } from "../src/config/index.js";
import { durableLedger } from "../src/ledger/durable-object.js";
import { durableDesk } from "../src/moderation/durable-object.js";
import { openOpenid } from "../src/moderation/openid.js";
import { wechatEnv } from "./helpers.js";

const app = createApp({ ledger: () => durableLedger(env.LEDGER), moderation: (vars: SignerEnv) => durableDesk(env.MODERATION, () => signerConfig(vars)) });
const vars = {
  ...wechatEnv,
  UPLOAD_MODERATION: "wechat",
  UPLOAD_READ: "owner",
  SDK_ROUTES: "true",
  WX_PUSH_TOKEN: "workersPushToken",
  WX_PUSH_AES_KEY: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
  MODERATION_CALLBACK_URL: "https://signer.example/v1/moderation/cos-callback",
} satisfies SignerEnv;
const BUCKET_HOST = `${vars.COS_BUCKET}.cos.${vars.COS_REGION}.myqcloud.com`;

async function call(path: string, token: string, body: unknown, more: SignerEnv = {}): Promise<{ status: number; body: any }> {
  const response = await app.request(
    `https://signer.example${path}`,
    { method: "POST", headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "Content-Type": "application/json" }, body: JSON.stringify(body) },
    { ...vars, ...more },
  );
  return { status: response.status, body: await response.json() };
}

async function login(name: string): Promise<{ token: string; user: string; claims: Record<string, unknown> }> {
  const { status, body } = await call("/v1/session", "", { code: `code-${name}` });
  expect(status).toBe(200);
  const claims = JSON.parse(atob((body.token as string).split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
  return { token: body.token, user: claims.sub as string, claims };
}

describe("content moderation on Workers", () => {
  it("a session token carries the openid sealed, never in clear; only this signer opens it, for this user only", async () => {
    const { user, claims } = await login("mod-sealed");
    expect(Object.keys(claims).sort()).toEqual(["aud", "exp", "iat", "iss", "oid", "sub"]);
    const oid = claims.oid as string;
    expect(oid).not.toContain("openid-mod-sealed");
    expect(atob(oid.replaceAll("-", "+").replaceAll("_", "/"))).not.toContain("openid-mod-sealed");
    expect(await openOpenid(vars.SESSION_SECRET, user, oid)).toBe("openid-mod-sealed");
    expect(await openOpenid(vars.SESSION_SECRET, "0".repeat(20), oid)).toBeUndefined();
    expect(await openOpenid(`${vars.SESSION_SECRET}-other`, user, oid)).toBeUndefined();
  });

  it("serves nothing pending, in review or blocked: read URLs and an SDK's GetObject refused, the owner-read switch", async () => {
    const { token, user } = await login("mod-routes");
    const key = `uploads/${user}/2026/12/02/${"ab".repeat(16)}.jpg`;
    const books = durableLedger(env.LEDGER).of("default", user);
    await books.commit(key, 3, "image/jpeg", Date.now(), "pending");
    const read = (more: SignerEnv = {}) => call("/v1/objects/url", token, { key }, more);
    const get = () => call("/v1/cos/authorization", token, { Bucket: vars.COS_BUCKET, Region: vars.COS_REGION, Method: "get", Key: key, Pathname: `/${key}`, Headers: { Host: BUCKET_HOST } });
    const refusal = async (answer: Promise<{ status: number; body: any }>) => {
      const { status, body } = await answer;
      return [status, body.error?.code];
    };
    expect(await refusal(read())).toEqual([403, "moderation_pending"]);
    expect(await refusal(get())).toEqual([403, "moderation_pending"]);
    expect((await read({ UPLOAD_MODERATION_OWNER_READ: "true" })).status).toBe(200);
    expect((await call("/v1/objects/list", token, {})).body.objects).toEqual([{ key, size: 3, contentType: "image/jpeg", createdAt: expect.any(String), state: "pending" }]);
    await books.moderate(key, "review");
    expect(await refusal(read({ UPLOAD_MODERATION_OWNER_READ: "true" }))).toEqual([403, "moderation_review"]);
    await books.moderate(key, "blocked");
    expect(await refusal(read({ UPLOAD_MODERATION_OWNER_READ: "true" }))).toEqual([403, "moderation_blocked"]);
    expect(await refusal(get())).toEqual([403, "moderation_blocked"]);
    // Blocked objects still count: the user deletes them to get the bytes back.
    expect((await (await app.request("https://signer.example/v1/usage", { headers: { Authorization: `Bearer ${token}` } }, vars)).json()) as object).toMatchObject({
      profiles: [{ usedBytes: 3, files: 1 }],
    });
    await books.moderate(key, "stored");
    expect((await read()).status).toBe(200);
    expect((await get()).status).toBe(200);
  });

  it("serves nothing uploaded but not yet settled: a reserved key's read URL and GetObject are pending", async () => {
    const { token } = await login("mod-reserved");
    const signed = await call("/v1/uploads", token, { ext: "jpg", size: 3 });
    expect(signed.status).toBe(200);
    const key = signed.body.key as string;
    expect((await call("/v1/objects/list", token, {})).body.objects).toMatchObject([{ key, state: "reserved" }]);
    const read = await call("/v1/objects/url", token, { key });
    expect([read.status, read.body.error?.code]).toEqual([403, "moderation_pending"]);
    const get = await call("/v1/cos/authorization", token, { Bucket: vars.COS_BUCKET, Region: vars.COS_REGION, Method: "get", Key: key, Pathname: `/${key}`, Headers: { Host: BUCKET_HOST } });
    expect([get.status, get.body.error?.code]).toEqual([403, "moderation_pending"]);
  });

  it("signs no SDK PutObject over a settled object, which would pass the quota", async () => {
    const { token, user } = await login("mod-overwrite");
    const key = `uploads/${user}/2026/12/02/${"cd".repeat(16)}.jpg`;
    await durableLedger(env.LEDGER).of("default", user).commit(key, 3, "image/jpeg", Date.now(), "stored");
    // Moderated profiles must forbid overwrites (below); the quota is the same in one that allows them.
    const overwritable = { UPLOAD_PROFILES: JSON.stringify({ default: { bucket: vars.COS_BUCKET, forbidOverwrite: false, moderation: "off", quotaBytes: 100 } }) };
    const put = await call("/v1/cos/authorization", token, { Bucket: vars.COS_BUCKET, Region: vars.COS_REGION, Method: "put", Key: key, Pathname: `/${key}`, Headers: { Host: BUCKET_HOST, "Content-Length": "1000" } }, overwritable);
    expect([put.status, put.body.error?.code]).toEqual([409, "upload_exists"]);
  });

  it("gives no temporary keys in a moderated profile: they would read what moderation has not passed", async () => {
    const { token } = await login("mod-keys");
    const { status, body } = await call("/v1/cos/credentials", token, {});
    expect([status, body.error.code]).toEqual([403, "operation_not_allowed"]);
  });

  it("refuses configurations that cannot work, naming the setting", async () => {
    const refused = async (more: SignerEnv, withStores = true) => {
      const response = await (withStores ? app : createApp()).request("https://signer.example/healthz", {}, { ...vars, ...more });
      const body = (await response.json()) as { error: { code: string; message: string } };
      return [response.status, body.error.code, body.error.message];
    };
    expect(await refused({ WX_PUSH_TOKEN: "" })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_MODERATION .*WX_PUSH_TOKEN/)]);
    expect(await refused({ MODERATION_CALLBACK_URL: "" })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_MODERATION needs MODERATION_CALLBACK_URL/)]);
    expect(await refused({ AUTH_MODE: "none" })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_MODERATION .*AUTH_MODE=wechat/)]);
    expect(await refused({ WX_PUSH_AES_KEY: "too-short" })).toEqual([500, "config_invalid", expect.stringMatching(/^WX_PUSH_AES_KEY /)]);
    expect(await refused({}, false)).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_MODERATION needs a ledger store/)]);
    expect((await app.request("https://signer.example/healthz", {}, { ...vars, AUTH_MODE: "none", UPLOAD_MODERATION: "cos" })).status).toBe(200);
    // A still valid upload signature could replace a passed object's bytes, unchecked.
    expect(await refused({ UPLOAD_PROFILES: JSON.stringify({ default: { bucket: vars.COS_BUCKET, forbidOverwrite: false } }) })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_PROFILES\.default\.forbidOverwrite /)]);
    // An unmoderated profile over the same keys would sign reads (and temporary keys) of what moderation holds back.
    const beside = (open: Record<string, unknown>) => JSON.stringify({ default: { bucket: vars.COS_BUCKET }, open: { bucket: vars.COS_BUCKET, moderation: "off", ...open } });
    expect(await refused({ UPLOAD_PROFILES: beside({}) })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_PROFILES\.open\.keyPrefix .*"default"/)]);
    expect(await refused({ UPLOAD_PROFILES: beside({ keyPrefix: "" }) })).toEqual([500, "config_invalid", expect.stringMatching(/^UPLOAD_PROFILES\.open\.keyPrefix /)]);
    expect((await app.request("https://signer.example/healthz", {}, { ...vars, UPLOAD_PROFILES: beside({ keyPrefix: "open" }) })).status).toBe(200);
    expect((await app.request("https://signer.example/healthz", {}, { ...vars, UPLOAD_PROFILES: beside({ bucket: "otherbucket-1250000000" }) })).status).toBe(200);
  });
});

describe("the moderation desk (a Durable Object per appid)", () => {
  const desk = durableDesk(env.MODERATION, () => signerConfig(vars));
  const target = { profile: "default", user: "0123456789abcdef0123", key: "uploads/k.jpg" };

  it("hands a check's object out once; given back, once more", async () => {
    expect(await desk.track("wx:desk-once", target)).toBeUndefined();
    expect(await desk.claim("wx:desk-once", "pass")).toEqual(target);
    expect(await desk.claim("wx:desk-once", "pass")).toBeUndefined();
    await desk.unclaim("wx:desk-once");
    expect(await desk.claim("wx:desk-once", "pass")).toEqual(target);
  });

  it("keeps a verdict that outran its check's tracking, and hands it to the tracking", async () => {
    expect(await desk.claim("wx:desk-early", "risky")).toBeUndefined();
    expect(await desk.track("wx:desk-early", target)).toBe("risky");
    expect(await desk.claim("wx:desk-early", "risky")).toBeUndefined();
  });
});
