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

// GF(2) 64×64 matrices as 128 numbers (row i: hi, lo), for combining CRCs (zlib's crc32_combine, in 64 bits).
function times(matrix: number[], [hi, lo]: Halves): Halves {
  let sumHi = 0;
  let sumLo = 0;
  for (let i = 0; i < 64; i++) {
    if ((i < 32 ? lo >>> i : hi >>> (i - 32)) & 1) {
      sumHi ^= matrix[2 * i]!;
      sumLo ^= matrix[2 * i + 1]!;
    }
  }
  return [sumHi, sumLo];
}

const product = (a: number[], b: number[]) => Array.from({ length: 64 }, (_, i) => times(a, [b[2 * i]!, b[2 * i + 1]!])).flat();

// The operator that appends `length` zero bytes to a CRC, per length (the parts of an upload share one length).
const zeros = new Map<number, number[]>();

function appendZeros(length: number): number[] {
  let operator = zeros.get(length);
  if (operator) return operator;
  // One zero bit: shift right, folding the polynomial in; then squared up to one byte and onwards by powers of two.
  let power: number[] = [...POLY];
  for (let i = 1; i < 64; i++) power.push(i < 33 ? 0 : 1 << (i - 33), i < 33 ? 1 << (i - 1) : 0);
  for (let i = 0; i < 3; i++) power = product(power, power);
  for (let rest = length; rest > 0; rest = Math.floor(rest / 2)) {
    if (rest % 2) operator = operator ? product(power, operator) : power;
    power = product(power, power);
  }
  zeros.set(length, operator!);
  return operator!;
}

/** The CRC of A followed by B, from CRC(A), CRC(B) and B's length. */
export function crc64Combine(first: string, second: string, secondLength: number): string {
  if (secondLength === 0) return first;
  const [hi, lo] = times(appendZeros(secondLength), halves(first));
  const [hi2, lo2] = halves(second);
  return text([hi ^ hi2, lo ^ lo2]);
}
