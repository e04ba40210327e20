/** Decoding of one LZ4 block (the sequence format inside an LZ4 frame). */
import { CorruptMessageError } from '../../errors.js';
import type { BoundedOutput } from './boundedOutput.js';

/** Smallest match of a sequence; its length nibble counts from here. */
const MIN_MATCH = 4;

/**
 * Decodes the LZ4 block `source[start, end)` onto `out`. Matches may reach
 * back to `floor` in `out` (the block's start for independent blocks).
 * @throws CorruptMessageError for a malformed block or output past out's limit.
 */
export function decodeLz4Block(
  source: Uint8Array,
  start: number,
  end: number,
  out: BoundedOutput,
  floor: number,
): void {
  let ip = start;
  for (;;) {
    if (ip >= end) throw new CorruptMessageError('lz4 block ends inside a sequence');
    const token = source[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new CorruptMessageError('lz4 block ends inside a literal length');
        byte = source[ip++]!;
        literals += byte;
      } while (byte === 255);
    }
    if (literals > end - ip) throw new CorruptMessageError('lz4 block literals run past its end');
    out.append(source, ip, ip + literals);
    ip += literals;
    if (ip === end) return; // the last sequence has literals only
    if (end - ip < 2) throw new CorruptMessageError('lz4 block ends inside a match offset');
    const distance = source[ip]! | (source[ip + 1]! << 8);
    ip += 2;
    let matchLength = token & 15;
    if (matchLength === 15) {
      let byte: number;
      do {
        if (ip >= end) throw new CorruptMessageError('lz4 block ends inside a match length');
        byte = source[ip++]!;
        matchLength += byte;
      } while (byte === 255);
    }
    out.copyBack(distance, matchLength + MIN_MATCH, floor);
  }
}
