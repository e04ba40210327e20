/** Gzip (Kafka codec 1) through node:zlib, with the output bounded. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CorruptMessageError } from '../../errors.js';

/** `bytes` gzip-compressed. */
export function gzipCompress(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes);
}

/** Gunzips `bytes`, stopping (CorruptMessageError) once the output would pass `maxSize`. */
export function gzipDecompress(bytes: Uint8Array, maxSize: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, maxSize) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const problem = code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses past ${maxSize} bytes` : 'does not decompress';
    throw new CorruptMessageError(`gzip payload ${problem}: ${(error as Error).message}`, { cause: error });
  }
}
