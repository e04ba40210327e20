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

/** Smallest buffer handed out (and size class step): 64 KiB. */
const MIN_BYTES = 64 * 1024;

export class ReadBufferPool {
  /** Free buffers per size class (log2 of their byteLength). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** ArrayBuffers handed out and not yet released. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /** @param maxFreeBytes most bytes kept for reuse; buffers released beyond it are left to the garbage collector. Default 64 MiB. */
  constructor(readonly maxFreeBytes = 64 * 1024 * 1024) {}

  /** A buffer of exactly `size` bytes (uninitialised), from a released one when there is one of its size class. */
  take(size: number): Buffer {
    const capacity = Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    const shelf = this.free.get(capacity);
    let arrayBuffer = shelf?.pop();
    if (arrayBuffer === undefined) arrayBuffer = new ArrayBuffer(capacity);
    else this.freeBytes -= capacity;
    this.lent.add(arrayBuffer);
    return Buffer.from(arrayBuffer, 0, size);
  }

  /** Hands back the buffer behind `bytes` (any view of a buffer `take` returned) once nothing uses it. */
  release(bytes: Uint8Array): void {
    const arrayBuffer = bytes.buffer;
    if (!(arrayBuffer instanceof ArrayBuffer) || !this.lent.has(arrayBuffer)) return;
    this.lent.delete(arrayBuffer);
    const capacity = arrayBuffer.byteLength;
    if (this.freeBytes + capacity > this.maxFreeBytes) return;
    let shelf = this.free.get(capacity);
    if (shelf === undefined) this.free.set(capacity, (shelf = []));
    shelf.push(arrayBuffer);
    this.freeBytes += capacity;
  }

  /** Bytes held for reuse now. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}
