// hosts: workers
/**
 * Tencent's own worked examples, every intermediate value checked. Values are copied from the docs, not from our
 * output; the English pages print the path as "(tencentcloud)" but the hashes are of the original "(腾讯云)".
 */
import { describe, expect, it } from "vitest";
import { signPostPolicy, signRequest } from "../src/cos/index.js";
import { signTc3, utcDate } from "../src/sts/tc3.js";

// Both docs use this example key pair (APPID 1250000000): a published sample, not a real account.
const credentials = { secretId: "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", secretKey: "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz" };

// "Request Signature", https://cloud.tencent.com/document/product/436/7778 — "Uploading an Object".
describe("Request Signature (436/7778): upload example", () => {
  it("reproduces KeyTime, SignKey, lists, HttpString, StringToSign, Signature and Authorization", async () => {
    const result = await signRequest(
      credentials,
      {
        method: "PUT",
        pathname: "/exampleobject(腾讯云)",
        headers: {
          Date: "Thu, 16 May 2019 06:45:51 GMT",
          Host: "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
          "Content-Type": "text/plain",
          "Content-Length": "13",
          "Content-MD5": "mQ/fVh815F3k6TAUm8m0eg==",
          "x-cos-acl": "private",
          "x-cos-grant-read": 'uin="100000000011"',
        },
      },
      { start: 1557989151, end: 1557996351 },
    );
    expect(result.keyTime).toBe("1557989151;1557996351");
    expect(result.signKey).toBe("eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f");
    expect(result.urlParamList).toBe("");
    expect(result.httpParameters).toBe("");
    expect(result.headerList).toBe("content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read");
    expect(result.httpHeaders).toBe(
      "content-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D&content-type=text%2Fplain&date=Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-acl=private&x-cos-grant-read=uin%3D%22100000000011%22",
    );
    expect(result.httpString).toBe(`put\n/exampleobject(腾讯云)\n\n${result.httpHeaders}\n`);
    expect(result.stringToSign).toBe("sha1\n1557989151;1557996351\n8b2751e77f43a0995d6e9eb9477f4b685cca4172\n");
    expect(result.signature).toBe("3b8851a11a569213c17ba8fa7dcf2abec6935172");
    expect(result.authorization).toBe(
      "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172",
    );
  });
});

// Same doc — "Downloading an Object" (query parameters signed).
describe("Request Signature (436/7778): download example", () => {
  it("reproduces every intermediate value", async () => {
    const result = await signRequest(
      credentials,
      {
        method: "GET",
        pathname: "/exampleobject(腾讯云)",
        query: { "response-content-type": "application/octet-stream", "response-cache-control": "max-age=600" },
        headers: { Date: "Thu, 16 May 2019 06:55:53 GMT", Host: "examplebucket-1250000000.cos.ap-beijing.myqcloud.com" },
      },
      { start: 1557989753, end: 1557996953 },
    );
    expect(result.signKey).toBe("937914bf490e9e8c189836aad2052e4feeb35eaf");
    expect(result.urlParamList).toBe("response-cache-control;response-content-type");
    expect(result.httpParameters).toBe("response-cache-control=max-age%3D600&response-content-type=application%2Foctet-stream");
    expect(result.headerList).toBe("date;host");
    expect(result.httpHeaders).toBe("date=Thu%2C%2016%20May%202019%2006%3A55%3A53%20GMT&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com");
    expect(result.stringToSign).toBe("sha1\n1557989753;1557996953\n54ecfe22f59d3514fdc764b87a32d8133ea611e6\n");
    expect(result.signature).toBe("01681b8c9d798a678e43b685a9f1bba0f6c0e012");
    expect(result.authorization).toBe(
      "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q&q-sign-time=1557989753;1557996953&q-key-time=1557989753;1557996953&q-header-list=date;host&q-url-param-list=response-cache-control;response-content-type&q-signature=01681b8c9d798a678e43b685a9f1bba0f6c0e012",
    );
  });
});

