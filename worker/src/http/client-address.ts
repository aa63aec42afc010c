/** The caller's address, for the per-address limits: where each host reads it, and its limit key. */

/**
 * Where the caller's address comes from. Only the host knows which source cannot be forged by the client, so each
 * host's entry chooses one (a request header set by its own front end, or the socket's peer address).
 */
export type ClientAddressSource = (request: Request) => string | undefined;

/**
 * On Cloudflare Workers: `CF-Connecting-IP`, which Cloudflare's edge sets on every request, replacing any value a
 * client sent. Off the edge (`wrangler dev`) a client can set it: fine for local development only.
 */
export const cloudflareClientAddress: ClientAddressSource = (request) => request.headers.get("CF-Connecting-IP") ?? undefined;

/**
 * The rate-limit key of an address: an IPv4 address whole, an IPv6 address by its /64 — one subscriber usually holds
 * a whole /64, and counting each of its 2^64 addresses apart would be no limit at all.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return "ip:unknown";
  const trimmed = address.trim().toLowerCase();
  if (!trimmed.includes(":")) return `ip:${trimmed}`;
  const groups = ipv6Groups(trimmed.split("%")[0]!);
  if (groups === undefined) return `ip:${trimmed.slice(0, 64)}`;
  // An IPv4-mapped address (::ffff:a.b.c.d, as dual-stack sockets report IPv4 peers) is that IPv4 address.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `ip:${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `ip:${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 part allowed), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const piece of part.split(":")) {
      const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(piece);
      if (v4) {
        const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
        if ([a, b, c, d].some((octet) => octet > 255)) return undefined;
        groups.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}
