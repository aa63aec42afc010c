/**
 * How the upload library retries the signer's refusals, over real HTTP: a scripted server on 127.0.0.1 answers the
 * signer's routes as a busy or misconfigured signer would, and takes the PUT itself.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createUploader } from "../../miniprogram/cos-upload/index";
import { wxNode } from "../../wx-node/index";
import { fixtures } from "./harness";

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly at: number;
}

let server: Server;
let origin: string;
let files: Awaited<ReturnType<typeof fixtures>>;
let seen: Seen[] = [];
/** The signer's answers to POST /v1/uploads, in order; the last one repeats. */
let answers: { status: number; headers?: Record<string, string>; body: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, path: req.url!, at: performance.now() });
    req.resume();
    req.on("end", () => {
      if (req.method === "PUT") return void res.writeHead(200, { "Content-Length": "0" }).end();
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  files = await fixtures("upload-retry");
});

afterEach(() => {
  seen = [];
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await files.dispose();
});

const descriptor = () => ({ method: "PUT", key: "k.jpg", url: `${origin}/cos/k.jpg`, objectUrl: `${origin}/cos/k.jpg`, headers: { Authorization: "q" } });
const refusal = (code: string) => ({ error: { code, message: `the signer says ${code}` } });

describe("the upload library and the signer's refusals", () => {
  it("waits the Retry-After of a 429, not its own short backoff, then succeeds", async () => {
    answers = [{ status: 429, headers: { "Retry-After": "1" }, body: refusal("rate_limited") }, { status: 200, body: descriptor() }];
    const filePath = await files.write("a.jpg", "abc");
    const result = await createUploader({ signerUrl: origin, wx: wxNode, backoffMs: 1 }).upload({ filePath, method: "put" });
    expect(result.key).toBe("k.jpg");
    const asks = seen.filter((request) => request.path === "/v1/uploads");
    expect(asks).toHaveLength(2);
    expect(asks[1]!.at - asks[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it("gives up at once on a Retry-After longer than a minute", async () => {
    answers = [{ status: 429, headers: { "Retry-After": "3600" }, body: refusal("rate_limited") }];
    const filePath = await files.write("b.jpg", "abc");
    await expect(createUploader({ signerUrl: origin, wx: wxNode, backoffMs: 1 }).upload({ filePath, method: "put" })).rejects.toMatchObject({
      code: "rate_limited",
      status: 429,
      retryAfter: 3600,
    });
    expect(seen).toHaveLength(1);
  });

  it("does not retry config_invalid: a misconfigured signer stays misconfigured", async () => {
    answers = [{ status: 500, body: refusal("config_invalid") }];
    const filePath = await files.write("c.jpg", "abc");
    const upload = createUploader({ signerUrl: origin, wx: wxNode, backoffMs: 1 }).upload({ filePath, method: "put" });
    await expect(upload).rejects.toMatchObject({ code: "config_invalid", status: 500, source: "signer", retryable: false });
    expect(seen).toHaveLength(1);
  });

  it("still retries other 5xx answers of the signer", async () => {
    answers = [{ status: 503, body: refusal("internal_error") }, { status: 200, body: descriptor() }];
    const filePath = await files.write("d.jpg", "abc");
    expect((await createUploader({ signerUrl: origin, wx: wxNode, backoffMs: 1 }).upload({ filePath, method: "put" })).key).toBe("k.jpg");
    expect(seen.filter((request) => request.path === "/v1/uploads")).toHaveLength(2);
  });
});
