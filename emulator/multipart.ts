/**
 * Multipart uploads in the emulator, as COS documents them: Initiate (436/7746), UploadPart (7750), ListParts (7747,
 * paged), Complete (7742: consecutive parts in ascending order, every part but the last at least 1 MB, 200 at once and
 * whitespace while merging, the result or an error in the body), Abort (7740). Parts are kept in memory.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { crc64, crc64Combine } from "./crc64.js";
import { CosError, errorXml, escapeXml } from "./errors.js";

export const MIN_PART_BYTES = 1024 * 1024;

interface Part {
  readonly data: Buffer;
  readonly etag: string;
  /** Its CRC-64, decimal: computed once here, combined at Complete. */
  readonly crc64: string;
  readonly lastModified: string;
}

/** A Complete's object: its bytes, and its ETag and CRC-64 from its parts', as COS has them without reading it again. */
export interface Assembled {
  readonly data: Buffer;
  readonly etag: string;
  readonly crc64: string;
}

export interface Upload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly forbidOverwrite: boolean;
  readonly parts: Map<number, Part>;
  readonly initiated: string;
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
    const part = { data, etag: `"${createHash("md5").update(data).digest("hex")}"`, crc64: crc64(data), lastModified: new Date().toISOString() };
    upload.parts.set(number, part);
    return part;
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

  /**
   * The object from the parts a Complete body names, checked as COS checks them. Its ETag is S3's and COS's multipart
   * form, `"<MD5 of the parts' binary MD5s>-<part count>"`, not the MD5 of its bytes; its CRC-64 is the parts' combined.
   */
  assemble(upload: Upload, body: string): Assembled {
    const named = [...body.matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>\s*<\/Part>/g)].map((match) => ({
      number: Number(match[1]),
      etag: match[2]!.replace(/&quot;/g, '"'),
    }));
    if (named.length === 0) throw new CosError(400, "MalformedXML", "The XML you provided was not well-formed.");
    const parts: Part[] = [];
    named.forEach(({ number, etag }, index) => {
      if (index > 0 && number <= named[index - 1]!.number) throw new CosError(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
      if (number !== index + 1) throw new CosError(400, "InvalidPart", `Part ${index + 1} is missing: parts must be consecutive from 1.`);
      const part = upload.parts.get(number);
      if (!part || part.etag !== etag) throw new CosError(400, "InvalidPart", `Part ${number} was not found or its ETag does not match.`);
      if (index < named.length - 1 && part.data.length < MIN_PART_BYTES) throw new CosError(400, "EntityTooSmall", `Part ${number} is smaller than 1 MB.`);
      parts.push(part);
    });
    const md5s = createHash("md5");
    for (const part of parts) md5s.update(Buffer.from(part.etag.slice(1, -1), "hex"));
    return {
      data: Buffer.concat(parts.map((part) => part.data)),
      etag: `"${md5s.digest("hex")}-${parts.length}"`,
      crc64: parts.slice(1).reduce((crc, part) => crc64Combine(crc, part.crc64, part.data.length), parts[0]!.crc64),
    };
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
