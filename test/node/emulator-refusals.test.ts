/**
 * Tampered uploads are refused: descriptors come from the real Worker, the requests are altered on the way, and the
 * emulator — which verifies like COS, from the docs — must say no with the COS error COS would give.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostForm, keyTimeAt } from "../../worker/src/cos/index.js";
import { OLD_BUCKET, OTHER_BUCKET, type RunningSigner, SECRET_ID, SECRET_KEY, startEmulator, startSigner } from "./harness";

interface PutDescriptor {
  key: string;
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}
interface PostDescriptor {
  key: string;
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;

beforeAll(async () => {
  emulator = await startEmulator();
  signer = await startSigner({ COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, UPLOAD_MAX_BYTES: "1000" });
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
});

async function describeUpload<T>(body: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${signer.url}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function put(descriptor: PutDescriptor, body: Uint8Array<ArrayBuffer>, url = descriptor.url, headers = descriptor.headers) {
  return fetch(url, { method: "PUT", headers, body });
}

function postForm(descriptor: PostDescriptor, file: Uint8Array<ArrayBuffer>, fields = descriptor.fields, url = descriptor.url) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([file]), "file.jpg");
  return fetch(url, { method: "POST", body: form });
}

async function expectCosError(response: Response, status: number, code: string, message?: RegExp): Promise<string> {
  const xml = await response.text();
  expect(response.status).toBe(status);
  expect(xml).toContain(`<Code>${code}</Code>`);
  if (message) expect(xml).toMatch(message);
  return xml;
}

const bytes = (n: number) => new Uint8Array(n).fill(7);

describe("the emulator accepts the untouched upload", () => {
  it("PUT and POST as described", async () => {
    const putDescriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    expect((await put(putDescriptor, bytes(10))).status).toBe(200);
    const postDescriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    expect((await postForm(postDescriptor, bytes(10))).status).toBe(200);
  });
});

describe("tampering is refused", () => {
  it("PUT of another size than the signed content-length → SignatureDoesNotMatch, with StringToSign and FormatString", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    const xml = await expectCosError(await put(descriptor, bytes(11)), 403, "SignatureDoesNotMatch");
    expect(xml).toContain("<StringToSign>sha1\n");
    expect(xml).toMatch(/<FormatString>put\n\/examplebucket-1250000000\/uploads\/[^\n]+\n\ncontent-length=11&amp;content-type=image%2Fjpeg&amp;host=/);
  });

  it("POST of a file outside content-length-range → EntityTooLarge / EntityTooSmall", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    await expectCosError(await postForm(descriptor, bytes(11)), 400, "EntityTooLarge");
    await expectCosError(await postForm(descriptor, bytes(9)), 400, "EntityTooSmall");
  });

  it("PUT to another key with the same Authorization → SignatureDoesNotMatch", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    await expectCosError(await put(descriptor, bytes(10), descriptor.url.replace(/\.jpg$/, ".html")), 403, "SignatureDoesNotMatch");
    await expectCosError(await put(descriptor, bytes(10), `${emulator.url}/${OLD_BUCKET.name}/uploads/victim.jpg`), 403, "SignatureDoesNotMatch");
  });

  it("POST with an altered key field → policy condition failed", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    await expectCosError(await postForm(descriptor, bytes(10), { ...descriptor.fields, key: "uploads/victim.jpg" }), 403, "AccessDenied", /Policy Condition failed/);
  });

  it("POST with another Content-Type than the bound one → policy condition failed", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    await expectCosError(await postForm(descriptor, bytes(10), { ...descriptor.fields, "Content-Type": "text/html" }), 403, "AccessDenied", /Content-Type/);
  });

  it("PUT with another Content-Type than the signed one → SignatureDoesNotMatch", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    await expectCosError(await put(descriptor, bytes(10), descriptor.url, { ...descriptor.headers, "Content-Type": "text/html" }), 403, "SignatureDoesNotMatch");
  });

  it("PUT without a signed header (x-cos-forbid-overwrite) → SignatureDoesNotMatch", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    const { "x-cos-forbid-overwrite": _dropped, ...headers } = descriptor.headers;
    await expectCosError(await put(descriptor, bytes(10), descriptor.url, headers), 403, "SignatureDoesNotMatch");
  });

  it("a descriptor used after it expired → AccessDenied (PUT) / policy expired (POST)", async () => {
    const putDescriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    const postDescriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    emulator.setClock(() => new Date(Date.parse(putDescriptor.expiresAt) + 1000));
    try {
      await expectCosError(await put(putDescriptor, bytes(10)), 403, "AccessDenied", /expired/);
      await expectCosError(await postForm(postDescriptor, bytes(10)), 403, "AccessDenied", /expired/);
    } finally {
      emulator.setClock(() => new Date());
    }
  });

  it("a second PUT of the same descriptor → 409 FileAlreadyExists (x-cos-forbid-overwrite)", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    expect((await put(descriptor, bytes(10))).status).toBe(200);
    await expectCosError(await put(descriptor, bytes(10)), 409, "FileAlreadyExists");
    expect((await emulator.store.get(OLD_BUCKET.name, descriptor.key))?.body.length).toBe(10);
  });

  it("the same POST form posted again → 409 FileAlreadyExists (the policy binds x-cos-forbid-overwrite)", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    expect((await postForm(descriptor, bytes(10))).status).toBe(200);
    await expectCosError(await postForm(descriptor, new Uint8Array(10).fill(9)), 409, "FileAlreadyExists");
    // Leaving the field out to get around it breaks the policy.
    const { "x-cos-forbid-overwrite": _dropped, ...withoutField } = descriptor.fields;
    await expectCosError(await postForm(descriptor, bytes(10), withoutField), 403, "AccessDenied", /x-cos-forbid-overwrite/);
    expect((await emulator.store.get(OLD_BUCKET.name, descriptor.key))?.body).toEqual(Buffer.from(bytes(10)));
  });

  it("a POST form sent to another bucket → the policy's bucket condition fails", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    await expectCosError(await postForm(descriptor, bytes(10), descriptor.fields, `${emulator.url}/${OTHER_BUCKET.name}/`), 403, "AccessDenied", /bucket/);
  });

  it("a PUT signed for one bucket sent to another → SignatureDoesNotMatch (the bucket is in the signed path)", async () => {
    const descriptor = await describeUpload<PutDescriptor>({ ext: "jpg", size: 10 });
    await expectCosError(await put(descriptor, bytes(10), descriptor.url.replace(OLD_BUCKET.name, OTHER_BUCKET.name)), 403, "SignatureDoesNotMatch");
  });

  it("a POST form missing a signature field → AccessDenied", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    const { "q-signature": _dropped, ...fields } = descriptor.fields;
    await expectCosError(await postForm(descriptor, bytes(10), fields), 403, "AccessDenied", /q-signature/);
  });

  it("a forged signature with the right shape → SignatureDoesNotMatch", async () => {
    const descriptor = await describeUpload<PostDescriptor>({ ext: "jpg", size: 10, method: "post" });
    await expectCosError(await postForm(descriptor, bytes(10), { ...descriptor.fields, "q-signature": "0".repeat(40) }), 403, "SignatureDoesNotMatch");
  });
});

describe("the seed routes' output works against the emulator as Tencent's sample sends it", () => {
  it("GET /put-sign: PUT to 'https://' + cosHost + '/' + cosKey with Authorization and x-cos-security-token", async () => {
    const auth = (await (await fetch(`${signer.url}/put-sign?ext=jpg`)).json()) as { cosHost: string; cosKey: string; authorization: string; securityToken: string };
    // The sample prefixes https://; the emulator speaks http on the same host and port.
    const url = `http://${auth.cosHost}/${auth.cosKey}`;
    const response = await fetch(url, { method: "PUT", headers: { Authorization: auth.authorization, "x-cos-security-token": auth.securityToken, "Content-Type": "application/json" }, body: bytes(5) });
    expect(response.status).toBe(200);
  });

  it("GET /post-policy: the sample's form fields, empty Content-Type included", async () => {
    const auth = (await (await fetch(`${signer.url}/post-policy?ext=jpg`)).json()) as Record<string, string>;
    const form = new FormData();
    const fields: Record<string, string> = {
      key: auth.cosKey!,
      success_action_status: "200",
      "Content-Type": "",
      "q-sign-algorithm": auth.qSignAlgorithm!,
      "q-ak": auth.qAk!,
      "q-key-time": auth.qKeyTime!,
      "q-signature": auth.qSignature!,
      policy: auth.policy!,
    };
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob([bytes(5)]), "a.jpg");
    const response = await fetch(`http://${auth.cosHost}`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    expect((await emulator.store.get(OLD_BUCKET.name, auth.cosKey!))?.body.length).toBe(5);
  });
});

describe("the emulator's POST Object answer", () => {
  it("success_action_status 201: the PostResponse XML escapes the key's entities", async () => {
    const key = `uploads/a&b<c>"d'e.jpg`;
    const { fields } = await createPostForm(
      { secretId: SECRET_ID, secretKey: SECRET_KEY },
      { bucket: OLD_BUCKET.name, key, keyTime: keyTimeAt(new Date(), 600) },
      { success_action_status: "201" },
    );
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob([bytes(3)]), "a.jpg");
    const response = await fetch(`${emulator.url}/${OLD_BUCKET.name}`, { method: "POST", body: form });
    expect(response.status).toBe(201);
    const xml = await response.text();
    expect(xml).toContain("<Key>uploads/a&amp;b&lt;c&gt;&quot;d&apos;e.jpg</Key>");
  });
});
