/**
 * Free ArrayBuffers by byte length, for pools that hand buffers out and take
 * them back once nothing reads them (storage/readBufferPool.ts,
 * client/producer/requestBufferPool.ts). Their sizes are the pools' own
 * business; this keeps the free ones, bounded in total, and makes sure a
 * buffer is only taken back once and only if it was handed out, so a stray or
 * repeated give can never put one buffer in two hands.
 *
 * Why pools at all: Node's Buffers live outside V8's heap, and V8 counts new
 * such memory against its heap limit; fresh buffers of hundreds of KB for
 * every request or read set off full garbage collections many times a second.
 */
export class ArrayBufferShelves {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Handed out and not given back yet. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /**
   * @param maxFreeBytes most bytes kept free. A buffer given back beyond it
   * makes room by dropping free ones of other lengths (those shelved longest
   * ago first), so a change of sizes does not leave the bound full of lengths
   * no one asks for; it is itself dropped only when that is not enough.
   */
  constructor(readonly maxFreeBytes: number) {}

  /** An ArrayBuffer of `byteLength` bytes, arbitrary content: the last one given back at that length, or a new one. */
  take(byteLength: number): ArrayBuffer {
    const shelf = this.free.get(byteLength);
    let arrayBuffer = shelf?.pop();
    if (arrayBuffer === undefined) arrayBuffer = Buffer.allocUnsafeSlow(byteLength).buffer as ArrayBuffer;
    else this.freeBytes -= byteLength;
    // An emptied shelf goes, so that the order of the map is the order in which lengths were last left unasked.
    if (shelf !== undefined && shelf.length === 0) this.free.delete(byteLength);
    this.lent.add(arrayBuffer);
    return arrayBuffer;
  }

  /**
   * Takes back an ArrayBuffer {@link take} handed out; others, and a second give, are ignored. Whether it is kept for
   * reuse.
   */
  give(arrayBuffer: ArrayBuffer): boolean {
    if (!this.lent.delete(arrayBuffer)) return false;
    const byteLength = arrayBuffer.byteLength;
    if (this.freeBytes + byteLength > this.maxFreeBytes)
      this.evictOtherThan(byteLength, this.freeBytes + byteLength - this.maxFreeBytes);
    if (this.freeBytes + byteLength > this.maxFreeBytes) return false;
    let shelf = this.free.get(byteLength);
    if (shelf === undefined) this.free.set(byteLength, (shelf = []));
    shelf.push(arrayBuffer);
    this.freeBytes += byteLength;
    return true;
  }

  /** Drops free buffers of lengths other than `kept` until `bytes` are freed or none are left. */
  private evictOtherThan(kept: number, bytes: number): void {
    let freed = 0;
    // A Map iterates in insertion order: the lengths first shelved, and not asked for since, come first.
    for (const [byteLength, shelf] of this.free) {
      if (byteLength === kept) continue;
      while (shelf.length > 0 && freed < bytes) {
        shelf.shift();
        freed += byteLength;
        this.freeBytes -= byteLength;
      }
      if (shelf.length === 0) this.free.delete(byteLength);
      if (freed >= bytes) return;
    }
  }

  /** Bytes kept free now. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}
