/**
 * The signer's WebCrypto push crypto against node:crypto's AES-256-CBC (the WeChat stand-in's sealing, written apart
 * from it) on random messages: what one seals the other opens, signature and appid checked.
 */
import { createDecipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sealPush, STANDIN_PUSH_AES_KEY, STANDIN_PUSH_TOKEN } from "../../emulator/wechat";
import { encryptPush, pushKey } from "../../worker/src/wechat/push-crypto.js";
import { openPush } from "../../worker/src/wechat/push.js";

const APPID = "wx0123456789abcdef";

describe("push crypto: WebCrypto against node:crypto", () => {
  it("opens every push node:crypto seals, with its signature", async () => {
    const settings = { token: STANDIN_PUSH_TOKEN, key: await pushKey(STANDIN_PUSH_AES_KEY), appId: APPID };
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 60 })), async (event) => {
        const { query, body } = sealPush(JSON.stringify(event), APPID);
        expect(await openPush(settings, new URLSearchParams(query), body)).toEqual(event);
      }),
      { numRuns: 150 },
    );
  });

  it("seals what node:crypto decrypts to 16 bytes + length + message + appid, padded to 32-byte blocks", async () => {
    const key = await pushKey(STANDIN_PUSH_AES_KEY);
    const raw = Buffer.from(`${STANDIN_PUSH_AES_KEY}=`, "base64");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (message) => {
        const cipher = Buffer.from(await encryptPush(key, message, APPID), "base64");
        expect(cipher.length % 32).toBe(0);
        const decipher = createDecipheriv("aes-256-cbc", raw, raw.subarray(0, 16)).setAutoPadding(false);
        const plain = Buffer.concat([decipher.update(cipher), decipher.final()]);
        const pad = plain.at(-1)!;
        expect(plain.subarray(plain.length - pad).every((byte: number) => byte === pad)).toBe(true);
        const length = plain.readUInt32BE(16);
        expect(plain.subarray(20, 20 + length).toString("utf8")).toBe(message);
        expect(plain.subarray(20 + length, plain.length - pad).toString()).toBe(APPID);
      }),
      { numRuns: 150 },
    );
  });
});
