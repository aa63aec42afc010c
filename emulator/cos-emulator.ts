/**
 * A local COS EMULATOR for development and tests — not Tencent's service. It implements what cos-edge-signer's
 * clients and Tencent's SDKs use (PUT/POST/GET/HEAD Object, multipart uploads, GET/PUT Bucket lifecycle and cors
 * (what `npm run setup:bucket` applies), bucket-domain and regional-domain
 * addressing, and STS GetFederationToken with the issued policy enforced on its temporary keys) and refuses
 * requests the way COS does, with COS-style XML errors, so that uploads can be proved end to end without an account.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { CosError, errorXml, escapeXml } from "./errors.js";
import { MultipartUploads, streamCompletion } from "./multipart.js";
import { DiskStore } from "./storage.js";
import { AUDIT_PATH, AuditJobs } from "./moderation.js";
import { type Policy, type PolicyContext, policyAllows, StsEmulator } from "./sts.js";
import { authorizationOf, verifyPostPolicy, verifyRequestSignature } from "./verify.js";

export interface EmulatedBucket {
  /** BucketName-APPID. */
  readonly name: string;
  readonly region: string;
  /** Buckets created after 2024-01-01 refuse regional-domain (path-style) requests (436/57456). */
  readonly pathStyleForbidden?: boolean;
}

export interface EmulatorOptions {
  readonly buckets: readonly EmulatedBucket[];
  /** SecretId → SecretKey, for every account whose keys may write. */
  readonly credentials: Readonly<Record<string, string>>;
  /**
   * CAM policies of permanent keys, by SecretId: what each key pair may do, checked on every request it signs (and
   * on the temporary keys it asks STS for). A key without one is an account's root key and may do everything.
   */
  readonly permissions?: Readonly<Record<string, Policy>>;
  /** Where objects are written. */
  readonly dataDir: string;
  /** The emulator's clock (tests move it to expire signatures). */
  readonly now?: () => Date;
  /** Largest PUT body accepted, bytes. */
  readonly maxObjectBytes?: number;
  /** How long CompleteMultipartUpload "merges", streaming whitespace meanwhile. Default 0. */
  readonly mergeDelayMs?: number;
  /**
   * The bucket that answers a request on the emulator's own address whose path names no bucket (`/<key>`), as a
   * custom domain bound to one bucket does on COS: local mode's `COS_ENDPOINT` with `COS_PATH_STYLE=false`, which an
   * SDK's `Domain` and the Worker's own requests both reach (a `<bucket>.cos.<region>.localhost` name would need DNS).
   */
  readonly customDomainBucket?: string;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly code?: string;
}

export interface CosEmulator {
  readonly server: Server;
  /** e.g. http://127.0.0.1:9000 */
  readonly url: string;
  readonly port: number;
  readonly store: DiskStore;
  /** The STS stand-in on the same origin (requests carrying X-TC-Action): point STS_ENDPOINT at `url`. */
  readonly sts: StsEmulator;
  /** Every request answered, newest last. */
  readonly log: RequestLogEntry[];
  /** COS moderation jobs (POST /<kind>/auditing), their verdicts from markers in the objects' bytes. */
  readonly auditJobs: AuditJobs;
  /** Answer the next `count` object requests with `status` (e.g. 503) before looking at them. */
  failNext(status: number, count?: number): void;
  setClock(now: () => Date): void;
  /** Make CompleteMultipartUpload take this long (whitespace streamed meanwhile). */
  setMergeDelay(ms: number): void;
  /** Answer each UploadPart this much later: a slow network, so that an upload can be interrupted half way. */
  setPartDelay(ms: number): void;
  /** List at most this many parts per ListParts page (COS: 1000), so that a client's paging shows. */
  setListPageSize(parts: number): void;
  close(): Promise<void>;
}

const FAULT_CODES: Record<number, string> = { 403: "AccessDenied", 500: "InternalError", 503: "ServiceUnavailable" };

