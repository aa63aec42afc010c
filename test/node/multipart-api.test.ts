/**
 * The multipart API over real HTTP: the Worker in workerd initiates, lists, completes and aborts on the COS emulator
 * itself; parts go from here to the emulator with the Worker's signatures, as a client sends them. Then every way
 * around what the token and the part signatures bind.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc64 } from "../../emulator/crc64.js";
import { OLD_BUCKET, type RunningSigner, startEmulator, startSigner } from "./harness";

const MiB = 1024 * 1024;
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let signer: RunningSigner;
let sessions: RunningSigner;

interface Started {
  key: string;
  uploadId: string;
  size: number;
  partSize: number;
  partCount: number;
  contentType: string;
  token: string;
  objectUrl: string;
  expiresAt: string;
}
interface SignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

beforeAll(async () => {
  emulator = await startEmulator();
  const vars = { COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, UPLOAD_MULTIPART_MAX_BYTES: String(200 * MiB) };
  [signer, sessions] = await Promise.all([startSigner(vars), startSigner({ ...vars, AUTH_MODE: "wechat" })]);
}, 90_000);

afterAll(async () => {
  await signer?.dispose();
  await sessions?.dispose();
  await emulator?.dispose();
});

async function api<T>(path: string, body: unknown, headers: Record<string, string> = {}, on = signer): Promise<{ status: number; body: T }> {
  const response = await fetch(`${on.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

async function ok<T>(path: string, body: unknown, headers: Record<string, string> = {}, on = signer): Promise<T> {
  const response = await api<T>(path, body, headers, on);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

async function start(size: number, extra: Record<string, unknown> = {}): Promise<Started> {
  return ok<Started>("/v1/multipart", { ext: "mp4", size, ...extra });
}

async function sign(upload: Started, partNumbers: number[]): Promise<SignedPart[]> {
  return (await ok<{ parts: SignedPart[] }>("/v1/multipart/parts", { token: upload.token, partNumbers })).parts;
}

const slice = (file: Buffer, upload: Started, n: number) => file.subarray((n - 1) * upload.partSize, Math.min(n * upload.partSize, file.length));

function putPart(part: SignedPart, bytes: Buffer): Promise<Response> {
  return fetch(part.url, { method: "PUT", headers: part.headers, body: new Uint8Array(bytes) });
}

/** Uploads every part, `inFlight` at a time, then completes. */
async function uploadAll(file: Buffer, upload: Started, inFlight = 3) {
  const parts = await sign(upload, Array.from({ length: upload.partCount }, (_, i) => i + 1));
  const queue = [...parts];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let part = queue.shift(); part; part = queue.shift()) expect((await putPart(part, slice(file, upload, part.partNumber))).status).toBe(200);
    }),
  );
  return ok<{ key: string; url: string; size: number; etag: string; crc64: string | null }>("/v1/multipart/complete", { token: upload.token });
}

const uploadPartRequests = (uploadId: string) => emulator.log.filter((entry) => entry.method === "PUT" && entry.url.includes(`uploadId=${uploadId}`) && entry.status === 200).length;

