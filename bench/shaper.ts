/**
 * A phone's link, made in user space (the kernel here has no netem): TCP proxies on 127.0.0.1 that share one uplink
 * token bucket (every connection of the phone queues behind the others), add half the round trip each way, reset a
 * connection after a random number of uplink bytes, stall a connection now and then, and can drop the whole network
 * for a while (an outage: open connections cut, new ones closed at once).
 *
 * Resets and stalls fall at points of the phone's uplink bytes drawn from a seed: the connection carrying that byte is
 * cut (or held). With every byte equally likely to be the next cut this is the same process as a count drawn per
 * connection, but two clients given one seed meet the faults at the same bytes, so a comparison of clients within a
 * run measures the clients, not the faults each drew (common random numbers). Which part a fault meets still depends
 * on how the client's connections interleave.
 */
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface LinkProfile {
  readonly name: string;
  readonly uplinkBitsPerSecond: number;
  readonly rttMs: number;
  /** Mean uplink bytes between connection resets (exponentially distributed); none when absent. */
  readonly resetEveryBytes?: number;
  /** Mean uplink bytes between stalls (a connection's bytes held), and how long each lasts. */
  readonly stallEveryBytes?: number;
  readonly stallMs?: number;
  /** No network from `atMs` after the link starts, for `forMs`. */
  readonly outage?: { readonly atMs: number; readonly forMs: number };
}

export interface LinkStats {
  /** Uplink bytes that reached the server (request heads and bodies, resent ones included). */
  bytesUp: number;
  /** HTTP requests started (request lines seen at the start of a chunk). */
  requests: number;
  resets: number;
}

const REQUEST_LINE = /^(GET|PUT|POST|DELETE|HEAD) /;
// Per connection at most this much queued in the proxy before the client is paused (a phone's socket buffer).
const QUEUE_LIMIT = 256 * 1024;
const SLICE = 16 * 1024;

/** Uniform draws in [0, 1) from a 32-bit seed (mulberry32): the same seed, faults at the same bytes. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Gaps of a Poisson process over bytes: exponentially distributed with this mean. */
const gaps = (mean: number | undefined, seed: number) => {
  const draw = uniform(seed);
  return () => (mean ? -Math.log(1 - draw()) * mean : Infinity);
};

export class Link {
  readonly stats: LinkStats = { bytesUp: 0, requests: 0, resets: 0 };
  private linkFreeAt = 0;
  private readonly started = Date.now();
  private readonly sockets = new Set<Socket>();
  private readonly servers: ReturnType<typeof createServer>[] = [];
  private outageTimer: ReturnType<typeof setTimeout> | undefined;
  // The phone's uplink bytes so far (every connection), and where the next reset and stall fall.
  private sentUp = 0;
  private readonly resetGap: () => number;
  private readonly stallGap: () => number;
  private nextReset: number;
  private nextStall: number;

  /** `seed`: the faults' draw; one seed gives the same resets and stalls at the same bytes. */
  constructor(
    readonly profile: LinkProfile,
    seed = Math.floor(Math.random() * 2 ** 32),
  ) {
    if (profile.outage) this.outageTimer = setTimeout(() => this.cutAll(), profile.outage.atMs);
    this.resetGap = gaps(profile.resetEveryBytes, seed);
    this.stallGap = gaps(profile.stallEveryBytes, seed ^ 0x9e3779b9);
    this.nextReset = this.resetGap();
    this.nextStall = this.stallGap();
  }

  private down(): boolean {
    const outage = this.profile.outage;
    const elapsed = Date.now() - this.started;
    return !!outage && elapsed >= outage.atMs && elapsed < outage.atMs + outage.forMs;
  }

  private cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** A proxy to 127.0.0.1:targetPort over this link; resolves to its origin. */
  async proxy(targetPort: number): Promise<string> {
    const { profile, stats } = this;
    const half = profile.rttMs / 2;
    const server = createServer((client) => {
      if (this.down()) return void client.destroy();
      const upstream = connect(targetPort, "127.0.0.1");
      this.sockets.add(client).add(upstream);
      let queued = 0;
      let cut = false;
      let heldUntil = 0;
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("close", () => (this.sockets.delete(client), upstream.destroy()));
      // What the server sent last is still on its way for half a round trip.
      upstream.on("close", () => (this.sockets.delete(upstream), setTimeout(() => client.destroy(), half + 5)));
      client.on("error", close);
      upstream.on("error", close);
      // Slices in order, each written when due (timers alone could reorder two slices due within the same ms).
      const outbox: { slice: Buffer; due: number; reset: boolean }[] = [];
      const pump = (): void => {
        const next = outbox[0];
        if (!next) return;
        if (Date.now() < next.due) return void setTimeout(pump, next.due - Date.now());
        outbox.shift();
        queued -= next.slice.length;
        if (upstream.destroyed) return;
        stats.bytesUp += next.slice.length;
        upstream.write(next.slice);
        if (next.reset) {
          stats.resets++;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (queued < QUEUE_LIMIT) client.resume();
        pump();
      };
      client.on("data", (chunk: Buffer) => {
        // Cut: what the phone sends until the reset reaches it goes nowhere and takes no turn on the uplink (holding it
        // for the rest of this connection's queue would charge every reset up to QUEUE_LIMIT of link time).
        if (cut) return;
        if (REQUEST_LINE.test(chunk.toString("latin1", 0, 8))) stats.requests++;
        for (let offset = 0; offset < chunk.length; offset += SLICE) {
          const slice = chunk.subarray(offset, offset + SLICE);
          this.sentUp += slice.length;
          if (this.sentUp >= this.nextStall) {
            heldUntil = Date.now() + (profile.stallMs ?? 0);
            this.nextStall = this.sentUp + this.stallGap();
          }
          // The shared uplink: this slice takes its turn on the link; a stalled connection's slices arrive when the stall ends.
          const leaves = Math.max(Date.now(), this.linkFreeAt) + (slice.length * 8 * 1000) / profile.uplinkBitsPerSecond;
          this.linkFreeAt = leaves;
          const reset = this.sentUp >= this.nextReset;
          queued += slice.length;
          outbox.push({ slice, due: Math.max(leaves, heldUntil) + half, reset });
          if (outbox.length === 1) pump();
          if (reset) {
            cut = true;
            this.nextReset = this.sentUp + this.resetGap();
            break;
          }
        }
        if (queued >= QUEUE_LIMIT) client.pause();
      });
      upstream.on("data", (chunk: Buffer) => setTimeout(() => client.destroyed || client.write(chunk), half));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    clearTimeout(this.outageTimer);
    this.cutAll();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
