/**
 * Background work on the partitions this agent leads:
 *
 * - Compaction: runs of small flush objects are merged into one segment and
 *   swapped in with one atomic metadata step, so readers see either the old
 *   objects or the new one, never a gap or a duplicate. Old objects are
 *   deleted after the swap; a reader that still asks for one retries its
 *   registry lookup.
 * - Retention: whole segments older than `retentionMs` (by their newest
 *   record) or beyond `retentionBytes` are removed, oldest first, and the log
 *   start offset advances.
 *
 * Only the lease holder does either, and both metadata steps are fenced by
 * its lease epoch.
 */
import type { Logger } from 'pino';
import type { MetadataStore, SegmentInfo } from '../../metadata/metadataStore.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { buildSegment } from '../../storage/segmentWriter.js';
import { partitionSegmentPrefix, segmentObjectKey } from '../../storage/segmentKey.js';
import type { SegmentReader } from '../../storage/segmentReader.js';
import { readBatchFrames } from '../../protocol/codec/batchLayout.js';
import type { LeaseManager } from '../leases/leaseManager.js';

export type MaintenanceOptions = {
  metadataStore: MetadataStore;
  objectStore: ObjectStore;
  segments: SegmentReader;
  leases: LeaseManager;
  agentId: string;
  /** 0 disables the background loop (runOnce still works). */
  intervalMs: number;
  compactionMinObjectBytes: number;
  /** Objects under a partition that the registry does not name are deleted once older than this, ms. */
  orphanGraceMs: number;
  onLogStartMoved: (topic: string, partition: number, offset: number) => void;
  clock: () => number;
  logger?: Logger | undefined;
};

export type MaintenanceReport = { merged: number; mergedInto: number; deleted: number; orphansDeleted: number };

