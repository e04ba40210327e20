/**
 * Consumer-group lag per partition, read from the metadata store when
 * /metrics is scraped: each group's committed offsets against the high
 * watermarks of their partitions. Bounded: at most `maxSeries` partitions are
 * reported, groups in id order; past that the reading stops and says so.
 */
import type { MetadataStore } from '../metadata/metadataStore.js';
import { UnknownTopicOrPartitionError } from '../protocol/errors.js';

/** Most (group, topic, partition) series /metrics reports per scrape. */
export const MAX_LAG_SERIES = 2000;

export type PartitionLag = {
  group: string;
  topic: string;
  partition: number;
  /** The next offset the group will consume. */
  committed: number;
  /** Records between the committed offset and the high watermark (0 when committed at or past it). */
  lag: number;
};

/** `truncated` when partitions were left out for the bound. */
export type GroupLagReading = { lags: PartitionLag[]; truncated: boolean };

/** Every group's committed offsets with their lag; a topic deleted since its commit is left out. */
export async function readGroupLag(store: MetadataStore, maxSeries = MAX_LAG_SERIES): Promise<GroupLagReading> {
  const lags: PartitionLag[] = [];
  // One read of a topic's partitions per scrape.
  const watermarks = new Map<string, Promise<Map<number, number> | undefined>>();
  const highWatermarks = (topic: string) => {
    let pending = watermarks.get(topic);
    if (pending === undefined) {
      pending = store.listPartitions(topic).then(
        (partitions) => new Map(partitions.map((p) => [p.partition, p.highWatermark])),
        (error: unknown) => {
          if (error instanceof UnknownTopicOrPartitionError) return undefined;
          throw error;
        },
      );
      watermarks.set(topic, pending);
    }
    return pending;
  };
  for (const group of await store.listGroups()) {
    for (const offset of await store.fetchOffsets(group)) {
      const highWatermark = (await highWatermarks(offset.topic))?.get(offset.partition);
      if (highWatermark === undefined) continue;
      if (lags.length >= maxSeries) return { lags, truncated: true };
      const { topic, partition } = offset;
      lags.push({ group, topic, partition, committed: offset.offset, lag: Math.max(0, highWatermark - offset.offset) });
    }
  }
  return { lags, truncated: false };
}
