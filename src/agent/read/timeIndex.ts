/**
 * ListOffsets by timestamp: the first offset whose record timestamp is at
 * least the one asked for. The segment registry's max timestamps skip whole
 * objects, batch headers skip whole batches, and only one batch is decoded.
 */
import type { MetadataStore } from '../../metadata/metadataStore.js';
import type { SegmentReader } from '../../storage/segmentReader.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { readBatchFrames } from '../../protocol/codec/batchLayout.js';
import { decodeRecordBatch } from '../../protocol/index.js';
import type { LogBounds } from './partitionReader.js';

const SCAN_BYTES = 8 * 1024 * 1024;

export async function findOffsetForTimestamp(
  metadataStore: MetadataStore,
  objectStore: ObjectStore,
  segments: SegmentReader,
  topic: string,
  partition: number,
  timestamp: number,
  bounds: LogBounds,
): Promise<{ offset: number; timestamp: number } | undefined> {
  const registry = await metadataStore.listSegments(topic, partition, bounds.logStartOffset);
  for (const segment of registry) {
    if (segment.maxTimestamp < timestamp) continue;
    let cursor = Math.max(segment.baseOffset, bounds.logStartOffset);
    while (cursor < segment.endOffset) {
      const read = await segments.readBatches(objectStore, segment.key, cursor, SCAN_BYTES, {
        sizeBytes: segment.sizeBytes,
        maxTimestamp: segment.maxTimestamp,
      });
      if (read.bytes.length === 0) break;
      for (const frame of readBatchFrames(read.bytes)) {
        if (frame.maxTimestamp < timestamp) continue;
        const batch = decodeRecordBatch(read.bytes, frame.position);
        for (const record of batch.records) {
          if (record.offset >= bounds.logStartOffset && record.timestamp >= timestamp) {
            return { offset: record.offset, timestamp: record.timestamp };
          }
        }
      }
      cursor = read.nextOffset;
    }
  }
  return undefined;
}
