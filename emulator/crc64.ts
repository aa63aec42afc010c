/**
 * CRC-64/ECMA-182 as COS reports it in x-cos-hash-crc64ecma (reflected, all-ones init and final XOR), as decimal;
 * and the CRC of two pieces joined from theirs, which is how COS has a multipart object's CRC without reading it.
 * Written apart from the library's miniprogram/cos-upload/crc64.ts on purpose: the emulator is what checks the
 * library's CRCs end to end, so a bug shared by both would pass unseen (both are tested against crc64-ecma182.js).
 */
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

/** Byte by byte in two 32-bit halves: fast enough for a part, and for the single uploads of the tests. */
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

// zlib's crc32_combine method (GF(2) polynomials modulo the CRC's, reflected: bit 63 is x^0), in 64-bit BigInts.
const POLY = (BigInt(POLY_HI) << 32n) | BigInt(POLY_LO);
const X0 = 1n << 63n;

/** a·b modulo the polynomial (zlib's multmodp): b times x once per bit of a, from x^0 up. */
function multiply(a: bigint, b: bigint): bigint {
  let product = 0n;
  for (let bit = X0; bit !== 0n; bit >>= 1n) {
    if (a & bit) product ^= b;
    b = b & 1n ? (b >> 1n) ^ POLY : b >> 1n;
  }
  return product;
}

/** x^(8·bytes) modulo the polynomial (zlib's x2nmodp), by squaring: what `bytes` zero bytes appended multiply a CRC by. */
function zeros(bytes: number): bigint {
  let result = X0;
  let power = X0 >> 8n; // x^8: one byte
  for (let rest = bytes; rest > 0; rest = Math.floor(rest / 2)) {
    if (rest % 2) result = multiply(result, power);
    power = multiply(power, power);
  }
  return result;
}

/**
 * CRC(A‖B) from CRC(A), CRC(B) and B's length, decimal in and out. The all-ones init and final XOR cancel out: with
 * them, CRC(A‖B) = CRC(A)·x^(8·|B|) ⊕ CRC(B), as for zlib's CRC-32.
 */
export function crc64Combine(first: string, second: string, secondLength: number): string {
  return (multiply(zeros(secondLength), BigInt(first)) ^ BigInt(second)).toString();
}
