/**
 * A TCP proxy on 127.0.0.1 that breaks the network the way phones see it broken: a connection reset part way through
 * each part's upload, a byte changed on the way, an outage (every connection cut, new ones refused). It forwards
 * bytes untouched otherwise, so the client, the signer and the COS emulator behind it speak real HTTP.
 */
import { createServer, type Server, type Socket, connect } from "node:net";
import type { AddressInfo } from "node:net";

export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /**
   * Each part (`PUT …?partNumber=N`) seen for the first time since this was set has its connection reset after a
   * random 64–900 KiB of it.
   */
  resetEachPartOnce: boolean;
  /** Every answer's bytes held this long (a link whose last bytes and answer take a while). Default 0. */
  answerDelayMs: number;
  /** The next PUT or POST that carries more than 64 KiB has its connection reset there (then this turns false). */
  resetNextUpload: boolean;
  /** Flip one byte 50 KiB into the body of the first PUT of this part number (once). */
  corruptPart?: number;
  /** Each part PUT's start as the proxy saw it: part number and time (ms). */
  readonly partRequests: { partNumber: number; at: number }[];
  /** Parts whose connection was reset, and the parts corrupted. */
  readonly resets: number[];
  readonly corrupted: number[];
  /** No network for `ms`: open connections are cut, new ones closed at once. */
  outage(ms: number): void;
  close(): Promise<void>;
}

const PART = /PUT [^ ]*[?&]partNumber=(\d+)/;
const UPLOAD = /^(PUT|POST) /;

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let downUntil = 0;
  const seen = new Set<number>();
  let resetEachPartOnce = false;
  const server: Server = createServer((client) => {
    if (Date.now() < downUntil) return void client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    const cut = () => {
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on("close", () => (sockets.delete(client), upstream.destroy()));
    // Answers (and the end of the connection) pass after answerDelayMs.
    const later = (action: () => void) => (proxy.answerDelayMs ? void setTimeout(action, proxy.answerDelayMs) : action());
    upstream.on("close", () => (sockets.delete(upstream), later(() => client.destroy())));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    // Bytes of this connection's client stream, and where a fault is due (Infinity: none).
    let offset = 0;
    let resetAt = Infinity;
    let corruptAt = Infinity;
    let nextUploadArmed = false;
    client.on("data", (chunk: Buffer) => {
      const head = chunk.toString("latin1", 0, Math.min(chunk.length, 4096));
      if (proxy.resetNextUpload && UPLOAD.test(head)) {
        resetAt = offset + 64 * 1024;
        nextUploadArmed = true;
      }
      const part = PART.exec(head);
      if (part) {
        const n = Number(part[1]);
        proxy.partRequests.push({ partNumber: n, at: Date.now() });
        if (proxy.resetEachPartOnce && !seen.has(n)) {
          seen.add(n);
          proxy.resets.push(n);
          resetAt = offset + 64 * 1024 + Math.floor(Math.random() * 836 * 1024);
        }
        if (proxy.corruptPart === n && !proxy.corrupted.includes(n)) {
          proxy.corrupted.push(n);
          corruptAt = offset + 50 * 1024;
        }
      }
      if (offset + chunk.length > corruptAt) {
        chunk = Buffer.from(chunk);
        chunk[corruptAt - offset]! ^= 0xff;
        corruptAt = Infinity;
      }
      if (offset + chunk.length > resetAt) {
        if (nextUploadArmed) proxy.resetNextUpload = false;
        upstream.write(chunk.subarray(0, resetAt - offset));
        return cut();
      }
      offset += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk: Buffer) => later(() => client.destroyed || client.write(chunk)));
    upstream.on("end", () => later(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    get resetEachPartOnce() {
      return resetEachPartOnce;
    },
    set resetEachPartOnce(on) {
      resetEachPartOnce = on;
      seen.clear();
    },
    partRequests: [],
    resets: [],
    corrupted: [],
    resetNextUpload: false,
    answerDelayMs: 0,
    outage(ms) {
      downUntil = Date.now() + ms;
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
