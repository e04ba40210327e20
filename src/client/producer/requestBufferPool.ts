/**
 * Buffers for the producer's encoded Produce requests, in size classes, taken
 * back once a request has been answered and reused for later ones.
 *
 * Why: grpc-js keeps a reference to the request message it was given until
 * the call ends (ResolvingCall.pendingMessage; it copies the message into its
 * own frame before a byte goes out and never reads it again), so a fresh
 * buffer per request lived for the whole round trip, was promoted to V8's old
 * generation with its backing store, and V8 counts such external memory
 * against its heap limit: with a small heap and a few hundred MB/s of
 * requests, a full garbage collection started every 30-50 ms and took a third
 * of the producer's CPU. Reused buffers are not new external memory.
 *
 * The message must fill its buffer (nice-grpc hands the whole ArrayBuffer to
 * grpc-js, which frames it without a copy of ours), so a request smaller than
 * its class ends with ProduceRequest.padding (protocol/messagePadding.ts),
 * zeroed: at most an eighth of the request plus 2 bytes, 1/16 on average,
 * which the wire carries too. A request is never padded past the producer's
 * `batchBytes` (nor past 18 MiB), so an agent that accepts the producer's
 * full batches accepts its padded ones. (An agent keeps a request's memory,
 * padding included, until it has flushed the batch: up to an eighth more
 * than its pending-bytes limit counts.)
 */
import { ArrayBufferShelves } from '../../protocol/buffers/arrayBufferShelves.js';
import { MIN_PADDING_BYTES } from '../../protocol/grpc/messagePadding.js';

/** Requests below this many bytes get a buffer of their own size: they are too small to matter. */
export const MIN_POOLED_BYTES = 64 * 1024;
/**
 * Requests above this many bytes get a buffer of their own size: they are rare, and their padding would be megabytes.
 */
export const MAX_POOLED_BYTES = 16 * 1024 * 1024;
/** Size classes per doubling: padding is at most 1/8 of a request (plus 2 bytes). */
const CLASSES_PER_DOUBLING = 8;

/**
 * The buffer size for a message of `minimum` bytes: the smallest class (a
 * multiple of 1/8 of a power of two) with room for the message and a
 * padding; `minimum` itself outside the pooled range or when that class is
 * larger than `largest`.
 */
export function bufferSizeFor(minimum: number, largest = Number.POSITIVE_INFINITY): number {
  if (minimum < MIN_POOLED_BYTES || minimum > MAX_POOLED_BYTES) return minimum;
  const needed = minimum + MIN_PADDING_BYTES;
  const step = 2 ** Math.floor(Math.log2(needed)) / CLASSES_PER_DOUBLING;
  const size = Math.ceil(needed / step) * step;
  return size > largest ? minimum : size;
}

export class RequestBufferPool {
  private readonly shelves: ArrayBufferShelves;

  /**
   * @param maxFreeBytes most bytes kept in free buffers (see ArrayBufferShelves).
   * @param largestBuffer no buffer larger than this is padded to: the producer's `batchBytes`.
   */
  constructor(
    maxFreeBytes: number,
    private readonly largestBuffer = Number.POSITIVE_INFINITY,
  ) {
    this.shelves = new ArrayBufferShelves(maxFreeBytes);
  }

  /**
   * A buffer for a message of `minimum` bytes that fills its own ArrayBuffer:
   * `minimum` long, or at least {@link MIN_PADDING_BYTES} longer (a size
   * class), reused when one of its class is free. Its content is arbitrary.
   */
  take(minimum: number): Buffer {
    const size = bufferSizeFor(minimum, this.largestBuffer);
    if (size === minimum) return Buffer.allocUnsafeSlow(size); // not pooled
    return Buffer.from(this.shelves.take(size));
  }

  /**
   * Takes a buffer back once nothing reads it any more (gRPC has its answer).
   * Buffers it did not hand out from a size class, and a second give, are
   * ignored; so are buffers beyond its bound.
   */
  give(buffer: Buffer): void {
    if (buffer.byteOffset === 0 && buffer.buffer instanceof ArrayBuffer && buffer.buffer.byteLength === buffer.length)
      this.shelves.give(buffer.buffer);
  }

  /** Bytes held in free buffers. */
  get heldBytes(): number {
    return this.shelves.heldBytes;
  }
}
