/**
 * Replays the write-ahead log after a restart: every batch that was answered
 * as `buffered` but is not yet in a segment is appended again, at the same
 * offsets, before the agent serves any request.
 *
 * A batch can keep its offset only while this agent's log continues the
 * partition exactly where the store's high watermark stands. If another agent
 * has written the partition meanwhile (it took the lease over while this one
 * was down), the entries beyond its high watermark cannot keep their offsets
 * and are reported as lost: `buffered` survives a restart of the same agent
 * on the same disk, not a failover (see README, "Ack modes").
 */
import type { Logger } from 'pino';
import { readBatchFrame, readProducerFields } from '../protocol/batchLayout.js';
import type { PartitionWriter } from './partitionWriter.js';
import type { WalEntry, WriteAheadLog } from './writeAheadLog.js';
import { partitionKey } from './leaseManager.js';

export type RecoveryReport = { replayed: number; alreadyCommitted: number; lost: number };

export async function recoverWriteAheadLog(
  wal: WriteAheadLog,
  writerFor: (topic: string, partition: number) => Promise<PartitionWriter>,
  logger?: Logger,
): Promise<RecoveryReport> {
  const report: RecoveryReport = { replayed: 0, alreadyCommitted: 0, lost: 0 };
  const byPartition = new Map<string, WalEntry[]>();
  for (const entry of wal.recovered) {
    const key = partitionKey(entry.topic, entry.partition);
    byPartition.set(key, [...(byPartition.get(key) ?? []), entry]);
  }
  for (const entries of byPartition.values()) {
    const { topic, partition } = entries[0]!;
    let writer: PartitionWriter;
    try {
      writer = await writerFor(topic, partition);
    } catch (err) {
      logger?.error({ err, topic, partition, batches: entries.length }, 'cannot lease partition to replay the write-ahead log');
      report.lost += entries.length;
      continue;
    }
    let expected = writer.committedHighWatermark;
    const replays: Promise<unknown>[] = [];
    for (const entry of [...entries].sort((a, b) => a.baseOffset - b.baseOffset)) {
      if (entry.nextOffset <= writer.committedHighWatermark) {
        report.alreadyCommitted++;
        continue;
      }
      if (entry.baseOffset !== expected) {
        logger?.error({ topic, partition, baseOffset: entry.baseOffset, expected }, 'write-ahead log entry cannot keep its offset; lost');
        report.lost++;
        continue;
      }
      replays.push(writer.append({ ...readProducerFields(entry.batch), batch: entry.batch, frame: readBatchFrame(entry.batch), ack: 'durable' }));
      expected = entry.nextOffset;
      report.replayed++;
    }
    await Promise.all(replays);
    wal.markCommitted(topic, partition, writer.committedHighWatermark);
  }
  if (wal.recovered.length > 0) logger?.info(report, 'write-ahead log recovered');
  return report;
}
