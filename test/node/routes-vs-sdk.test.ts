/**
 * What the routes hand out, verified the way COS would: Tencent's SDK recomputes the Authorization for the exact
 * request the client will make, and node:crypto recomputes the POST policy signature (436/14690).
 */
import { createHash, createHmac } from "node:crypto";
import COS from "cos-nodejs-sdk-v5";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/src/app.js";

const env = {
  COS_SECRET_ID: "AKIDNODECROSSCHECKxxxxxxxxxxxxxxxxxx",
  COS_SECRET_KEY: "node-cross-check-secret",
  COS_BUCKET: "examplebucket-1250000000",
  COS_REGION: "ap-shanghai",
  AUTH_MODE: "none",
};

async function get<T>(path: string, overrides: Record<string, string> = {}): Promise<T> {
  const response = await createApp().request(`http://signer.test${path}`, {}, { ...env, ...overrides });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

async function post<T>(body: unknown, overrides: Record<string, string> = {}): Promise<T> {
  const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await createApp().request("http://signer.test/v1/uploads", init, { ...env, ...overrides });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function sdkAuthorization(method: "put", url: URL, headers: Record<string, string>, keyTime: string): string {
  return COS.getAuthorization({
    SecretId: env.COS_SECRET_ID,
    SecretKey: env.COS_SECRET_KEY,
    Method: method,
    Pathname: decodeURIComponent(url.pathname),
    Headers: { host: url.host, ...headers },
    KeyTime: keyTime,
  });
}

const keyTimeOf = (authorization: string) => /q-key-time=([^&]+)/.exec(authorization)![1]!;

describe("GET /put-sign, as the seed client uses it", () => {
  for (const pathStyle of ["true", "false"]) {
    it(`signs the PUT to 'https://' + cosHost + '/' + cosKey (COS_PATH_STYLE=${pathStyle})`, async () => {
      const body = await get<{ cosHost: string; cosKey: string; authorization: string }>("/put-sign?ext=jpg", { COS_PATH_STYLE: pathStyle });
      const url = new URL(`https://${body.cosHost}/${body.cosKey}`);
      expect(url.host).toBe(pathStyle === "true" ? "cos.ap-shanghai.myqcloud.com" : "examplebucket-1250000000.cos.ap-shanghai.myqcloud.com");
      expect(body.authorization).toBe(sdkAuthorization("put", url, {}, keyTimeOf(body.authorization)));
    });
  }
});

describe("GET /post-policy, as the seed client uses it", () => {
  it("signs the policy it returns (SignKey, SHA1 of the decoded policy, HMAC)", async () => {
    const body = await get<Record<string, string>>("/post-policy?ext=png");
    const policyText = Buffer.from(body.policy!, "base64").toString("utf8");
    const signKey = createHmac("sha1", env.COS_SECRET_KEY).update(body.qKeyTime!).digest("hex");
    const expected = createHmac("sha1", signKey).update(createHash("sha1").update(policyText).digest("hex")).digest("hex");
    expect(body.qSignature).toBe(expected);
    expect(JSON.parse(policyText).conditions).toContainEqual({ "q-sign-time": body.qKeyTime });
  });
});

/**
 * The SDK signs only the headers on its own list (no content-type), so the v1 descriptor, which also binds the type, is
 * checked against the doc's steps with each canonical string written out by hand for this request.
 */
function docAuthorization(pathname: string, httpHeaders: string, headerList: string, keyTime: string): string {
  const signKey = createHmac("sha1", env.COS_SECRET_KEY).update(keyTime).digest("hex");
  const httpString = `put\n${pathname}\n\n${httpHeaders}\n`;
  const stringToSign = `sha1\n${keyTime}\n${createHash("sha1").update(httpString).digest("hex")}\n`;
  const signature = createHmac("sha1", signKey).update(stringToSign).digest("hex");
  return `q-sign-algorithm=sha1&q-ak=${env.COS_SECRET_ID}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=${headerList}&q-url-param-list=&q-signature=${signature}`;
}

describe("POST /v1/uploads PUT descriptor", () => {
  it("signs host, the declared size and every header it tells the client to send", async () => {
    const body = await post<{ key: string; url: string; headers: Record<string, string> }>({ ext: "jpg", size: 4096, method: "put" });
    expect(Object.keys(body.headers).sort()).toEqual(["Authorization", "Content-Type", "x-cos-forbid-overwrite"]);
    const authorization = body.headers.Authorization!;
    expect(authorization).toBe(
      docAuthorization(
        `/examplebucket-1250000000/${body.key}`,
        "content-length=4096&content-type=image%2Fjpeg&host=cos.ap-shanghai.myqcloud.com&x-cos-forbid-overwrite=true",
        "content-length;content-type;host;x-cos-forbid-overwrite",
        keyTimeOf(authorization),
      ),
    );
  });

  it("signs for the emulator's origin when COS_ENDPOINT points at one", async () => {
    const body = await post<{ key: string; url: string; headers: Record<string, string> }>(
      { ext: "png", size: 42 },
      { COS_ENDPOINT: "http://127.0.0.1:9000", COS_PATH_STYLE: "false" },
    );
    expect(body.url).toBe(`http://127.0.0.1:9000/${body.key}`);
    const authorization = body.headers.Authorization!;
    expect(authorization).toBe(
      docAuthorization(
        `/${body.key}`,
        "content-length=42&content-type=image%2Fpng&host=127.0.0.1%3A9000&x-cos-forbid-overwrite=true",
        "content-length;content-type;host;x-cos-forbid-overwrite",
        keyTimeOf(authorization),
      ),
    );
  });
});
