/**
 * Multipart uploads in the emulator, as COS documents them: Initiate (436/7746), UploadPart (7750), ListParts (7747,
 * paged), Complete (7742: consecutive parts in ascending order, every part but the last at least 1 MB, 200 at once and
 * whitespace while merging, the result or an error in the body), Abort (7740). Parts are kept in memory.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { CosError, errorXml, escapeXml } from "./errors.js";

export const MIN_PART_BYTES = 1024 * 1024;

interface Part {
  readonly data: Buffer;
  readonly etag: string;
  readonly lastModified: string;
}

export interface Upload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly forbidOverwrite: boolean;
  readonly parts: Map<number, Part>;
  readonly initiated: string;
}

// CRC-64/ECMA-182 as COS reports it in x-cos-hash-crc64ecma (reflected, all-ones init and final XOR), as decimal;
// computed in two 32-bit halves, fast enough for the 50 MB files of the tests.
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi >>>= 1;
    if (carry) {
      hi ^= POLY_HI;
      lo ^= POLY_LO;
    }
  }
  TABLE_HI[n] = hi >>> 0;
  TABLE_LO[n] = lo >>> 0;
}

export function crc64(data: Uint8Array): string {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const index = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[index]!;
    hi = (hi >>> 8) ^ TABLE_HI[index]!;
  }
  return ((BigInt((hi ^ 0xffffffff) >>> 0) << 32n) | BigInt((lo ^ 0xffffffff) >>> 0)).toString();
}

export class MultipartUploads {
  private readonly uploads = new Map<string, Upload>();
  /** Parts per ListParts page at most: COS's 1000, or fewer so that tests can make a client page through. */
  pageSize = 1000;

  initiate(bucket: string, key: string, contentType: string, forbidOverwrite: boolean): string {
    if (key === "") throw new CosError(400, "InvalidArgument", "InitiateMultipartUpload needs an object key");
    const uploadId = `${Date.now()}${randomBytes(12).toString("hex")}`;
    this.uploads.set(uploadId, { bucket, key, contentType, forbidOverwrite, parts: new Map(), initiated: new Date().toISOString() });
    return uploadId;
  }

  initiateXml(bucket: string, key: string, uploadId: string): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`;
  }

  /** The upload of this bucket and key; NoSuchUpload for any other. */
  get(bucket: string, key: string, uploadId: string | null): Upload {
    const upload = uploadId ? this.uploads.get(uploadId) : undefined;
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new CosError(404, "NoSuchUpload", "The specified multipart upload does not exist.");
    }
    return upload;
  }

  putPart(upload: Upload, partNumber: string | null, data: Buffer): { etag: string; crc64: string } {
    const number = Number(partNumber);
    if (!/^\d+$/.test(partNumber ?? "") || number < 1 || number > 10_000) throw new CosError(400, "InvalidArgument", "partNumber must be 1 to 10000");
    const etag = `"${createHash("md5").update(data).digest("hex")}"`;
    upload.parts.set(number, { data, etag, lastModified: new Date().toISOString() });
    return { etag, crc64: crc64(data) };
  }

  listXml(upload: Upload, uploadId: string, query: URLSearchParams): string {
    const maxParts = Math.min(Number(query.get("max-parts") ?? 1000) || 1000, this.pageSize);
    const marker = Number(query.get("part-number-marker") ?? 0) || 0;
    const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const truncated = numbers.length > page.length;
    const parts = page
      .map((n) => {
        const part = upload.parts.get(n)!;
        return `<Part><PartNumber>${n}</PartNumber><LastModified>${part.lastModified}</LastModified><ETag>${escapeXml(part.etag)}</ETag><Size>${part.data.length}</Size></Part>`;
      })
      .join("");
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${upload.bucket}</Bucket><Key>${escapeXml(upload.key)}</Key><UploadId>${uploadId}</UploadId>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker><MaxParts>${maxParts}</MaxParts>` +
      `<IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`
    );
  }

  /** ListMultipartUploads (436/7736): the bucket's unfinished uploads under `prefix`, in key order, on one page. */
  listUploadsXml(bucket: string, prefix: string): string {
    const uploads = [...this.uploads]
      .filter(([, upload]) => upload.bucket === bucket && upload.key.startsWith(prefix))
      .sort(([, a], [, b]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(
        ([uploadId, upload]) =>
          `<Upload><Key>${escapeXml(upload.key)}</Key><UploadId>${uploadId}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${upload.initiated}</Initiated></Upload>`,
      )
      .join("");
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><Encoding-Type/><KeyMarker/><UploadIdMarker/>` +
      `<NextKeyMarker/><NextUploadIdMarker/><Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`
    );
  }

  /** The object's bytes from the parts a Complete body names, checked as COS checks them. */
  assemble(upload: Upload, body: string): Buffer {
    const named = [...body.matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>\s*<\/Part>/g)].map((match) => ({
      number: Number(match[1]),
      etag: match[2]!.replace(/&quot;/g, '"'),
    }));
    if (named.length === 0) throw new CosError(400, "MalformedXML", "The XML you provided was not well-formed.");
    const chunks: Buffer[] = [];
    named.forEach(({ number, etag }, index) => {
      if (index > 0 && number <= named[index - 1]!.number) throw new CosError(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
      if (number !== index + 1) throw new CosError(400, "InvalidPart", `Part ${index + 1} is missing: parts must be consecutive from 1.`);
      const part = upload.parts.get(number);
      if (!part || part.etag !== etag) throw new CosError(400, "InvalidPart", `Part ${number} was not found or its ETag does not match.`);
      if (index < named.length - 1 && part.data.length < MIN_PART_BYTES) throw new CosError(400, "EntityTooSmall", `Part ${number} is smaller than 1 MB.`);
      chunks.push(part.data);
    });
    return Buffer.concat(chunks);
  }

  delete(uploadId: string): void {
    this.uploads.delete(uploadId);
  }
}

/**
 * Complete's answer: 200 and the XML declaration at once, a space every `mergeDelayMs / 5` while "merging", then the
 * result — or an error document inside the 200, which is why a client must read the body, not the status.
 */
export async function streamCompletion(
  res: ServerResponse,
  mergeDelayMs: number,
  outcome: { readonly xml: string; readonly crc64: string } | CosError,
  resource: string,
  requestId: string,
): Promise<void> {
  res.writeHead(200, { "Content-Type": "application/xml", ...(outcome instanceof CosError ? {} : { "x-cos-hash-crc64ecma": outcome.crc64 }) });
  res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
  for (let waited = 0; waited < mergeDelayMs; waited += mergeDelayMs / 5) {
    await new Promise((done) => setTimeout(done, mergeDelayMs / 5));
    res.write(" ");
  }
  res.end(outcome instanceof CosError ? errorXml(outcome, resource, requestId).replace(/^<\?xml[^>]*>\n?/, "") : outcome.xml);
}