describe("multipart uploads through the Worker and the emulator", () => {
  const sizes: [string, number][] = [
    ["one byte (1 part)", 1],
    ["exactly one 5 MiB part", 5 * MiB],
    ["5 MiB + 1 byte (an uneven last part of 1 byte)", 5 * MiB + 1],
    ["two whole parts", 10 * MiB],
    ["52 MiB + 12345 bytes, 3 parts in flight", 52 * MiB + 12345],
  ];
  for (const [name, size] of sizes) {
    it(`${name}: the bytes read back equal the file, and COS's CRC-64 is answered`, async () => {
      const file = randomBytes(size);
      const upload = await start(size);
      expect(upload).toMatchObject({ size, partSize: 5 * MiB, partCount: Math.ceil(size / (5 * MiB)), contentType: "video/mp4" });
      expect(upload.key).toMatch(/^uploads\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.mp4$/);
      const done = await uploadAll(file, upload);
      expect(done).toMatchObject({ key: upload.key, url: upload.objectUrl, size, crc64: crc64(file) });
      const stored = await emulator.store.get(OLD_BUCKET.name, upload.key);
      expect(stored?.body.equals(file)).toBe(true);
      expect(stored?.object.contentType).toBe("video/mp4");
    }, 60_000);
  }

  it("resumes: /list tells what COS holds, and only the missing parts are sent again", async () => {
    const file = randomBytes(23 * MiB);
    const upload = await start(file.length);
    const first = await sign(upload, [1, 2, 4]);
    for (const part of first) expect((await putPart(part, slice(file, upload, part.partNumber))).status).toBe(200);
    // The app restarts here; all it kept is the token.
    const listed = await ok<{ parts: { partNumber: number; size: number; etag: string }[]; partCount: number }>("/v1/multipart/list", { token: upload.token });
    expect(listed.partCount).toBe(5);
    expect(listed.parts.map((part) => part.partNumber)).toEqual([1, 2, 4]);
    expect(listed.parts[0]).toMatchObject({ size: 5 * MiB, etag: `"${createHash("md5").update(slice(file, upload, 1)).digest("hex")}"` });
    const missing = [1, 2, 3, 4, 5].filter((n) => !listed.parts.some((part) => part.partNumber === n));
    for (const part of await sign(upload, missing)) expect((await putPart(part, slice(file, upload, part.partNumber))).status).toBe(200);
    expect(uploadPartRequests(upload.uploadId)).toBe(5);
    await ok("/v1/multipart/complete", { token: upload.token });
    expect((await emulator.store.get(OLD_BUCKET.name, upload.key))?.body.equals(file)).toBe(true);
  }, 30_000);

  it("pages through ListParts: /list and /complete see every part when COS answers 2 parts a page", async () => {
    emulator.setListPageSize(2);
    try {
      const file = randomBytes(21 * MiB);
      const upload = await start(file.length);
      for (const part of await sign(upload, [1, 2, 3, 4, 5])) await putPart(part, slice(file, upload, part.partNumber));
      const listed = await ok<{ parts: { partNumber: number }[] }>("/v1/multipart/list", { token: upload.token });
      expect(listed.parts.map((part) => part.partNumber)).toEqual([1, 2, 3, 4, 5]);
      const lists = () => emulator.log.filter((entry) => entry.method === "GET" && entry.url.includes(`uploadId=${upload.uploadId}`)).length;
      expect(lists()).toBe(3);
      await ok("/v1/multipart/complete", { token: upload.token });
      expect((await emulator.store.get(OLD_BUCKET.name, upload.key))?.body.equals(file)).toBe(true);
    } finally {
      emulator.setListPageSize(1000);
    }
  }, 30_000);

  it("completing twice answers the same result (a client that timed out just retries)", async () => {
    const file = randomBytes(6 * MiB);
    const upload = await start(file.length);
    const first = await uploadAll(file, upload);
    const second = await ok("/v1/multipart/complete", { token: upload.token });
    // COS's multipart ETag (MD5 of the parts' binary MD5s, then their count), from the Complete and then from a HEAD.
    const md5s = createHash("md5");
    for (let n = 1; n <= upload.partCount; n++) md5s.update(createHash("md5").update(slice(file, upload, n)).digest());
    expect(first.etag).toBe(`"${md5s.digest("hex")}-${upload.partCount}"`);
    expect(second).toEqual(first);
    expect((second as { crc64: string }).crc64).toBe(crc64(file));
  }, 30_000);

  it("reads Complete's answer to its end: a slow merge streams whitespace, then the result", async () => {
    emulator.setMergeDelay(1500);
    try {
      const file = randomBytes(2 * MiB);
      const done = await uploadAll(file, await start(file.length));
      expect(done.size).toBe(file.length);
    } finally {
      emulator.setMergeDelay(0);
    }
  }, 30_000);

  it("retries the Worker's own COS calls on 5xx", async () => {
    emulator.failNext(503, 2);
    const upload = await start(1000);
    expect(upload.uploadId).toMatch(/.+/);
  });

  it("plans bigger parts for big files: at most 10,000, whole MiB", async () => {
    const big = await ok<Started>("/v1/multipart", { ext: "mp4", size: 60 * 1024 ** 3 }, {}, await bigSigner());
    expect(big.partSize).toBe(7 * MiB);
    expect(big.partCount).toBe(Math.ceil((60 * 1024 ** 3) / (7 * MiB)));
    expect(big.partCount).toBeLessThanOrEqual(10_000);
  });
});

