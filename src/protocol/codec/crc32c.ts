/**
 * CRC-32C (Castagnoli), the checksum of a RecordBatch.
 *
 * One place wraps the native implementation (`@node-rs/crc32`, SIMD, several
 * GB/s) so the codec does not depend on its API directly.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `bytes[start, end)` as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const region = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  // the native binding returns the unsigned value; >>> 0 keeps that guaranteed
  return nativeCrc32c(region) >>> 0;
}