// `<bucket>.cos.<region>.<domain>` — the bucket's own domain (myqcloud.com, or any domain pointed at the emulator).
const BUCKET_HOST = /^([a-z0-9][a-z0-9-]*-\d+)\.cos\.([a-z0-9-]+)\./;

interface Target {
  readonly bucket: EmulatedBucket;
  readonly key: string;
  /** The decoded path as the signer had to sign it (bucket first for path-style). */
  readonly signedPath: string;
}

export async function startCosEmulator(options: EmulatorOptions, port = 0, host = "127.0.0.1"): Promise<CosEmulator> {
  const store = new DiskStore(options.dataDir);
  const log: RequestLogEntry[] = [];
  let now = options.now ?? (() => new Date());
  let faults: { status: number; count: number } | undefined;
  let mergeDelayMs = options.mergeDelayMs ?? 0;
  let partDelayMs = 0;
  const multipart = new MultipartUploads();
  const auditJobs = new AuditJobs();
  /** Objects whose ACL was made private (PUT ?acl x-cos-acl: private): unsigned reads are refused. */
  const privateObjects = new Set<string>();
  /** Bucket → sub-resource (`lifecycle`, `cors`) → its XML document as last PUT. */
  const bucketConfigs = new Map<string, Map<string, string>>();
  const maxObjectBytes = options.maxObjectBytes ?? 5 * 1024 ** 3;
  const permanent = (id: string) => (Object.hasOwn(options.credentials, id) ? options.credentials[id] : undefined);
  const permits = (secretId: string, action: string, resource: string, context: PolicyContext) => {
    const policy = options.permissions && Object.hasOwn(options.permissions, secretId) ? options.permissions[secretId]! : undefined;
    return policy === undefined || policyAllows(policy, action, resource, context);
  };
  const sts = new StsEmulator(permanent, () => now(), permits);
  const secrets = (id: string) => permanent(id) ?? sts.secretOf(id);

  function resolve(req: IncomingMessage, url: URL): Target {
    const hostname = (req.headers.host ?? "").replace(/:\d+$/, "");
    const decoded = decodeURIComponent(url.pathname);
    const virtual = BUCKET_HOST.exec(hostname);
    if (virtual) {
      // A bucket answers only on its own region's domain.
      const bucket = options.buckets.find((b) => b.name === virtual[1] && b.region === virtual[2]);
      if (!bucket) throw new CosError(404, "NoSuchBucket", "The specified bucket does not exist.");
      return { bucket, key: decoded.slice(1), signedPath: decoded };
    }
    const [, name = "", ...rest] = decoded.split("/");
    const bucket = options.buckets.find((b) => b.name === name);
    const custom = bucket ? undefined : options.buckets.find((b) => b.name === options.customDomainBucket);
    if (custom) return { bucket: custom, key: decoded.slice(1), signedPath: decoded };
    if (!bucket) throw new CosError(404, "NoSuchBucket", "The specified bucket does not exist.");
    if (bucket.pathStyleForbidden) {
      throw new CosError(403, "PathStyleDomainForbidden", "Path-style requests are forbidden for this bucket; use the virtual-hosted-style domain.");
    }
    return { bucket, key: rest.join("/"), signedPath: decoded };
  }

  async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new CosError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** `qcs::cos:<region>:uid/<appid>:<bucket>/<key>`: what a policy's resource patterns are matched against. */
  const resourceOf = (bucket: EmulatedBucket, key: string) => `qcs::cos:${bucket.region}:uid/${bucket.name.slice(bucket.name.lastIndexOf("-") + 1)}:${bucket.name}/${key}`;

  /**
   * The signing key's permission for `action` on `bucket`/`key`: a temporary key's policy and its issuer's, or a
   * permanent key's own CAM policy. Refused with AccessDenied, as COS does.
   */
  function authorize(auth: Map<string, string>, token: string | undefined, action: string, bucket: EmulatedBucket, key: string, context: PolicyContext): void {
    const secretId = auth.get("q-ak")!;
    const resource = resourceOf(bucket, key);
    if (sts.isTemporary(secretId)) sts.authorize(secretId, token, action, resource, context);
    else if (!permits(secretId, `name/cos:${action}`, resource, context)) {
      throw new CosError(403, "AccessDenied", `Access Denied: the key's CAM policy does not allow ${action} on ${key === "" ? "the bucket" : key}.`);
    }
  }

  /** A temporary key's token: the header, or the query parameter of a presigned URL. */
  const securityTokenOf = (req: IncomingMessage, url: URL) => {
    const header = req.headers["x-cos-security-token"];
    return (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get("x-cos-security-token") ?? undefined;
  };

  const header = (req: IncomingMessage, name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
  };

  /** What the request carries for policy conditions (436/46205): its size, type, ACL and storage class headers. */
  const contextOf = (req: IncomingMessage): PolicyContext => ({
    "cos:content-length": req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]),
    "cos:content-type": header(req, "content-type"),
    "cos:x-cos-acl": header(req, "x-cos-acl"),
    "cos:x-cos-storage-class": header(req, "x-cos-storage-class"),
  });

  /**
   * A write must carry a valid signature over its method, path, query parameters and signed headers, by a key allowed
   * to do `action` here; the verified fields, for the further permissions the request needs.
   */
  function requireSignature(req: IncomingMessage, url: URL, target: Target, action: string, context: PolicyContext = contextOf(req)): Map<string, string> {
    const request = { method: req.method!, pathname: target.signedPath, query: url.searchParams, headers: req.headers };
    const auth = authorizationOf(request);
    if (!auth) throw new CosError(403, "AccessDenied", "Access Denied. Anonymous writes are not allowed.");
    verifyRequestSignature(request, auth, secrets, now());
    authorize(auth, securityTokenOf(req, url), action, target.bucket, target.key, context);
    return auth;
  }

  /**
   * What else a PUT asks for, each checked against the key's permissions: grants (PutObjectACL), tags
   * (PutObjectTagging), PUT Object - Copy (GetObject on the source, 436/10881) and persistent processing
   * (pic-operations, 436/40592: PutObject on every `fileid` it writes). Returns the copy's source and the extra keys.
   */
  function checkPutExtras(req: IncomingMessage, url: URL, target: Target, auth: Map<string, string>): { source?: { bucket: EmulatedBucket; key: string }; processed: string[] } {
    const token = securityTokenOf(req, url);
    if (Object.keys(req.headers).some((name) => name.startsWith("x-cos-grant-"))) authorize(auth, token, "PutObjectACL", target.bucket, target.key, {});
    if (req.headers["x-cos-tagging"] !== undefined) authorize(auth, token, "PutObjectTagging", target.bucket, target.key, {});
    let source: { bucket: EmulatedBucket; key: string } | undefined;
    const copySource = header(req, "x-cos-copy-source");
    if (copySource !== undefined) {
      const match = /^(?:https?:\/\/)?([a-z0-9][a-z0-9-]*-\d+)\.cos\.([a-z0-9-]+)\.[^/]+\/(.+)$/.exec(copySource);
      const bucket = match ? options.buckets.find((b) => b.name === match[1] && b.region === match[2]) : undefined;
      if (!match || !bucket) throw new CosError(400, "InvalidArgument", "x-cos-copy-source must be <bucket>.cos.<region>.myqcloud.com/<key> of an existing bucket");
      if (Number(req.headers["content-length"] ?? 0) !== 0) throw new CosError(400, "InvalidRequest", "PUT Object - Copy takes no body");
      source = { bucket, key: decodeURIComponent(match[3]!) };
      authorize(auth, token, "GetObject", bucket, source.key, {});
    }
    const processed: string[] = [];
    const operations = header(req, "pic-operations");
    if (operations !== undefined) {
      let rules: { fileid?: unknown }[];
      try {
        rules = (JSON.parse(operations) as { rules?: { fileid?: unknown }[] }).rules ?? [];
      } catch {
        throw new CosError(400, "InvalidArgument", "Pic-Operations must be JSON");
      }
      const folder = target.key.slice(0, target.key.lastIndexOf("/") + 1);
      for (const { fileid } of rules) {
        const key = String(fileid ?? "").startsWith("/") ? String(fileid).slice(1) : `${folder}${String(fileid ?? "")}`;
        authorize(auth, token, "PutObject", target.bucket, key, {});
        processed.push(key);
      }
    }
    return { ...(source ? { source } : {}), processed };
  }

  async function putObject(req: IncomingMessage, url: URL, target: Target, res: ServerResponse): Promise<void> {
    if (target.key === "") throw new CosError(400, "InvalidArgument", "PUT needs an object key");
    const auth = requireSignature(req, url, target, "PutObject");
    const { source, processed } = checkPutExtras(req, url, target, auth);
    const body = await readBody(req, maxObjectBytes);
    if (req.headers["x-cos-forbid-overwrite"] === "true" && (await store.exists(target.bucket.name, target.key))) {
      throw new CosError(409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true.");
    }
    if (source) {
      const found = await store.get(source.bucket.name, source.key);
      if (!found) throw new CosError(404, "NoSuchKey", "The specified copy source does not exist.");
      const object = await store.put(target.bucket.name, target.key, found.body, found.object.contentType);
      res.writeHead(200, { "Content-Type": "application/xml" }).end(`<CopyObjectResult><ETag>${object.etag}</ETag><LastModified>${object.lastModified}</LastModified></CopyObjectResult>`);
      return;
    }
    const object = await store.put(target.bucket.name, target.key, body, req.headers["content-type"] ?? "application/octet-stream");
    // Persistent processing writes its results beside the original (the emulator copies the bytes unprocessed).
    for (const key of processed) await store.put(target.bucket.name, key, body, object.contentType);
    res.writeHead(200, { ETag: object.etag, "x-cos-hash-crc64ecma": object.crc64, "Content-Length": "0" }).end();
  }

  async function postObject(req: IncomingMessage, url: URL, target: Target, res: ServerResponse): Promise<void> {
    if (target.key !== "") throw new CosError(405, "MethodNotAllowed", "POST Object goes to the bucket, not to a key");
    if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) throw new CosError(400, "InvalidArgument", "POST Object needs multipart/form-data");
    const request = new Request(url, { method: "POST", headers: req.headers as Record<string, string>, body: Readable.toWeb(req) as ReadableStream, duplex: "half" } as RequestInit);
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw new CosError(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.");
    }
    const fields = new Map<string, string>();
    let file: File | undefined;
    for (const [name, value] of form) {
      if (typeof value === "string") {
        if (file) throw new CosError(400, "InvalidArgument", "The file field must be the last field of the form");
        fields.set(name, value);
      } else if (name === "file") {
        file = value;
      }
    }
    if (!file) throw new CosError(400, "InvalidArgument", "The form has no file field");
    const rawKey = fields.get("key");
    if (!rawKey) throw new CosError(400, "InvalidArgument", "The form has no key field");
    const key = rawKey.replaceAll("${filename}", file.name);
    const signature = fields.get("Signature");
    if (signature !== undefined && !fields.has("policy")) {
      // The SDKs' form: an Authorization string over `POST <bucket path>` in a Signature field, no policy. It binds
      // no key or size, so with temporary keys the policy they were issued with decides.
      const request = { method: "POST", pathname: target.signedPath, query: url.searchParams, headers: req.headers };
      const auth = authorizationOf({ ...request, headers: { ...req.headers, authorization: signature } })!;
      verifyRequestSignature(request, auth, secrets, now());
      authorize(auth, fields.get("x-cos-security-token"), "PostObject", target.bucket, key, {
        "cos:content-length": file.size,
        "cos:content-type": fields.get("Content-Type"),
        "cos:x-cos-acl": fields.get("x-cos-acl"),
        "cos:x-cos-storage-class": fields.get("x-cos-storage-class"),
      });
    } else {
      verifyPostPolicy({ bucket: target.bucket.name, fields: new Map([...fields, ["key", key]]), fileSize: file.size }, secrets, now());
    }
    // POST Object takes the PUT headers as form fields (cos-wx-sdk-v5 postObject sends x-cos-forbid-overwrite so).
    if (fields.get("x-cos-forbid-overwrite") === "true" && (await store.exists(target.bucket.name, key))) {
      throw new CosError(409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true.");
    }
    const object = await store.put(target.bucket.name, key, new Uint8Array(await file.arrayBuffer()), fields.get("Content-Type") || "application/octet-stream");
    const location = `${url.origin}${target.signedPath.replace(/\/$/, "")}/${key.split("/").map(encodeURIComponent).join("/")}`;
    const status = fields.get("success_action_status") ?? "204";
    if (status === "201") {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXml(location)}</Location><Bucket>${target.bucket.name}</Bucket><Key>${escapeXml(key)}</Key><ETag>${object.etag}</ETag></PostResponse>`;
      res.writeHead(201, { ETag: object.etag, Location: location, "Content-Type": "application/xml" }).end(xml);
    } else {
      res.writeHead(status === "200" ? 200 : 204, { ETag: object.etag, Location: location, "Content-Length": "0" }).end();
    }
  }

  async function getObject(req: IncomingMessage, url: URL, target: Target, res: ServerResponse): Promise<void> {
    // Reads are public in the emulator unless signed; a signature that is present must be valid.
    const request = { method: req.method!, pathname: target.signedPath, query: url.searchParams, headers: req.headers };
    const auth = authorizationOf(request);
    // GET Object's response-* parameters set the answer's headers (436/7753): a condition key reads the type one.
    const responseType = url.searchParams.get("response-content-type") ?? undefined;
    if (auth) {
      verifyRequestSignature(request, auth, secrets, now());
      authorize(auth, securityTokenOf(req, url), req.method === "HEAD" ? "HeadObject" : "GetObject", target.bucket, target.key, { "cos:response-content-type": responseType });
    } else if (privateObjects.has(`${target.bucket.name}/${target.key}`)) {
      throw new CosError(403, "AccessDenied", "Access Denied: the object is private.");
    }
    const found = await store.get(target.bucket.name, target.key);
    if (!found) throw new CosError(404, "NoSuchKey", "The specified key does not exist.");
    res.writeHead(200, {
      "Content-Type": responseType ?? found.object.contentType,
      "Content-Length": String(found.object.size),
      ETag: found.object.etag,
      "x-cos-hash-crc64ecma": found.object.crc64,
      "Last-Modified": found.object.lastModified,
    });
    res.end(req.method === "HEAD" ? undefined : found.body);
  }

  /** Sub-resources an extended signature could reach (436/7748 ACL, 436/42998 tagging, 436/7741 append), by method. */
  const OBJECT_SUB_RESOURCES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    acl: { PUT: "PutObjectACL", GET: "GetObjectACL" },
    tagging: { PUT: "PutObjectTagging", GET: "GetObjectTagging", DELETE: "DeleteObjectTagging" },
    append: { POST: "AppendObject" },
  };
  const BUCKET_SUB_RESOURCES = ["acl", "policy", "tagging", "cors", "lifecycle"];

  /**
   * An object's ACL, tags or append, and a bucket's configuration: each authorized against the signing key's
   * permissions, then done (object) or refused as not emulated (bucket; GET/PUT of lifecycle and cors are emulated
   * by bucketConfigRequest, which runs first). False for any other request.
   */
  async function subResource(req: IncomingMessage, url: URL, target: Target, res: ServerResponse): Promise<boolean> {
    const method = req.method ?? "";
    if (target.key === "") {
      const name = BUCKET_SUB_RESOURCES.find((candidate) => url.searchParams.has(candidate));
      if (!name) return false;
      const verb = method === "GET" ? "Get" : method === "PUT" ? "Put" : method === "DELETE" ? "Delete" : "";
      requireSignature(req, url, target, `${verb}Bucket${name === "acl" ? "ACL" : name[0]!.toUpperCase() + name.slice(1)}`);
      throw new CosError(501, "NotImplemented", `the bucket's ${name} is not emulated`);
    }
    const name = Object.keys(OBJECT_SUB_RESOURCES).find((candidate) => url.searchParams.has(candidate));
    if (!name) return false;
    const action = OBJECT_SUB_RESOURCES[name]![method];
    if (!action) throw new CosError(405, "MethodNotAllowed", `${method} is not supported on ?${name}`);
    requireSignature(req, url, target, action);
    const bucket = target.bucket.name;
    if (name === "append") {
      const position = Number(url.searchParams.get("position"));
      const body = await readBody(req, maxObjectBytes);
      const current = await store.get(bucket, target.key);
      if (!Number.isSafeInteger(position) || position !== (current?.object.size ?? 0)) {
        throw new CosError(409, "PositionNotEqualToLength", "position must be the object's current length");
      }
      const object = await store.put(bucket, target.key, Buffer.concat([current?.body ?? Buffer.alloc(0), body]), current?.object.contentType ?? header(req, "content-type") ?? "application/octet-stream");
      res.writeHead(200, { ETag: object.etag, "x-cos-next-append-position": String(object.size), "Content-Length": "0" }).end();
      return true;
    }
    if (!(await store.exists(bucket, target.key))) throw new CosError(404, "NoSuchKey", "The specified key does not exist.");
    await readBody(req, 64 * 1024);
    if (name === "acl" && method === "PUT") {
      if (req.headers["x-cos-acl"] === "private") privateObjects.add(`${bucket}/${target.key}`);
      else privateObjects.delete(`${bucket}/${target.key}`);
    }
    if (method === "GET") res.writeHead(200, { "Content-Type": "application/xml" }).end(name === "acl" ? "<AccessControlPolicy/>" : "<Tagging><TagSet/></Tagging>");
    else res.writeHead(method === "DELETE" ? 204 : 200, { "Content-Length": "0" }).end();
    return true;
  }

  /**
   * GET/PUT Bucket lifecycle (436/8278, 8280) and cors (436/8274, 8279): signed like any request; a PUT needs the body's
   * Content-MD5, as COS does, and replaces the whole document; a GET of none is 404 NoSuchLifecycleConfiguration /
   * NoSuchCORSConfiguration.
   */
  async function bucketConfigRequest(req: IncomingMessage, url: URL, target: Target, res: ServerResponse): Promise<boolean> {
    const name = ["lifecycle", "cors"].find((candidate) => url.searchParams.has(candidate));
    if (target.key !== "" || name === undefined || (req.method !== "GET" && req.method !== "PUT")) return false;
    const action = `${req.method === "GET" ? "Get" : "Put"}Bucket${name === "cors" ? "CORS" : "Lifecycle"}`;
    requireSignature(req, url, target, action);
    const configs = bucketConfigs.get(target.bucket.name) ?? new Map<string, string>();
    bucketConfigs.set(target.bucket.name, configs);
    if (req.method === "GET") {
      const xml = configs.get(name);
      if (xml === undefined) throw new CosError(404, name === "cors" ? "NoSuchCORSConfiguration" : "NoSuchLifecycleConfiguration", `The ${name} configuration does not exist.`);
      res.writeHead(200, { "Content-Type": "application/xml" }).end(xml);
      return true;
    }
    const body = await readBody(req, 64 * 1024);
    const md5 = req.headers["content-md5"];
    if (md5 === undefined) throw new CosError(400, "MissingContentMD5", "Missing required header for this request: Content-MD5.");
    if (md5 !== createHash("md5").update(body).digest("base64")) throw new CosError(400, "InvalidDigest", "The Content-MD5 you specified did not match what we received.");
    const xml = body.toString("utf8");
    const root = name === "cors" ? "CORSConfiguration" : "LifecycleConfiguration";
    if (!xml.trimStart().replace(/^<\?xml[^>]*\?>\s*/, "").startsWith(`<${root}>`)) throw new CosError(400, "MalformedXML", `The XML you provided was not a ${root}.`);
    configs.set(name, xml);
    res.writeHead(200, { "Content-Length": "0" }).end();
    return true;
  }

  async function multipartRequest(req: IncomingMessage, url: URL, target: Target, res: ServerResponse, requestId: string): Promise<boolean> {
    const query = url.searchParams;
    const bucket = target.bucket.name;
    if (req.method === "GET" && target.key === "" && query.has("uploads")) {
      const prefix = query.get("prefix") ?? "";
      requireSignature(req, url, target, "ListMultipartUploads", { "cos:prefix": prefix });
      res.writeHead(200, { "Content-Type": "application/xml" }).end(multipart.listUploadsXml(bucket, prefix));
      return true;
    }
    if (req.method === "POST" && query.has("uploads")) {
      requireSignature(req, url, target, "InitiateMultipartUpload");
      const forbid = req.headers["x-cos-forbid-overwrite"] === "true";
      if (forbid && (await store.exists(bucket, target.key))) throw new CosError(409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true.");
      const uploadId = multipart.initiate(bucket, target.key, req.headers["content-type"] ?? "application/octet-stream", forbid);
      res.writeHead(200, { "Content-Type": "application/xml" }).end(multipart.initiateXml(bucket, target.key, uploadId));
      return true;
    }
    if (!query.has("uploadId")) return false;
    const action = { PUT: "UploadPart", GET: "ListParts", DELETE: "AbortMultipartUpload", POST: "CompleteMultipartUpload" }[req.method ?? ""] ?? "";
    requireSignature(req, url, target, action);
    const uploadId = query.get("uploadId");
    const upload = multipart.get(bucket, target.key, uploadId);
    switch (req.method) {
      case "PUT": {
        if (req.headers["content-length"] === undefined) throw new CosError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
        const part = multipart.putPart(upload, query.get("partNumber"), await readBody(req, 5 * 1024 ** 3));
        if (partDelayMs > 0) await new Promise((done) => setTimeout(done, partDelayMs));
        res.writeHead(200, { ETag: part.etag, "x-cos-hash-crc64ecma": part.crc64, "Content-Length": "0" }).end();
        return true;
      }
      case "GET":
        res.writeHead(200, { "Content-Type": "application/xml" }).end(multipart.listXml(upload, uploadId!, query));
        return true;
      case "DELETE":
        multipart.delete(uploadId!);
        res.writeHead(204).end();
        return true;
      case "POST": {
        const body = (await readBody(req, 1024 * 1024)).toString("utf8");
        let outcome: { xml: string; crc64: string } | CosError;
        try {
          const assembled = multipart.assemble(upload, body);
          if (upload.forbidOverwrite && (await store.exists(bucket, target.key))) {
            throw new CosError(409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true.");
          }
          const object = await store.put(bucket, target.key, assembled.data, upload.contentType, assembled);
          multipart.delete(uploadId!);
          const location = `${url.origin}${target.signedPath.split("/").map(encodeURIComponent).join("/")}`;
          outcome = {
            xml: `<CompleteMultipartUploadResult><Location>${escapeXml(location)}</Location><Bucket>${bucket}</Bucket><Key>${escapeXml(target.key)}</Key><ETag>${object.etag}</ETag></CompleteMultipartUploadResult>`,
            crc64: object.crc64,
          };
        } catch (error) {
          if (!(error instanceof CosError)) throw error;
          outcome = error;
        }
        await streamCompletion(res, mergeDelayMs, outcome, req.url ?? "/", requestId);
        return true;
      }
      default:
        throw new CosError(405, "MethodNotAllowed", `${req.method} is not supported with uploadId`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    if (req.method === "POST" && req.headers["x-tc-action"] !== undefined) {
      const answer = sts.answer(req.headers, await readBody(req, 64 * 1024));
      res.writeHead(200, { "Content-Type": "application/json" }).end(answer);
      return;
    }
    if (faults && faults.count > 0) {
      faults.count--;
      throw new CosError(faults.status, FAULT_CODES[faults.status] ?? "InjectedFault", "Injected fault (emulator failNext)");
    }
    const audit = AUDIT_PATH.exec(url.pathname);
    if (audit) {
      // The bucket: its CI domain (<bucket>.ci.<region>.…), else the bucket this address is bound to.
      const hostBucket = /^([a-z0-9][a-z0-9-]*-\d+)\.ci\./.exec(req.headers.host ?? "")?.[1] ?? options.customDomainBucket ?? options.buckets[0]!.name;
      const bucket = options.buckets.find((candidate) => candidate.name === hostBucket);
      if (!bucket) throw new CosError(404, "NoSuchBucket", "The specified bucket does not exist.");
      const request = { method: req.method!, pathname: url.pathname, query: url.searchParams, headers: req.headers };
      const auth = authorizationOf(request);
      if (!auth) throw new CosError(403, "AccessDenied", "Access Denied. Moderation jobs must be signed.");
      verifyRequestSignature(request, auth, secrets, now());
      if (req.method === "POST" && !audit[2]) {
        const job = await auditJobs.submit(audit[1]!, bucket.name, (await readBody(req, 64 * 1024)).toString("utf8"), async (key) => (await store.get(bucket.name, key))?.body);
        res.writeHead(200, { "Content-Type": "application/xml" }).end(auditJobs.answerXml(job));
        return;
      }
      const job = audit[2] ? auditJobs.jobs.get(audit[2]) : undefined;
      if (req.method !== "GET" || !job || job.bucket !== bucket.name) throw new CosError(404, "NoSuchJob", "The specified job does not exist.");
      res.writeHead(200, { "Content-Type": "application/xml" }).end(auditJobs.answerXml(job));
      return;
    }
    const target = resolve(req, url);
    if (await bucketConfigRequest(req, url, target, res)) return;
    if (await subResource(req, url, target, res)) return;
    if (await multipartRequest(req, url, target, res, requestId)) return;
    switch (req.method) {
      case "PUT":
        return putObject(req, url, target, res);
      case "POST":
        return postObject(req, url, target, res);
      case "GET":
      case "HEAD":
        if (target.key === "") {
          // GET Bucket (listing objects): checked like any signed request, then not emulated.
          requireSignature(req, url, target, "GetBucket");
          throw new CosError(501, "NotImplemented", "GET Bucket is not emulated");
        }
        return getObject(req, url, target, res);
      case "DELETE":
        requireSignature(req, url, target, "DeleteObject");
        await store.delete(target.bucket.name, target.key);
        res.writeHead(204).end();
        return;
      case "OPTIONS":
        res.writeHead(200, { "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST", "Access-Control-Allow-Headers": "*" }).end();
        return;
      default:
        throw new CosError(405, "MethodNotAllowed", `${req.method} is not supported by the emulator`);
    }
  }

  const server = createServer((req, res) => {
    const requestId = randomBytes(12).toString("base64url");
    res.setHeader("x-cos-request-id", requestId);
    res.setHeader("Server", "cos-emulator");
    handle(req, res, requestId).then(
      () => log.push({ method: req.method ?? "", url: req.url ?? "", status: res.statusCode }),
      (error: unknown) => {
        const cosError = error instanceof CosError ? error : new CosError(500, "InternalError", "We encountered an internal error. Please try again.");
        if (!(error instanceof CosError)) console.error("cos-emulator:", error);
        log.push({ method: req.method ?? "", url: req.url ?? "", status: cosError.status, code: cosError.code });
        req.resume();
        if (res.headersSent) return void res.destroy();
        const xml = errorXml(cosError, req.url ?? "/", requestId);
        res.writeHead(cosError.status, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(xml), Connection: "close" }).end(req.method === "HEAD" ? undefined : xml);
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}`,
    port: address.port,
    store,
    sts,
    log,
    auditJobs,
    failNext(status, count = 1) {
      faults = { status, count };
    },
    setClock(clock) {
      now = clock;
    },
    setMergeDelay(ms) {
      mergeDelayMs = ms;
    },
    setPartDelay(ms) {
      partDelayMs = ms;
    },
    setListPageSize(parts) {
      multipart.pageSize = parts;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
