/**
 * Buffers for segment reads that are handed back once their bytes have been
 * copied away, to be read into again.
 *
 * Why: every Fetch read its segment ranges into fresh buffers (about a MiB
 * per partition). Node counts that memory as external to V8's heap, and V8
 * runs a full garbage collection each time enough of it has been allocated
 * since the last one: in bench/consumer that was a large share of the
 * agent's CPU. Reading into the same few buffers allocates nothing new.
 *
 * Safety rests on the caller: a buffer may be released only when nothing
 * refers to its bytes any more (the agent releases the ranges behind a Fetch
 * answer right after the answer was encoded into its own buffer, and uses
 * this pool only without a block cache, which would keep slices of them).
 * Releasing bytes the pool did not hand out, or the same buffer twice, is
 * ignored.
 */

import { ArrayBufferShelves } from '../protocol/buffers/arrayBufferShelves.js';

/** Smallest buffer handed out (and size class step): 64 KiB. */
const MIN_BYTES = 64 * 1024;

export class ReadBufferPool {
  private readonly shelves: ArrayBufferShelves;

  /**
   * @param maxFreeBytes most bytes kept for reuse; buffers released beyond it are left to the garbage collector.
   * Default 64 MiB.
   */
  constructor(readonly maxFreeBytes = 64 * 1024 * 1024) {
    this.shelves = new ArrayBufferShelves(maxFreeBytes);
  }

  /**
   * A buffer of exactly `size` bytes (uninitialised), from a released one when there is one of its size class (a power
   * of two).
   */
  take(size: number): Buffer {
    const capacity = Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    return Buffer.from(this.shelves.take(capacity), 0, size);
  }

  /** Hands back the buffer behind `bytes` (any view of a buffer `take` returned) once nothing uses it. */
  release(bytes: Uint8Array): void {
    if (bytes.buffer instanceof ArrayBuffer) this.shelves.give(bytes.buffer);
  }

  /** Bytes held for reuse now. */
  get heldBytes(): number {
    return this.shelves.heldBytes;
  }
}
