/**
 * The agent's encoder of FetchResponse: the same bytes as the generated
 * `FetchResponse.encode`, written with one copy of each partition's records
 * into memory that is reused from one answer to the next.
 *
 * Why: a Fetch answer is several MiB of stored batches. The generated encoder
 * copies them into a fresh buffer of that size, grpc-js copies that into its
 * frame, and the segment reads were fresh buffers too: three large
 * allocations per answer, and in the agent's profile about half of its time
 * serving Fetch went to the garbage collections that this much external
 * memory set off. grpc-js copies the serialized message into its own frame
 * before `serialize` returns (server-interceptors' serializeMessage), so the
 * encoded bytes are dead at once and one buffer can take every answer.
 *
 * How the bytes are made identical: everything of a partition result but its
 * records (topic, partition, error, watermarks) is encoded by the generated
 * encoder; `records` is field 6, the last one the generated encoder writes,
 * so its tag, length and bytes appended after that are exactly what it would
 * have written (nothing when the records are empty, as proto3 omits them).
 */
import { FetchPartitionResult, type FetchResponse } from '../generated/streamhouse.js';
import { varintSize, writeVarint } from './protobufVarint.js';

/** Tag of FetchResponse.results (field 1, length-delimited). */
const RESULTS_TAG = (1 << 3) | 2;
/** Tag of FetchPartitionResult.records (field 6, length-delimited). */
const RECORDS_TAG = (6 << 3) | 2;
const NO_RECORDS = new Uint8Array(0);

/**
 * `message` encoded as `FetchResponse.encode(message).finish()` encodes it,
 * into the bytes `allocate(size)` returns (exactly `size` of them).
 */
export function encodeFetchResponse(message: FetchResponse, allocate: (size: number) => Uint8Array): Uint8Array {
  const heads: Uint8Array[] = [];
  const innerSizes: number[] = [];
  let total = 0;
  for (const result of message.results) {
    const head = FetchPartitionResult.encode({ ...result, records: NO_RECORDS as Buffer }).finish();
    const records = result.records.length;
    const inner = head.length + (records === 0 ? 0 : 1 + varintSize(records) + records);
    heads.push(head);
    innerSizes.push(inner);
    total += 1 + varintSize(inner) + inner;
  }
  const target = allocate(total);
  let position = 0;
  message.results.forEach((result, i) => {
    target[position++] = RESULTS_TAG;
    position = writeVarint(target, position, innerSizes[i]!);
    target.set(heads[i]!, position);
    position += heads[i]!.length;
    const records = result.records;
    if (records.length === 0) return;
    target[position++] = RECORDS_TAG;
    position = writeVarint(target, position, records.length);
    target.set(records, position);
    position += records.length;
  });
  return target;
}

/**
 * One buffer for messages that are copied away before the next is encoded:
 * `take(size)` hands out its first `size` bytes, as a Uint8Array that fills
 * its ArrayBuffer (so `Buffer.from` of that ArrayBuffer is a view, not a
 * copy). The bytes of one `take` are only valid until the next.
 *
 * The ArrayBuffer is resizable: V8 reserves `maxBytes` of address space once
 * and commits what is used, so the buffer follows the size of the current
 * message. Sizes above `maxBytes`, or a runtime without resizable
 * ArrayBuffers, get a fresh buffer each time.
 */
export class ReusedBuffer {
  private buffer: ArrayBuffer | undefined;
  private failed = false;

  constructor(readonly maxBytes: number) {}

  take(size: number): Uint8Array {
    if (size > this.maxBytes) return new Uint8Array(size);
    const buffer = this.buffer ?? this.create();
    if (buffer === undefined) return new Uint8Array(size);
    (buffer as ResizableArrayBuffer).resize(size);
    return new Uint8Array(buffer, 0, size);
  }

  private create(): ArrayBuffer | undefined {
    if (this.failed) return undefined;
    try {
      const buffer = new (ArrayBuffer as ResizableArrayBufferConstructor)(0, { maxByteLength: this.maxBytes });
      if (typeof (buffer as Partial<ResizableArrayBuffer>).resize !== 'function')
        throw new TypeError('no resizable ArrayBuffer');
      this.buffer = buffer;
      return buffer;
    } catch {
      // Address space refused (ulimit -v) or an older runtime: fresh buffers, as the generated encoder would use.
      this.failed = true;
      return undefined;
    }
  }
}

// Resizable ArrayBuffers (ES2024) are in Node 20 but not in this project's TypeScript lib.
type ResizableArrayBuffer = ArrayBuffer & { resize(size: number): void };
type ResizableArrayBufferConstructor = new (size: number, options: { maxByteLength: number }) => ArrayBuffer;