let bigOne: RunningSigner | undefined;
async function bigSigner(): Promise<RunningSigner> {
  bigOne ??= await startSigner({
    COS_BUCKET: OLD_BUCKET.name,
    COS_REGION: OLD_BUCKET.region,
    COS_ENDPOINT: emulator.url,
    UPLOAD_MULTIPART_MAX_BYTES: String(60 * 1024 ** 3),
  });
  return bigOne;
}
afterAll(async () => bigOne?.dispose());

describe("what a multipart upload cannot be made to do", () => {
  it("a part of another size than its signature's content-length → SignatureDoesNotMatch", async () => {
    const upload = await start(12 * MiB);
    const [part] = await sign(upload, [1]);
    const response = await putPart(part!, randomBytes(5 * MiB - 1));
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("a part's signature used for another part number, another upload, or as a PutObject → refused", async () => {
    const upload = await start(12 * MiB);
    const other = await start(12 * MiB);
    const [part] = await sign(upload, [1]);
    const bytes = randomBytes(5 * MiB);
    for (const url of [part!.url.replace("partNumber=1", "partNumber=2"), part!.url.replace(upload.uploadId, other.uploadId), part!.url.split("?")[0]!]) {
      expect((await fetch(url, { method: "PUT", headers: part!.headers, body: bytes })).status).toBe(403);
    }
  });

  it("part numbers outside 1..partCount, repeated, too many, or not numbers → 400 part_numbers_invalid", async () => {
    const upload = await start(12 * MiB);
    for (const partNumbers of [[0], [4], [1, 1], [1.5], ["1"], [], Array.from({ length: 101 }, (_, i) => i + 1), "1"]) {
      const response = await api("/v1/multipart/parts", { token: upload.token, partNumbers });
      expect(response.status).toBe(400);
      expect(errorCode(response.body)).toBe("part_numbers_invalid");
    }
  });

  it("complete with a missing part → 409 parts_incomplete naming it; nothing is stored", async () => {
    const file = randomBytes(12 * MiB);
    const upload = await start(file.length);
    for (const part of await sign(upload, [1, 3])) await putPart(part, slice(file, upload, part.partNumber));
    const response = await api<{ error: { code: string; message: string } }>("/v1/multipart/complete", { token: upload.token });
    expect(response.status).toBe(409);
    expect(response.body.error).toEqual({ code: "parts_incomplete", message: "parts missing: 2" });
    expect(await emulator.store.exists(OLD_BUCKET.name, upload.key)).toBe(false);
  });

  it("after abort: parts are refused by COS (NoSuchUpload), and list and complete answer 404 upload_not_found", async () => {
    const upload = await start(6 * MiB);
    const [part] = await sign(upload, [1]);
    expect(await ok("/v1/multipart/abort", { token: upload.token })).toEqual({ aborted: true });
    const late = await putPart(part!, randomBytes(5 * MiB));
    expect(late.status).toBe(404);
    expect(await late.text()).toContain("<Code>NoSuchUpload</Code>");
    for (const path of ["/v1/multipart/list", "/v1/multipart/complete"]) {
      const response = await api(path, { token: upload.token });
      expect(response.status).toBe(404);
      expect(errorCode(response.body)).toBe("upload_not_found");
    }
    // Aborting again is not an error.
    expect(await ok("/v1/multipart/abort", { token: upload.token })).toEqual({ aborted: true });
  });

  it("a forged, altered or other deployment's token → 401 upload_token_invalid", async () => {
    const upload = await start(6 * MiB);
    const [header, payload, signature] = upload.token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const bigger = Buffer.from(JSON.stringify({ ...claims, size: claims.size * 100, partCount: 120 })).toString("base64url");
    for (const token of [`${header}.${bigger}.${signature}`, `${header}.${payload}.${"A".repeat(signature.length)}`, "not-a-token"]) {
      const response = await api("/v1/multipart/parts", { token, partNumbers: [1] });
      expect(response.status).toBe(401);
      expect(errorCode(response.body)).toBe("upload_token_invalid");
    }
    // Not a string at all: the body is malformed.
    const number = await api("/v1/multipart/parts", { token: 42, partNumbers: [1] });
    expect([number.status, errorCode(number.body)]).toEqual([400, "body_invalid"]);
  });

  it("with sessions: another user's token → 403 upload_token_foreign; no session → 401", async () => {
    const login = async (name: string) => (await ok<{ token: string }>("/v1/session", { code: `code-${name}` }, {}, sessions)).token;
    const alice = { Authorization: `Bearer ${await login("alice")}` };
    const bob = { Authorization: `Bearer ${await login("bob")}` };
    const upload = await ok<Started>("/v1/multipart", { ext: "mp4", size: 6 * MiB }, alice, sessions);
    expect(upload.key).toMatch(/^uploads\/[0-9a-f]{20}\//);
    expect((await ok<{ parts: SignedPart[] }>("/v1/multipart/parts", { token: upload.token, partNumbers: [1] }, alice, sessions)).parts).toHaveLength(1);
    for (const path of ["/v1/multipart/parts", "/v1/multipart/list", "/v1/multipart/complete", "/v1/multipart/abort"]) {
      const response = await api(path, { token: upload.token, ...(path.endsWith("parts") ? { partNumbers: [1] } : {}) }, bob, sessions);
      expect(response.status).toBe(403);
      expect(errorCode(response.body)).toBe("upload_token_foreign");
      expect((await api(path, { token: upload.token }, {}, sessions)).status).toBe(401);
    }
  });

  it("the token pins the upload: key, uploadId, size, part plan, type, caller; valid 24 h", async () => {
    const upload = await start(6 * MiB);
    const claims = JSON.parse(Buffer.from(upload.token.split(".")[1]!, "base64url").toString());
    expect(claims.exp - claims.iat).toBe(24 * 3600);
    expect(claims).toMatchObject({
      aud: "cos-edge-signer/multipart",
      profile: "default",
      key: upload.key,
      uploadId: upload.uploadId,
      size: 6 * MiB,
      partSize: 5 * MiB,
      partCount: 2,
      contentType: "video/mp4",
      sub: "",
    });
  });

  it("refuses what the profile would refuse of a single upload, and above the multipart limit", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ext: "exe", size: 10 }, 400, "ext_not_allowed"],
      [{ ext: "mp4" }, 400, "size_required"],
      [{ ext: "mp4", size: 0 }, 400, "size_invalid"],
      [{ ext: "mp4", size: 200 * MiB + 1 }, 400, "file_too_large"],
      [{ ext: "jpg", size: 10, contentType: "text/html" }, 400, "content_type_mismatch"],
      [{ ext: "mp4", size: 10, key: "mine.mp4" }, 400, "body_invalid"],
    ];
    for (const [body, status, code] of cases) {
      const response = await api("/v1/multipart", body);
      expect(response.status).toBe(status);
      expect(errorCode(response.body)).toBe(code);
    }
  });

  it("POST /v1/uploads sends files above the multipart threshold to multipart", async () => {
    const response = await api("/v1/uploads", { ext: "mp4", size: 20 * MiB + 1 });
    expect(response.status).toBe(400);
    expect(errorCode(response.body)).toBe("multipart_required");
    expect((await api("/v1/uploads", { ext: "mp4", size: 20 * MiB })).status).toBe(200);
  });
});

