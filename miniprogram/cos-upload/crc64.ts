/**
 * CRC-64/ECMA-182 as COS reports it in `x-cos-hash-crc64ecma` (reflected, all-ones start and final XOR; the
 * CRC-64/XZ parameters), in two 32-bit halves — no BigInt, which WeChat's ES5 build step cannot carry. A value is
 * 16 hex digits; COS sends decimal, so `fromDecimal` turns its header into the same form.
 */
type Halves = [hi: number, lo: number];

const POLY: Halves = [0xc96c5795, 0xd7870f42];
// 256 entries of (hi, lo).
const table = new Uint32Array(512);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi >>>= 1;
    if (carry) {
      hi ^= POLY[0];
      lo ^= POLY[1];
    }
  }
  table[2 * n] = hi;
  table[2 * n + 1] = lo;
}

const text = ([hi, lo]: Halves) => `${hi >>> 0}.${lo >>> 0}`;
const halves = (value: string) => value.split(".").map(Number) as Halves;

export function crc64(data: ArrayBuffer): string {
  const bytes = new Uint8Array(data);
  let hi = ~0;
  let lo = ~0;
  for (let i = 0; i < bytes.length; i++) {
    const index = 2 * ((lo ^ bytes[i]!) & 0xff);
    lo = ((lo >>> 8) | (hi << 24)) ^ table[index + 1]!;
    hi = (hi >>> 8) ^ table[index]!;
  }
  return text([~hi, ~lo]);
}

/** COS's decimal header value → "hi.lo" (arithmetic modulo 2^64 in halves). */
export function fromDecimal(decimal: string): string {
  let hi = 0;
  let lo = 0;
  for (const digit of decimal) {
    const low = lo * 10 + Number(digit);
    lo = low >>> 0;
    hi = (hi * 10 + Math.floor(low / 2 ** 32)) >>> 0;
  }
  return text([hi, lo]);
}

/**
 * a·b modulo the polynomial, both reflected (x^0 is the top bit): zlib's multmodp, in two 32-bit halves. `b` is
 * multiplied by x once per bit of `a`, from x^0 up.
 */
function multiply([aHi, aLo]: Halves, [bHi, bLo]: Halves): Halves {
  let hi = 0;
  let lo = 0;
  for (let bit = 63; bit >= 0; bit--) {
    if ((bit > 31 ? aHi >>> (bit - 32) : aLo >>> bit) & 1) {
      hi ^= bHi;
      lo ^= bLo;
    }
    const carry = bLo & 1;
    bLo = ((bLo >>> 1) | (bHi << 31)) ^ (carry ? POLY[1] : 0);
    bHi = (bHi >>> 1) ^ (carry ? POLY[0] : 0);
  }
  return [hi, lo];
}

/** x^(8·length) modulo the polynomial (zlib's x2nmodp): what appending `length` zero bytes multiplies a CRC by. */
function appendZeros(length: number): Halves {
  let result: Halves = [0x80000000, 0];
  // x^8, one zero byte.
  let power: Halves = [0x00800000, 0];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 2)) {
    if (rest % 2) result = multiply(result, power);
    power = multiply(power, power);
  }
  return result;
}

/** The CRC of A followed by B, from CRC(A), CRC(B) and B's length. */
export function crc64Combine(first: string, second: string, secondLength: number): string {
  if (secondLength === 0) return first;
  const [hi, lo] = multiply(appendZeros(secondLength), halves(first));
  const [hi2, lo2] = halves(second);
  return text([hi ^ hi2, lo ^ lo2]);
}
