/** Objects on disk: one data file and one JSON metadata file per object, named by a hash of bucket and key. */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc64 } from "./crc64.js";

export interface StoredObject {
  readonly key: string;
  readonly contentType: string;
  readonly size: number;
  readonly etag: string;
  /** CRC-64/ECMA-182, decimal, as COS's x-cos-hash-crc64ecma. */
  readonly crc64: string;
  readonly lastModified: string;
}

export class DiskStore {
  constructor(readonly root: string) {}

  // A hash, not the key: keys may hold `..`, `/` and names no file system accepts.
  private path(bucket: string, key: string): string {
    return join(this.root, bucket, createHash("sha256").update(key).digest("hex"));
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return stat(`${this.path(bucket, key)}.json`).then(
      () => true,
      () => false,
    );
  }

  /**
   * Writes an object. Its ETag and CRC-64 are its bytes' MD5 and CRC, or `digests` when the caller has them already
   * (a multipart Complete: from the parts', as COS does, without another pass over the object).
   */
  async put(bucket: string, key: string, body: Uint8Array, contentType: string, digests?: { readonly etag: string; readonly crc64: string }): Promise<StoredObject> {
    const path = this.path(bucket, key);
    await mkdir(join(this.root, bucket), { recursive: true });
    const object: StoredObject = {
      key,
      contentType,
      size: body.byteLength,
      etag: digests?.etag ?? `"${createHash("md5").update(body).digest("hex")}"`,
      crc64: digests?.crc64 ?? crc64(body),
      lastModified: new Date().toUTCString(),
    };
    // Data first, metadata last: an object exists once its metadata does.
    await writeFile(`${path}.tmp`, body);
    await rename(`${path}.tmp`, path);
    await writeFile(`${path}.json`, JSON.stringify(object));
    return object;
  }

  async delete(bucket: string, key: string): Promise<void> {
    const path = this.path(bucket, key);
    await rm(`${path}.json`, { force: true });
    await rm(path, { force: true });
  }

  async get(bucket: string, key: string): Promise<{ object: StoredObject; body: Buffer } | undefined> {
    const path = this.path(bucket, key);
    try {
      const object = JSON.parse(await readFile(`${path}.json`, "utf8")) as StoredObject;
      return { object, body: await readFile(path) };
    } catch {
      return undefined;
    }
  }
}
