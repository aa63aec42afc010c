/**
 * After the upload, over real HTTP (the Worker in workerd, the COS emulator, a webhook receiver on 127.0.0.1):
 * receipts checked with node:crypto as an app's backend would, and presigned read URLs fetched from the emulator.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc64 } from "../../emulator/crc64.js";
import { OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const RECEIPT_SECRET = "receipt-secret-for-the-app-backend-0123456789";
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let webhook: Server;
const delivered: string[] = [];
/** Every path the webhook receiver was asked for. */
const hooked: string[] = [];

/** The signer's settings: WeChat sessions, owner reads, receipts delivered to the test's webhook at `path`. */
const settings = (path: string) => ({
  AUTH_MODE: "wechat",
  COS_BUCKET: OLD_BUCKET.name,
  COS_REGION: OLD_BUCKET.region,
  COS_ENDPOINT: emulator.url,
  UPLOAD_READ: "owner",
  RECEIPT_SECRET,
  RECEIPT_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}${path}`,
});

beforeAll(async () => {
  emulator = await startEmulator();
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      hooked.push(req.url ?? "");
      // A receiver that moved: the signer must not follow it elsewhere with the receipt.
      if (req.url === "/moved") return void res.writeHead(307, { Location: "/elsewhere" }).end();
      delivered.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => webhook.listen(0, "127.0.0.1", done));
  signer = await startSigner(settings("/receipts"));
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await new Promise((done) => webhook?.close(done));
});

async function post<T>(path: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${signer.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const login = async (name: string) => (await post<{ token: string }>("/v1/session", { code: `code-${name}` })).body.token;
const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

/** Uploads bytes as `user` with a PUT descriptor; the key. */
async function uploaded(token: string, bytes: Buffer): Promise<string> {
  const { body } = await post<{ key: string; url: string; headers: Record<string, string> }>("/v1/uploads", { ext: "jpg", size: bytes.length }, token);
  expect((await fetch(body.url, { method: "PUT", headers: body.headers, body: new Uint8Array(bytes) })).status).toBe(200);
  return body.key;
}

/** HS256 verification as an app's backend would do it, with node:crypto and the shared secret alone. */
function verifyReceipt(receipt: string): Record<string, unknown> {
  const [header, payload, signature] = receipt.split(".") as [string, string, string];
  const expected = createHmac("sha256", RECEIPT_SECRET).update(`${header}.${payload}`).digest();
  expect(timingSafeEqual(expected, Buffer.from(signature, "base64url"))).toBe(true);
  expect(JSON.parse(Buffer.from(header, "base64url").toString())).toMatchObject({ alg: "HS256" });
  return JSON.parse(Buffer.from(payload, "base64url").toString());
}

describe("POST /v1/uploads/receipt", () => {
  it("answers what COS holds, signed: the backend verifies it with the secret alone; the webhook gets it too", async () => {
    const alice = await login("alice");
    const bytes = randomBytes(3000);
    const key = await uploaded(alice, bytes);
    const { status, body } = await post<Record<string, unknown> & { receipt: string; expiresAt: string }>("/v1/uploads/receipt", { key }, alice);
    expect(status).toBe(200);
    const facts = {
      key,
      size: 3000,
      contentType: "image/jpeg",
      etag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      crc64: crc64(bytes),
      profile: "default",
      user: key.split("/")[1],
    };
    expect(body).toMatchObject(facts);
    expect(Date.parse(body.lastModified as string)).toBeGreaterThan(Date.now() - 60_000);
    const claims = verifyReceipt(body.receipt);
    expect(claims).toMatchObject({ ...facts, iss: "cos-edge-signer", aud: "cos-edge-signer/receipt", sub: facts.user, lastModified: body.lastModified });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    await expect.poll(() => delivered.map((text) => JSON.parse(text).receipt)).toContain(body.receipt);
  });

  it("only for the caller's own keys, of the signer's shape, that COS holds", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    const key = await uploaded(alice, randomBytes(10));
    const cases: [unknown, string, number, string][] = [
      [key, bob, 403, "key_not_allowed"],
      ["../../etc/passwd", alice, 400, "key_invalid"],
      [42, alice, 400, "key_invalid"],
      [key.replace(/[0-9a-f]{32}/, "0".repeat(32)), alice, 404, "object_not_found"],
    ];
    for (const [candidate, token, status, code] of cases) {
      const response = await post("/v1/uploads/receipt", { key: candidate }, token);
      expect(response.status).toBe(status);
      expect(errorCode(response.body)).toBe(code);
    }
    expect((await post("/v1/uploads/receipt", { key })).status).toBe(401);
  });
});

describe("POST /v1/objects/url", () => {
  it("a presigned GET of one's own object, optionally with an allow-listed processing step signed in", async () => {
    const alice = await login("alice");
    const bytes = randomBytes(2048);
    const key = await uploaded(alice, bytes);
    const plain = await post<{ key: string; url: string; expiresAt: string }>("/v1/objects/url", { key, expiresIn: 120 }, alice);
    expect(plain.status).toBe(200);
    expect(Buffer.from(await (await fetch(plain.body.url)).arrayBuffer()).equals(bytes)).toBe(true);
    expect(Date.parse(plain.body.expiresAt) - Date.now()).toBeLessThanOrEqual(121_000);
    const thumb = await post<{ url: string }>("/v1/objects/url", { key, process: "thumbnail" }, alice);
    expect(thumb.body.url).toContain("?imageMogr2/thumbnail/480x480&q-sign-algorithm=sha1");
    expect(thumb.body.url).toMatch(/q-url-param-list=imagemogr2%2fthumbnail%2f480x480&/);
    expect((await fetch(thumb.body.url)).status).toBe(200);
    // The URL reads this object only: another key with the same signature is refused.
    const other = await fetch(plain.body.url.replace(/[0-9a-f]{32}\.jpg/, `${"0".repeat(32)}.jpg`));
    expect(other.status).toBe(403);
    expect(await other.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("refuses another user's key, an unknown processing step, and lifetimes outside 10 s – 1 h", async () => {
    const alice = await login("alice");
    const key = await uploaded(alice, randomBytes(10));
    const bob = await login("bob");
    const cases: [Record<string, unknown>, string, number, string][] = [
      [{ key }, bob, 403, "key_not_allowed"],
      [{ key, process: "imageMogr2/rotate/90" }, alice, 400, "process_invalid"],
      [{ key, expiresIn: 3601 }, alice, 400, "expires_in_invalid"],
      [{ key, expiresIn: 5 }, alice, 400, "expires_in_invalid"],
    ];
    for (const [body, token, status, code] of cases) {
      const response = await post("/v1/objects/url", body, token);
      expect(response.status).toBe(status);
      expect(errorCode(response.body)).toBe(code);
    }
  });
});

describe("the receipt webhook (issue 18)", () => {
  it("does not follow a redirect: a 3xx is a failed delivery, the receipt goes nowhere else", async () => {
    await signer.rebind(settings("/moved"));
    const alice = await login("alice-moved");
    const key = await uploaded(alice, randomBytes(10));
    expect((await post("/v1/uploads/receipt", { key }, alice)).status).toBe(200);
    await expect.poll(() => hooked.filter((path) => path === "/moved").length).toBe(1);
    // Time for the retries a follower would have made.
    await new Promise((done) => setTimeout(done, 1500));
    expect(hooked.filter((path) => path === "/moved").length).toBe(1);
    expect(hooked).not.toContain("/elsewhere");
  });
});
