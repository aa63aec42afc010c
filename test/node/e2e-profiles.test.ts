/**
 * Two buckets in one region and one in another, behind one signer, through the emulator: each upload lands in its
 * profile's bucket under its prefix, and the emulator refuses sizes and types the profile's signature did not allow.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUploader } from "../../miniprogram/cos-upload/index";
import { wxNode } from "../../wx-node/index";
import { fixtures, type RunningSigner, SECRET_ID, SECRET_KEY, startEmulator, startSigner, wxRequest } from "./harness";

/** PUT through the Node `wx` adapter, which resolves `*.localhost` (Node's fetch does not). */
async function put(url: string, header: Record<string, string>, bytes: number): Promise<{ status: number; body: string }> {
  const { status, data } = await wxRequest({ url, method: "PUT", header, data: new ArrayBuffer(bytes), dataType: "text" });
  return { status, body: String(data) };
}

const AVATARS = { name: "avatars-1250000000", region: "ap-guangzhou" };
const PHOTOS = { name: "photos-1250000000", region: "ap-guangzhou" };
const VIDEOS = { name: "videos-1250000001", region: "ap-shanghai" };
const PARTNER = { id: "AKIDPARTNERxxxxxxxxxxxxxxxxxxxxxxxxx", key: "partner-secret-key-never-shown" };

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let files: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  emulator = await startEmulator([AVATARS, PHOTOS, VIDEOS], { [SECRET_ID]: SECRET_KEY, [PARTNER.id]: PARTNER.key });
  const profiles = {
    avatar: { bucket: AVATARS.name, keyPrefix: "avatars", extensions: ["jpg", "png"], contentTypes: ["image/*"], maxBytes: 1000, methods: ["post"] },
    photo: { bucket: PHOTOS.name, keyPrefix: "photos", extensions: ["jpg", "png"], contentTypes: ["image/jpeg", "image/png"], maxBytes: 100_000 },
    video: {
      bucket: VIDEOS.name,
      region: VIDEOS.region,
      pathStyle: false,
      endpoint: `http://${VIDEOS.name}.cos.${VIDEOS.region}.localhost:${emulator.port}`,
      keyPrefix: "videos",
      extensions: ["mp4", "bin"],
      contentTypes: ["video/*"],
      credentials: "partner",
    },
  };
  signer = await startSigner({
    COS_BUCKET: "",
    COS_REGION: "ap-guangzhou",
    COS_ENDPOINT: emulator.url,
    UPLOAD_PROFILES: JSON.stringify(profiles),
    COS_SECRET_ID_PARTNER: PARTNER.id,
    COS_SECRET_KEY_PARTNER: PARTNER.key,
  });
  files = await fixtures("e2e-profiles");
}, 60_000);

afterAll(async () => {
  await signer?.dispose();
  await emulator?.dispose();
  await files?.dispose();
});

const fixture = (name: string, bytes: Buffer) => files.write(name, bytes);

async function describeUpload<T>(body: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${signer.url}/v1/uploads`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function postForm(url: string, fields: Record<string, string>, file: Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([file]), "file");
  return fetch(url, { method: "POST", body: form });
}

describe("each profile's uploads land in its own bucket, under its prefix", () => {
  const cases = [
    { profile: "avatar", method: "post", file: "a.png", bucket: AVATARS.name, prefix: "avatars/", size: 900 },
    { profile: "photo", method: "put", file: "p.jpg", bucket: PHOTOS.name, prefix: "photos/", size: 50_000 },
    { profile: "photo", method: "post", file: "p2.png", bucket: PHOTOS.name, prefix: "photos/", size: 10 },
    { profile: "video", method: "put", file: "v.mp4", bucket: VIDEOS.name, prefix: "videos/", size: 300_000 },
    { profile: "video", method: "post", file: "v.bin", bucket: VIDEOS.name, prefix: "videos/", size: 1, contentType: "video/mp2t" },
  ] as const;
  for (const c of cases) {
    it(`${c.profile}: ${c.method.toUpperCase()} ${c.file} → ${c.bucket}/${c.prefix}`, async () => {
      const bytes = randomBytes(c.size);
      const contentType = "contentType" in c ? c.contentType : undefined;
      const result = await createUploader({ signerUrl: signer.url, wx: wxNode }).upload({ filePath: await fixture(c.file, bytes), profile: c.profile, method: c.method, size: c.size, contentType });
      expect(result.key.startsWith(c.prefix)).toBe(true);
      expect((await emulator.store.get(c.bucket, result.key))?.body.equals(bytes)).toBe(true);
      for (const other of [AVATARS, PHOTOS, VIDEOS].filter((b) => b.name !== c.bucket)) expect(await emulator.store.get(other.name, result.key)).toBeUndefined();
    });
  }
});

describe("the emulator refuses what a profile's signature did not allow", () => {
  it("a POST file over the size bound (content-length-range)", async () => {
    const d = await describeUpload<{ url: string; fields: Record<string, string> }>({ profile: "avatar", ext: "png", method: "post", size: 1000 });
    const response = await postForm(d.url, d.fields, new Uint8Array(1001));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("<Code>EntityTooLarge</Code>");
  });

  it("a PUT of another size than the signed content-length", async () => {
    const d = await describeUpload<{ url: string; headers: Record<string, string> }>({ profile: "photo", ext: "jpg", size: 100 });
    const response = await fetch(d.url, { method: "PUT", headers: d.headers, body: new Uint8Array(101) });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("a POST with another type than the policy binds (eq, also for a declared family)", async () => {
    const avatar = await describeUpload<{ url: string; fields: Record<string, string> }>({ profile: "avatar", ext: "png", method: "post", size: 5 });
    const swapped = await postForm(avatar.url, { ...avatar.fields, "Content-Type": "image/jpeg" }, new Uint8Array(5));
    expect(swapped.status).toBe(403);
    expect(await swapped.text()).toContain("Content-Type");
    // A declared family (image/*) binds the suffix's own type: image/svg+xml, which starts with image/, is refused.
    const family = await describeUpload<{ url: string; fields: Record<string, string> }>({ profile: "avatar", ext: "png", method: "post", size: 5, contentType: "image/*" });
    expect(family.fields["Content-Type"]).toBe("image/png");
    for (const type of ["text/html", "image/svg+xml"]) expect((await postForm(family.url, { ...family.fields, "Content-Type": type }, new Uint8Array(5))).status).toBe(403);
    const ok = await postForm(family.url, family.fields, new Uint8Array(5));
    expect(ok.status).toBe(200);
    expect((await emulator.store.get(AVATARS.name, family.fields.key!))?.object.contentType).toBe("image/png");
  });

  it("a PUT with another type than the signed one", async () => {
    const d = await describeUpload<{ url: string; headers: Record<string, string> }>({ profile: "photo", ext: "png", size: 5 });
    const response = await fetch(d.url, { method: "PUT", headers: { ...d.headers, "Content-Type": "image/jpeg" }, body: new Uint8Array(5) });
    expect(response.status).toBe(403);
  });

  it("a bucket on another region's domain does not answer", async () => {
    const d = await describeUpload<{ url: string; headers: Record<string, string> }>({ profile: "video", ext: "mp4", size: 5 });
    expect((await put(d.url, d.headers, 5)).status).toBe(200);
    const wrongRegion = await put(d.url.replace("ap-shanghai", "ap-guangzhou"), d.headers, 5);
    expect(wrongRegion.status).toBe(404);
    expect(wrongRegion.body).toContain("<Code>NoSuchBucket</Code>");
  });
});
