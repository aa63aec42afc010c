/**
 * The library's CRC-64 (what checks every part and the finished object against COS's x-cos-hash-crc64ecma): the
 * CRC-64/XZ check value, the COS emulator's independent BigInt-free implementation on random bytes, and combining two
 * CRCs into the CRC of the bytes joined (how the object's CRC is made from its parts'). The emulator's CRC-64 and its
 * combine (a multipart object's CRC at Complete), against crc64-ecma182.js, the CRC-64 cos-nodejs-sdk-v5's tests use.
 */
import { randomBytes } from "node:crypto";
import { crc64 as referenceCrc64 } from "crc64-ecma182.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc64, crc64Combine, fromDecimal } from "../../miniprogram/cos-upload/crc64";
import { crc64 as emulatorCrc64, crc64Combine as emulatorCombine } from "../../emulator/crc64";

const buffer = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

describe("crc64", () => {
  it("gives CRC-64/XZ's check value for 123456789 (0x995DC9BBDF1939FA, the catalogue of parametrised CRCs)", () => {
    expect(crc64(buffer(new TextEncoder().encode("123456789")))).toBe(fromDecimal(BigInt("0x995DC9BBDF1939FA").toString()));
    expect(fromDecimal(BigInt("0x995DC9BBDF1939FA").toString())).toBe(`${0x995dc9bb}.${0xdf1939fa}`);
  });

  it("agrees with the COS emulator's CRC-64 on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => crc64(buffer(bytes)) === fromDecimal(emulatorCrc64(bytes))));
  });

  it("combines the CRCs of two pieces into the CRC of both", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (a, b) => {
        const joined = new Uint8Array([...a, ...b]);
        return crc64Combine(crc64(buffer(a)), crc64(buffer(b)), b.length) === crc64(buffer(joined));
      }),
    );
  });
});

describe("the COS emulator's crc64 and crc64Combine", () => {
  it("agree with crc64-ecma182.js on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => emulatorCrc64(bytes) === referenceCrc64(Buffer.from(bytes))));
  });

  it("combine(crc(a), crc(b), len(b)) = crc(a‖b), every CRC by crc64-ecma182.js", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.uint8Array({ maxLength: 5000 }), (a, b) => {
        const crc = (bytes: Uint8Array) => referenceCrc64(Buffer.from(bytes));
        return emulatorCombine(crc(a), crc(b), b.length) === crc(Buffer.concat([a, b]));
      }),
    );
  });

  it("folds MiB-sized parts, cut anywhere, into the whole's CRC (as at Complete)", () => {
    const whole = randomBytes(5 * 1024 * 1024 + 321);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 6 }), (cuts) => {
        const bounds = [0, ...cuts.sort((x, y) => x - y), whole.length];
        const parts = bounds.slice(1).map((end, index) => whole.subarray(bounds[index], end));
        const folded = parts.slice(1).reduce((crc, part) => emulatorCombine(crc, referenceCrc64(part), part.length), referenceCrc64(parts[0]!));
        return folded === referenceCrc64(whole);
      }),
      { numRuns: 20 },
    );
  });
});
