/**
 * Reads stored batches for Fetch: finds the segments covering an offset in the
 * registry, then the batches inside them through the segment index, and
 * returns the bytes exactly as stored.
 */
import type { MetadataStore } from '../../metadata/metadataStore.js';
import type { SegmentReader } from '../../storage/segmentReader.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { ObjectNotFoundError, OffsetOutOfRangeError } from '../../protocol/errors.js';

/** Where a partition's log stands now. */
export type LogBounds = { highWatermark: number; logStartOffset: number };

export type ReadResult = LogBounds & {
  /** Whole batches, concatenated; the first may start before the requested offset. */
  records: Buffer;
};

const SEGMENTS_PER_LOOKUP = 16;

export class PartitionReader {
  constructor(
    private readonly metadataStore: MetadataStore,
    private readonly objectStore: ObjectStore,
    private readonly segments: SegmentReader,
    /** Bounds this agent knows first-hand (it leads the partition), else undefined. */
    private readonly localBounds: (topic: string, partition: number) => LogBounds | undefined,
  ) {}

  async bounds(topic: string, partition: number): Promise<LogBounds> {
    const local = this.localBounds(topic, partition);
    if (local !== undefined) return local;
    const state = await this.metadataStore.getPartition(topic, partition);
    return { highWatermark: state.highWatermark, logStartOffset: state.logStartOffset };
  }

  /**
   * Batches from `offset` up to about `maxBytes` (at least one whole batch
   * when any data is there). Throws OffsetOutOfRangeError outside
   * [logStartOffset, highWatermark].
   */
  async read(topic: string, partition: number, offset: number, maxBytes: number): Promise<ReadResult> {
    for (let attempt = 0; ; attempt++) {
      const bounds = await this.bounds(topic, partition);
      if (offset < bounds.logStartOffset || offset > bounds.highWatermark) {
        throw new OffsetOutOfRangeError(
          `offset ${offset} is outside the log of ${topic}/${partition} [${bounds.logStartOffset}, ` +
            `${bounds.highWatermark}]`,
          { context: { topic, partition, offset } },
        );
      }
      if (offset === bounds.highWatermark) return { ...bounds, records: Buffer.alloc(0) };
      try {
        return { ...bounds, records: await this.readRange(topic, partition, offset, bounds.highWatermark, maxBytes) };
      } catch (error) {
        // Compaction or retention may have swapped the objects between the registry lookup and the read.
        if (error instanceof ObjectNotFoundError && attempt < 2) continue;
        throw error;
      }
    }
  }

  private async readRange(
    topic: string,
    partition: number,
    offset: number,
    highWatermark: number,
    maxBytes: number,
  ): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let cursor = offset;
    let remaining = maxBytes;
    scan: while (cursor < highWatermark && remaining > 0) {
      const segments = await this.metadataStore.listSegments(topic, partition, cursor, SEGMENTS_PER_LOOKUP);
      for (const segment of segments) {
        if (segment.baseOffset > cursor || cursor >= highWatermark) break scan;
        const read = await this.segments.readBatches(this.objectStore, segment.key, cursor, remaining, {
          sizeBytes: segment.sizeBytes,
          maxTimestamp: segment.maxTimestamp,
        });
        // Past the first batch, stop before one that would overshoot maxBytes.
        if (read.bytes.length === 0 || (chunks.length > 0 && read.bytes.length > remaining)) break scan;
        chunks.push(read.bytes);
        remaining -= read.bytes.length;
        cursor = read.nextOffset;
        if (remaining <= 0 || cursor < segment.endOffset) break scan;
      }
      if (segments.length < SEGMENTS_PER_LOOKUP) break;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
