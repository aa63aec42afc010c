// hosts: workers
/**
 * WeChat's safe-mode push crypto (worker/src/wechat/push-crypto.ts) in workerd, against Tencent's own sample vectors,
 * and on random messages whose 32-byte padding runs past WebCrypto's 16-byte blocks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ModerationError } from "../src/http/errors.js";
import { decryptPush, encryptPush, pushKey, pushSignature } from "../src/wechat/push-crypto.js";
import { openPush } from "../src/wechat/push.js";

/**
 * Tencent's Java sample of WXBizMsgCrypt (package com.qq.weixin.mp.aes, WXBizMsgCryptTest.java: testAesEncrypt and
 * testAesEncrypt2, random prefix "aaaabbbbccccdddd"), as copied in github.com/Wyl015/wuyiling,
 * work-test/src/main/resources/Utils/aes/WXBizMsgCryptTest.java.
 */
const JAVA_SAMPLE = {
  encodingAesKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
  appId: "wxb11529c136998cb6",
  random: "aaaabbbbccccdddd",
  replyMsg: "我是中文abcd123",
  afterAesEncrypt: "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==",
  replyMsg2:
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>",
  afterAesEncrypt2:
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb",
};

/**
 * Tencent's Python/PHP/Node sample's decryption test (token "spamtest", appid "wx2c2769f8efd9abc2"), as given in
 * github.com/fotock/WXbizMsgCrypt-Node, README.md ("测试解密接口").
 */
const PYTHON_SAMPLE = {
  encodingAesKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
  token: "spamtest",
  appId: "wx2c2769f8efd9abc2",
  timestamp: "1409735669",
  nonce: "1320562132",
  msgSignature: "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
  encrypt:
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=",
};

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("WeChat's safe-mode push crypto, with WebCrypto", () => {
  it("encrypts Tencent's Java sample messages to the sample's ciphertexts, and decrypts them back", async () => {
    const key = await pushKey(JAVA_SAMPLE.encodingAesKey);
    for (const [message, expected] of [
      [JAVA_SAMPLE.replyMsg, JAVA_SAMPLE.afterAesEncrypt],
      [JAVA_SAMPLE.replyMsg2, JAVA_SAMPLE.afterAesEncrypt2],
    ] as const) {
      expect(await encryptPush(key, message, JAVA_SAMPLE.appId, utf8(JAVA_SAMPLE.random))).toBe(expected);
      expect(await decryptPush(key, expected, JAVA_SAMPLE.appId)).toBe(message);
    }
  });

  it("verifies and decrypts Tencent's Python sample push, and refuses it for another appid", async () => {
    const sample = PYTHON_SAMPLE;
    expect(await pushSignature(sample.token, sample.timestamp, sample.nonce, sample.encrypt)).toBe(sample.msgSignature);
    const key = await pushKey(sample.encodingAesKey);
    const message = await decryptPush(key, sample.encrypt, sample.appId);
    expect(message).toContain("<ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>");
    expect(message).toContain("<Content><![CDATA[abcdteT]]></Content>");
    await expect(decryptPush(key, sample.encrypt, "wx0123456789abcdef")).rejects.toThrow("another appid");
  });

  it("takes the sample's XML push past its signature (then refuses it: the receiver reads JSON pushes)", async () => {
    const sample = PYTHON_SAMPLE;
    const settings = { token: sample.token, key: await pushKey(sample.encodingAesKey), appId: sample.appId };
    const query = new URLSearchParams({ timestamp: sample.timestamp, nonce: sample.nonce, encrypt_type: "aes", msg_signature: sample.msgSignature });
    const body = `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[${sample.encrypt}]]></Encrypt></xml>`;
    const opened = openPush(settings, query, body);
    await expect(opened).rejects.toBeInstanceOf(ModerationError);
    await expect(opened).rejects.toMatchObject({ status: 400, code: "push_invalid" });
    query.set("msg_signature", sample.msgSignature.replace(/^5/, "6"));
    await expect(openPush(settings, query, body)).rejects.toMatchObject({ status: 401, code: "push_signature_invalid" });
    await expect(openPush({ ...settings, appId: "wx0123456789abcdef" }, new URLSearchParams({ ...Object.fromEntries(query), msg_signature: sample.msgSignature }), body)).rejects.toMatchObject({
      status: 403,
      code: "push_foreign",
    });
  });

  it("round-trips random messages and appids (every padding length, 1–32), and refuses any flipped byte", async () => {
    const key = await pushKey(JAVA_SAMPLE.encodingAesKey);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), fc.stringMatching(/^wx[0-9a-f]{16}$/), fc.nat(10_000), async (message, appId, flip) => {
        const sealed = await encryptPush(key, message, appId);
        expect(await decryptPush(key, sealed, appId)).toBe(message);
        const bytes = Uint8Array.from(atob(sealed), (char) => char.charCodeAt(0));
        // A flipped byte in the last two blocks breaks the padding, the length or the appid.
        bytes[bytes.length - 1 - (flip % 32)]! ^= 1 << (flip % 8);
        await expect(decryptPush(key, btoa(String.fromCharCode(...bytes)), appId)).rejects.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

describe("plain mode (no EncodingAESKey)", () => {
  it("takes a push whose signature covers Token, timestamp and nonce; refuses another", async () => {
    const settings = { token: "plainToken", key: undefined, appId: "wx0123456789abcdef" };
    const event = { Event: "wxa_media_check", trace_id: "t-1", result: { suggest: "pass" } };
    const signature = await pushSignature("plainToken", "1700000000", "n1");
    const query = new URLSearchParams({ signature, timestamp: "1700000000", nonce: "n1" });
    expect(await openPush(settings, query, JSON.stringify(event))).toEqual(event);
    query.set("nonce", "n2");
    await expect(openPush(settings, query, JSON.stringify(event))).rejects.toMatchObject({ status: 401, code: "push_signature_invalid" });
  });
});