export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<MaintenanceReport> | undefined;

  constructor(private readonly options: MaintenanceOptions) {}

  start(): void {
    if (this.options.intervalMs === 0) return;
    this.timer = setInterval(
      () => void this.runOnce().catch((err: unknown) => this.options.logger?.warn({ err }, 'maintenance failed')),
      this.options.intervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over every leased partition (runs are never concurrent). */
  runOnce(): Promise<MaintenanceReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { merged: 0, mergedInto: 0, deleted: 0, orphansDeleted: 0 };
    for (const lease of this.options.leases.all()) {
      const topic = await this.options.metadataStore.getTopic(lease.topic);
      if (topic === undefined) continue;
      report.deleted += await this.applyRetention(lease.topic, lease.partition, lease.epoch, topic.config);
      const merged = await this.compact(lease.topic, lease.partition, lease.epoch, topic.config.segmentBytes);
      report.merged += merged.merged;
      report.mergedInto += merged.mergedInto;
      report.orphansDeleted += await this.deleteOrphans(lease.topic, lease.partition);
    }
    return report;
  }

  /**
   * Deletes objects of a partition that no registry entry names: written by
   * an agent whose commit was then fenced, or left by a crash between a
   * compaction's put and its swap. The grace period spares objects whose
   * commit may still be on its way.
   */
  private async deleteOrphans(topic: string, partition: number): Promise<number> {
    const objects = await this.options.objectStore.list(partitionSegmentPrefix(topic, partition));
    if (objects.length === 0) return 0;
    const registered = new Set((await this.options.metadataStore.listSegments(topic, partition)).map((s) => s.key));
    const cutoff = this.options.clock() - this.options.orphanGraceMs;
    const orphans = objects.filter((o) => !registered.has(o.key) && o.lastModified < cutoff);
    await Promise.all(orphans.map((o) => this.options.objectStore.delete(o.key)));
    if (orphans.length > 0)
      this.options.logger?.info({ topic, partition, objects: orphans.length }, 'deleted unregistered objects');
    return orphans.length;
  }

  private async applyRetention(
    topic: string,
    partition: number,
    epoch: number,
    config: { retentionMs: number; retentionBytes: number },
  ): Promise<number> {
    if (config.retentionMs < 0 && config.retentionBytes < 0) return 0;
    const segments = await this.options.metadataStore.listSegments(topic, partition);
    let total = segments.reduce((sum, s) => sum + s.sizeBytes, 0);
    const cutoff = this.options.clock() - config.retentionMs;
    const expired: SegmentInfo[] = [];
    for (const segment of segments) {
      const tooOld = config.retentionMs >= 0 && segment.maxTimestamp < cutoff;
      const tooBig = config.retentionBytes >= 0 && total > config.retentionBytes;
      if (!tooOld && !tooBig) break;
      expired.push(segment);
      total -= segment.sizeBytes;
    }
    if (expired.length === 0) return 0;
    const logStartOffset = expired[expired.length - 1]!.endOffset;
    await this.options.metadataStore.deleteSegments({
      topic,
      partition,
      epoch,
      keys: expired.map((s) => s.key),
      logStartOffset,
    });
    this.options.onLogStartMoved(topic, partition, logStartOffset);
    await Promise.all(expired.map((s) => this.options.objectStore.delete(s.key)));
    this.options.logger?.info(
      { topic, partition, segments: expired.length, logStartOffset },
      'retention removed segments',
    );
    return expired.length;
  }

  private async compact(
    topic: string,
    partition: number,
    epoch: number,
    segmentBytes: number,
  ): Promise<{ merged: number; mergedInto: number }> {
    const segments = await this.options.metadataStore.listSegments(topic, partition);
    const result = { merged: 0, mergedInto: 0 };
    for (const run of smallRuns(segments, this.options.compactionMinObjectBytes, segmentBytes)) {
      const batches: Buffer[] = [];
      for (const segment of run) {
        const read = await this.options.segments.readBatches(
          this.options.objectStore,
          segment.key,
          segment.baseOffset,
          segment.sizeBytes,
          { sizeBytes: segment.sizeBytes, maxTimestamp: segment.maxTimestamp },
        );
        for (const frame of readBatchFrames(read.bytes))
          batches.push(read.bytes.subarray(frame.position, frame.position + frame.size));
      }
      const first = run[0]!;
      const last = run[run.length - 1]!;
      const built = buildSegment(batches);
      const key = segmentObjectKey(topic, partition, first.baseOffset, last.endOffset, epoch);
      await this.options.objectStore.put(key, built.parts);
      await this.options.metadataStore.replaceSegments({
        topic,
        partition,
        epoch,
        remove: run.map((s) => s.key),
        add: {
          key,
          baseOffset: first.baseOffset,
          endOffset: last.endOffset,
          sizeBytes: built.sizeBytes,
          minTimestamp: built.minTimestamp,
          maxTimestamp: built.maxTimestamp,
          createdAt: this.options.clock(),
        },
      });
      await Promise.all(run.filter((s) => s.key !== key).map((s) => this.options.objectStore.delete(s.key)));
      result.merged += run.length;
      result.mergedInto += 1;
      this.options.logger?.info(
        { topic, partition, objects: run.length, baseOffset: first.baseOffset, endOffset: last.endOffset },
        'compacted',
      );
    }
    return result;
  }
}

/** Runs of at least two adjacent small objects whose merged size stays within `maxBytes`. */
export function smallRuns(segments: SegmentInfo[], smallBytes: number, maxBytes: number): SegmentInfo[][] {
  const runs: SegmentInfo[][] = [];
  let run: SegmentInfo[] = [];
  let size = 0;
  const close = () => {
    if (run.length >= 2) runs.push(run);
    run = [];
    size = 0;
  };
  for (const segment of segments) {
    const adjacent = run.length === 0 || run[run.length - 1]!.endOffset === segment.baseOffset;
    if (segment.sizeBytes >= smallBytes || !adjacent || size + segment.sizeBytes > maxBytes) close();
    if (segment.sizeBytes < smallBytes) {
      run.push(segment);
      size += segment.sizeBytes;
    }
  }
  close();
  return runs;
}