// "POST Object", https://cloud.tencent.com/document/product/436/14690 — "Signature protection use case".
describe("POST Object (436/14690): signature protection example", () => {
  // The doc's policy text, byte for byte (4-space indentation, no trailing newline): its Base64 is the doc's `policy`.
  const policyText = `{
    "expiration": "2019-08-30T09:38:12.414Z",
    "conditions": [
        { "acl": "default" },
        { "bucket": "examplebucket-1250000000" },
        [ "starts-with", "$key", "folder/subfolder/" ],
        [ "starts-with", "$Content-Type", "image/" ],
        [ "starts-with", "$success_action_redirect", "https://my.website/" ],
        [ "eq", "$x-cos-server-side-encryption", "AES256" ],
        { "q-sign-algorithm": "sha1" },
        { "q-ak": "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q" },
        { "q-sign-time": "1567150692;1567157892" }
    ]
}`;

  it("reproduces SignKey, StringToSign, Signature and the form fields", async () => {
    const result = await signPostPolicy(credentials, policyText, { start: 1567150692, end: 1567157892 });
    expect(result.keyTime).toBe("1567150692;1567157892");
    expect(result.signKey).toBe("39acc8c9f34ba5b19bce4e965b370cd3f62d2fba");
    expect(result.stringToSign).toBe("d5d903b8360468bc81c1311f134989bc8c8b5b89");
    expect(result.signature).toBe("7758dc9a832e9d301dca704cacbf9d9f8172fdef");
    expect(result.fields).toEqual({
      policy:
        "ewogICAgImV4cGlyYXRpb24iOiAiMjAxOS0wOC0zMFQwOTozODoxMi40MTRaIiwKICAgICJjb25kaXRpb25zIjogWwogICAgICAgIHsgImFjbCI6ICJkZWZhdWx0IiB9LAogICAgICAgIHsgImJ1Y2tldCI6ICJleGFtcGxlYnVja2V0LTEyNTAwMDAwMDAiIH0sCiAgICAgICAgWyAic3RhcnRzLXdpdGgiLCAiJGtleSIsICJmb2xkZXIvc3ViZm9sZGVyLyIgXSwKICAgICAgICBbICJzdGFydHMtd2l0aCIsICIkQ29udGVudC1UeXBlIiwgImltYWdlLyIgXSwKICAgICAgICBbICJzdGFydHMtd2l0aCIsICIkc3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiLCAiaHR0cHM6Ly9teS53ZWJzaXRlLyIgXSwKICAgICAgICBbICJlcSIsICIkeC1jb3Mtc2VydmVyLXNpZGUtZW5jcnlwdGlvbiIsICJBRVMyNTYiIF0sCiAgICAgICAgeyAicS1zaWduLWFsZ29yaXRobSI6ICJzaGExIiB9LAogICAgICAgIHsgInEtYWsiOiAiQUtJRFFqejNsdG9tcFZqQm5pNUxpdGtXSEZsRnB3a245VTVxIiB9LAogICAgICAgIHsgInEtc2lnbi10aW1lIjogIjE1NjcxNTA2OTI7MTU2NzE1Nzg5MiIgfQogICAgXQp9",
      "q-sign-algorithm": "sha1",
      "q-ak": "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
      "q-key-time": "1567150692;1567157892",
      "q-signature": "7758dc9a832e9d301dca704cacbf9d9f8172fdef",
    });
  });
});

// Tencent Cloud API 3.0 "Signature v3" (TC3-HMAC-SHA256), https://cloud.tencent.com/document/api/213/30654 — the
// CVM DescribeInstances example. The doc prints the SecretId masked; the SecretKey of its derivation step is
// "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", and the payload holds the escapes `\u672a…` as literal text.
describe("Signature v3 (TC3-HMAC-SHA256): DescribeInstances example", () => {
  it("reproduces HashedRequestPayload, CanonicalRequest, HashedCanonicalRequest, StringToSign and Signature", async () => {
    const payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
    const result = await signTc3(
      { secretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", secretKey: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE" },
      { host: "cvm.tencentcloudapi.com", service: "cvm", payload, timestamp: 1551113065 },
    );
    expect(result.hashedPayload).toBe("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    expect(result.canonicalRequest).toBe(
      "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
    );
    expect(result.credentialScope).toBe("2019-02-25/cvm/tc3_request");
    expect(result.stringToSign).toBe("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    expect(result.signature).toBe("72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    expect(result.authorization).toBe(
      "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
    );
  });

  it("dates the scope in UTC: 00:44 on the 26th in UTC+8 is still the 25th", () => {
    expect(utcDate(1551113065)).toBe("2019-02-25");
  });
});
