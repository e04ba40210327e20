/**
 * RecordBatchBuilders handed back once their batch has been encoded into its
 * Produce request, to be filled again by a later batch.
 *
 * Why: a builder grows its buffer by doubling up to the batch's size, and
 * each new buffer is memory V8 counts as external to its heap. A producer
 * writing a few hundred MB/s allocated that much again in builder buffers,
 * and V8 runs a full garbage collection each time external memory has grown
 * by 64 MB, however small the heap. Reused builders keep their grown buffers,
 * so after the first batches a batch allocates nothing for its records.
 */
import { RecordBatchBuilder } from '../../protocol/codec/recordBatchBuilder.js';

export class BuilderPool {
  private readonly free: RecordBatchBuilder[] = [];
  private freeBytes = 0;

  constructor(
    /** Capacity of a new builder, bytes. */
    private readonly initialCapacity: number,
    /** Most buffer bytes kept in free builders; builders beyond it are left to the garbage collector. */
    private readonly maxFreeBytes: number,
  ) {}

  /** An empty builder: the last one handed back (its buffer the largest and warmest), or a new one. */
  take(): RecordBatchBuilder {
    const builder = this.free.pop();
    if (builder === undefined) return new RecordBatchBuilder(this.initialCapacity);
    this.freeBytes -= builder.capacity;
    return builder;
  }

  /** Takes a builder back once nothing will read it again; it is emptied. */
  give(builder: RecordBatchBuilder): void {
    builder.reset();
    if (this.freeBytes + builder.capacity > this.maxFreeBytes) return;
    this.free.push(builder);
    this.freeBytes += builder.capacity;
  }

  /** Bytes held in free builders. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}
