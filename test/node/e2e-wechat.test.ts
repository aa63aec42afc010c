/**
 * AUTH_MODE=wechat end to end: the Mini Program uploader meets a 401, logs in with wx.login() + POST /v1/session
 * (WeChat answered by the stub), keeps the token for later uploads, and logs in again once when the token stops
 * being valid. Keys land under the user's own segment.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUploader, UploadError } from "../../miniprogram/cos-upload/index";
import type { WxLike } from "../../miniprogram/cos-upload/wx-like";
import { wxNode } from "../../wx-node/index";
import { fixtures, OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator();
  signer = await startSigner({ AUTH_MODE: "wechat", COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url });
  files = await fixtures("e2e-wechat");
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

/** `wx` as inside WeChat for user `name`: real network and files, and a wx.login() that counts its calls. */
function wechatUser(name: string) {
  const logins = { count: 0 };
  const wx: WxLike = {
    ...wxNode,
    login: (options) => {
      logins.count++;
      setTimeout(() => options.success({ code: `code-${name}` }), 0);
    },
  };
  return { wx, logins };
}

const file = (bytes: Buffer) => files.write(`${randomBytes(4).toString("hex")}.jpg`, bytes);

const USER_KEY = /^uploads\/([0-9a-f]{20})\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.jpg$/;

describe("uploads with WeChat login", () => {
  it("logs in on the first 401, then reuses the token; the object lands under the user's segment", async () => {
    const { wx, logins } = wechatUser("dora");
    const uploader = createUploader({ signerUrl: signer.url, wx });
    const bytes = randomBytes(2048);
    const first = await uploader.upload({ filePath: await file(bytes), method: "put" });
    const second = await uploader.upload({ filePath: await file(randomBytes(10)), method: "post" });
    expect(logins.count).toBe(1);
    const segment = USER_KEY.exec(first.key)![1];
    expect(USER_KEY.exec(second.key)![1]).toBe(segment);
    expect((await emulator.store.get(OLD_BUCKET.name, first.key))?.body.equals(bytes)).toBe(true);
    // Another user gets another segment.
    const other = await createUploader({ signerUrl: signer.url, wx: wechatUser("emil").wx }).upload({ filePath: await file(randomBytes(10)) });
    expect(USER_KEY.exec(other.key)![1]).not.toBe(segment);
  });

  it("logs in again, once, when the signer stops accepting the token (SESSION_SECRET rotated)", async () => {
    const { wx, logins } = wechatUser("fred");
    const uploader = createUploader({ signerUrl: signer.url, wx });
    await uploader.upload({ filePath: await file(randomBytes(10)) });
    expect(logins.count).toBe(1);
    await signer.rebind({ AUTH_MODE: "wechat", COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, SESSION_SECRET: "rotated-session-secret-0123456789abcdef-never-shown" });
    const result = await uploader.upload({ filePath: await file(randomBytes(10)) });
    expect(logins.count).toBe(2);
    expect(result.key).toMatch(USER_KEY);
  }, 30_000);

  it("reports WeChat's refusal of the login with its code", async () => {
    const wx: WxLike = { ...wxNode, login: (options) => setTimeout(() => options.success({ code: "risky" }), 0) };
    const error = (await createUploader({ signerUrl: signer.url, wx }).upload({ filePath: await file(randomBytes(10)) }).catch((e: unknown) => e)) as UploadError;
    expect(error).toBeInstanceOf(UploadError);
    expect(error.code).toBe("wechat_user_blocked");
    expect(error.status).toBe(403);
  });

  it("without wx.login (the Node adapter) the 401 surfaces as a login failure", async () => {
    const error = (await createUploader({ signerUrl: signer.url, wx: wxNode }).upload({ filePath: await file(randomBytes(10)) }).catch((e: unknown) => e)) as UploadError;
    expect(error.code).toBe("login_failed");
    expect(error.message).toContain("AUTH_MODE=none");
  });
});