describe("rate limits fit large uploads", () => {
  it("a 2 GB upload's calls pass (1 new upload, 5 batches of 100 parts, list, complete), the 61st new upload in a minute gets 429", async () => {
    const fresh = await startSigner({ COS_BUCKET: OLD_BUCKET.name, COS_REGION: OLD_BUCKET.region, COS_ENDPOINT: emulator.url, UPLOAD_MULTIPART_MAX_BYTES: String(2 * 1024 ** 3) });
    try {
      const upload = await ok<Started>("/v1/multipart", { ext: "mp4", size: 2 * 1024 ** 3 }, {}, fresh);
      expect(upload.partCount).toBe(410);
      for (let first = 1; first <= upload.partCount; first += 100) {
        const partNumbers = Array.from({ length: Math.min(100, upload.partCount - first + 1) }, (_, i) => first + i);
        expect((await ok<{ parts: SignedPart[] }>("/v1/multipart/parts", { token: upload.token, partNumbers }, {}, fresh)).parts).toHaveLength(partNumbers.length);
      }
      await ok("/v1/multipart/list", { token: upload.token }, {}, fresh);
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await api("/v1/multipart", { ext: "mp4", size: 10 }, {}, fresh)).status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(59);
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await fresh.dispose();
    }
  }, 60_000);
});

