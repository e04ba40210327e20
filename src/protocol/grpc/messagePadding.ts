/**
 * Filler at the end of an encoded ProduceRequest: occurrences of its
 * `padding` field (15, bytes), which the agent never reads and every protobuf
 * decoder reads past. It lets a client encode requests into buffers of a few
 * fixed sizes and reuse them (client/producer/requestBufferPool.ts).
 */
import { varintSize, writeVarint } from './protobufVarint.js';

/** Tag of ProduceRequest.padding (field 15, length-delimited): one byte. */
const PADDING_TAG = (15 << 3) | 2;

/** The fewest bytes a padding can take (a tag and a zero length); one byte cannot be filled. */
export const MIN_PADDING_BYTES = 2;

/** Bytes one padding field with `length` bytes of content takes. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/**
 * The content length of one padding field taking exactly `bytes`, or -1 when
 * none does: the length's varint grows by a byte at 128, 16,384, …, so one
 * size just below each step (130, 16,387, …) has no single field.
 */
function contentLengthFor(bytes: number): number {
  let length = bytes - 2;
  while (length > 0 && fieldSize(length) > bytes) length--;
  return length >= 0 && fieldSize(length) === bytes ? length : -1;
}

/**
 * Fills `target[start, end)` with padding fields: one, or an empty one and
 * then one where a single field cannot take the size exactly. The content is
 * zeroed: it is never read, but a reused buffer holds earlier requests and a
 * fresh one whatever the process had there, neither of which should go out.
 * @throws RangeError when the range is 1 byte long or reversed.
 */
export function writePadding(target: Uint8Array, start: number, end: number): void {
  let position = start;
  let remaining = end - start;
  if (remaining === 0) return;
  if (remaining < MIN_PADDING_BYTES)
    throw new RangeError(`cannot pad ${remaining} byte(s): padding takes 0 or at least ${MIN_PADDING_BYTES}`);
  let length = contentLengthFor(remaining);
  if (length < 0) {
    target[position++] = PADDING_TAG;
    target[position++] = 0;
    remaining -= 2;
    length = contentLengthFor(remaining);
  }
  target[position] = PADDING_TAG;
  target.fill(0, writeVarint(target, position + 1, length), end);
}
