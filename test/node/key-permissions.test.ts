/**
 * Issue 18: what a q-sign signature does not list, COS does not check — so a signed request can be extended with
 * headers and parameters that make it another operation. The stop is the permission of the key that signed: here the
 * emulator runs the least-privilege CAM policies of docs/security.md (dev/cam-policies.json, as in local mode), the
 * signer signs uploads with the write pair and reads with the read pair, and every extension below is refused BY
 * PERMISSION (AccessDenied naming the action), while the request as signed still works.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyTimeAt, signRequest } from "../../worker/src/cos/index.js";
import { leastPrivilege, OLD_BUCKET, READ_SECRET_ID, READ_SECRET_KEY, type RunningSigner, SECRET_ID, SECRET_KEY, startEmulator, startSigner } from "./harness";

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;

beforeAll(async () => {
  const keys = await leastPrivilege();
  emulator = await startEmulator([OLD_BUCKET], keys.credentials, keys.permissions);
  signer = await startSigner({
    ...keys.vars,
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    UPLOAD_READ: "owner",
    SDK_ROUTES: "true",
  });
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
});

const HOST = () => new URL(emulator.url).host;
const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

async function signer200<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${signer.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}

type PutDescriptor = { key: string; url: string; headers: Record<string, string> };
const describePut = (size: number) => signer200<PutDescriptor>("/v1/uploads", { ext: "jpg", size });

/** An object of "another user": uploaded as the signer allows, so that it exists to be copied or read. */
async function victim(): Promise<string> {
  const descriptor = await describePut(5);
  expect((await fetch(descriptor.url, { method: "PUT", headers: descriptor.headers, body: bytes(5, 1) })).status).toBe(200);
  return descriptor.key;
}

async function deniedFor(response: Response, action: string): Promise<void> {
  const xml = await response.text();
  expect(response.status, xml).toBe(403);
  expect(xml).toContain("<Code>AccessDenied</Code>");
  expect(xml).toContain(`allow ${action}`);
}

describe("the least-privilege key pairs still do everything the signer hands out", () => {
  it("a PUT with the write pair, a read URL with the read pair", async () => {
    const key = await victim();
    const { url } = await signer200<{ url: string }>("/v1/objects/url", { key });
    expect(new URL(url).searchParams.get("q-ak")).toBe(READ_SECRET_ID);
    const read = await fetch(url);
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer())).toEqual(Buffer.from(bytes(5, 1)));
  });
});

describe("1. a PUT signature cannot become PUT Object - Copy", () => {
  it("Tencent's sample PUT (no size signed) sent empty with x-cos-copy-source → refused: the write key may not GetObject", async () => {
    const source = await victim();
    const auth = (await (await fetch(`${signer.url}/put-sign?ext=jpg`)).json()) as { cosHost: string; cosKey: string; authorization: string };
    const response = await fetch(`http://${auth.cosHost}/${auth.cosKey}`, {
      method: "PUT",
      headers: { Authorization: auth.authorization, "x-cos-copy-source": `${OLD_BUCKET.name}.cos.${OLD_BUCKET.region}.myqcloud.com/${source}` },
      body: new Uint8Array(0),
    });
    await deniedFor(response, "GetObject");
    expect(await emulator.store.get(OLD_BUCKET.name, auth.cosKey)).toBeUndefined();
  });

  it("a /v1/uploads PUT signs at least one byte, so it cannot be sent as a copy, which has no body", async () => {
    const response = await fetch(`${signer.url}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"ext":"jpg","size":0}' });
    expect(response.status).toBe(400);
    const source = await victim();
    const descriptor = await describePut(1);
    const copy = await fetch(descriptor.url, {
      method: "PUT",
      headers: { ...descriptor.headers, "x-cos-copy-source": `${OLD_BUCKET.name}.cos.${OLD_BUCKET.region}.myqcloud.com/${source}` },
      body: bytes(1),
    });
    // The body the signature demands is refused by COS for a copy; without it the signed content-length fails.
    expect(copy.status).toBeGreaterThanOrEqual(400);
    expect(await emulator.store.get(OLD_BUCKET.name, descriptor.key)).toBeUndefined();
  });
});

describe("2. unsigned headers added to a signed PUT", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["x-cos-acl: public-read", { "x-cos-acl": "public-read" }, "PutObject"],
    ["x-cos-storage-class: DEEP_ARCHIVE", { "x-cos-storage-class": "DEEP_ARCHIVE" }, "PutObject"],
    ["x-cos-grant-read", { "x-cos-grant-read": 'id="100000000001"' }, "PutObjectACL"],
    ["x-cos-tagging", { "x-cos-tagging": "a=b" }, "PutObjectTagging"],
    ["pic-operations writing outside the upload prefix", { "pic-operations": JSON.stringify({ rules: [{ fileid: "/site/index.jpg", rule: "imageMogr2/format/png" }] }) }, "PutObject"],
  ];
  for (const [name, extra, action] of cases) {
    it(`${name} → refused by the write key's policy`, async () => {
      const descriptor = await describePut(3);
      await deniedFor(await fetch(descriptor.url, { method: "PUT", headers: { ...descriptor.headers, ...extra }, body: bytes(3) }), action);
      expect(await emulator.store.get(OLD_BUCKET.name, descriptor.key)).toBeUndefined();
    });
  }

  it("x-cos-storage-class: STANDARD and pic-operations inside the prefix are what the policy leaves (documented)", async () => {
    const descriptor = await describePut(3);
    const folder = descriptor.key.slice(0, descriptor.key.lastIndexOf("/") + 1);
    const response = await fetch(descriptor.url, {
      method: "PUT",
      headers: { ...descriptor.headers, "x-cos-storage-class": "STANDARD", "pic-operations": JSON.stringify({ rules: [{ fileid: "processed.png", rule: "imageMogr2/format/png" }] }) },
      body: bytes(3),
    });
    expect(response.status).toBe(200);
    expect(await emulator.store.get(OLD_BUCKET.name, `${folder}processed.png`)).toBeDefined();
  });
});

