/**
 * The library's CRC-64 (what checks every part and the finished object against COS's x-cos-hash-crc64ecma): the
 * CRC-64/XZ check value, the COS emulator's independent BigInt-free implementation on random bytes, and combining two
 * CRCs into the CRC of the bytes joined (how the object's CRC is made from its parts').
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc64, crc64Combine, fromDecimal } from "../../miniprogram/cos-upload/crc64";
import { crc64 as emulatorCrc64 } from "../../emulator/multipart";

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