describe("3. unsigned sub-resources on a signed request", () => {
  for (const [query, action] of [["acl", "PutObjectACL"], ["tagging", "PutObjectTagging"]] as const) {
    it(`a PutObject signature sent as PUT ?${query} → refused (${action})`, async () => {
      // The sub-resource acts on the signed key: the object the same descriptor just uploaded.
      const descriptor = await describePut(3);
      expect((await fetch(descriptor.url, { method: "PUT", headers: descriptor.headers, body: bytes(3) })).status).toBe(200);
      await deniedFor(await fetch(`${descriptor.url}?${query}`, { method: "PUT", headers: { ...descriptor.headers, "x-cos-acl": "public-read" }, body: bytes(3) }), action);
    });
  }

  it("the SDK's ListMultipartUploads signature sent as GET Bucket, ?acl or ?policy → refused", async () => {
    const Key = (await signer200<{ Key: string }>("/v1/cos/keys", { ext: "jpg" })).Key;
    const prefix = Key.slice(0, Key.lastIndexOf("/") + 1);
    const { Authorization } = await signer200<{ Authorization: string }>("/v1/cos/authorization", {
      Bucket: OLD_BUCKET.name,
      Region: OLD_BUCKET.region,
      Method: "get",
      Key: "",
      Pathname: `/${OLD_BUCKET.name}/`,
      Query: { uploads: "", prefix },
      Headers: { Host: HOST() },
    });
    const bucketUrl = `${emulator.url}/${OLD_BUCKET.name}/`;
    expect((await fetch(`${bucketUrl}?uploads&prefix=${encodeURIComponent(prefix)}`, { headers: { Authorization } })).status).toBe(200);
    // Without ?uploads the signed (empty) value still matches: only the permission says no.
    await deniedFor(await fetch(`${bucketUrl}?prefix=${encodeURIComponent(prefix)}`, { headers: { Authorization } }), "GetBucket");
    await deniedFor(await fetch(`${bucketUrl}?uploads&prefix=${encodeURIComponent(prefix)}&acl`, { headers: { Authorization } }), "GetBucketACL");
    await deniedFor(await fetch(`${bucketUrl}?uploads&prefix=${encodeURIComponent(prefix)}&policy`, { headers: { Authorization } }), "GetBucketPolicy");
  });
});

describe("4. the write key deletes and reads nothing, whatever a signature is turned into", () => {
  // What the signer signed before issue 18 (an Abort or a ListParts with uploadId=""), signed here with the write
  // pair by the signing core itself: the signer now refuses to sign it (worker/test/security.test.ts), and even so
  // the key may neither delete nor read.
  const signedByWriteKey = async (method: "DELETE" | "GET", key: string) => {
    const { authorization } = await signRequest(
      { secretId: SECRET_ID, secretKey: SECRET_KEY },
      { method, pathname: `/${OLD_BUCKET.name}/${key}`, query: { uploadId: "" }, headers: { host: HOST() } },
      keyTimeAt(new Date(), 600),
    );
    return fetch(`${emulator.url}/${OLD_BUCKET.name}/${key}`, { method, headers: { Authorization: authorization } });
  };

  it("an Abort signed with an empty uploadId, sent as a plain DELETE of the object → refused (DeleteObject)", async () => {
    const key = await victim();
    await deniedFor(await signedByWriteKey("DELETE", key), "DeleteObject");
    expect(await emulator.store.get(OLD_BUCKET.name, key)).toBeDefined();
  });

  it("a ListParts signed with an empty uploadId, sent as a GET of the object → refused (GetObject)", async () => {
    await deniedFor(await signedByWriteKey("GET", await victim()), "GetObject");
  });
});

describe("8. a read URL cannot be extended into another answer", () => {
  it("response-content-type=text/html added → refused by the read key's policy; the URL as signed works", async () => {
    const key = await victim();
    const { url } = await signer200<{ url: string }>("/v1/objects/url", { key });
    expect((await fetch(url)).status).toBe(200);
    await deniedFor(await fetch(`${url}&response-content-type=text%2Fhtml`), "GetObject");
  });

  it("the read key writes nothing: a PUT signed with it → refused by its policy", async () => {
    // Signed as a PUT by the signing core (a read URL sent as a PUT fails on its signed method before any permission).
    const key = await victim();
    const { authorization } = await signRequest(
      { secretId: READ_SECRET_ID, secretKey: READ_SECRET_KEY },
      { method: "PUT", pathname: `/${OLD_BUCKET.name}/${key}`, query: {}, headers: { host: HOST(), "content-length": "1" } },
      keyTimeAt(new Date(), 600),
    );
    await deniedFor(await fetch(`${emulator.url}/${OLD_BUCKET.name}/${key}`, { method: "PUT", headers: { Authorization: authorization }, body: bytes(1) }), "PutObject");
    expect((await emulator.store.get(OLD_BUCKET.name, key))?.body).toEqual(Buffer.from(bytes(5, 1)));
  });
});
