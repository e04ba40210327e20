/**
 * Replays write-ahead logs: every batch that was answered as `buffered` but
 * is not yet in a segment is appended again, at the offset it was
 * acknowledged with, before the partition serves anything new.
 *
 * Agents keep their logs under one root (`<walRoot>/<agentId>/`). Whenever an
 * agent opens a partition's writer (it has just taken the lease: at start,
 * after a failover, after a failed flush), it reads every log under the root,
 * its own included, and restores the partition's entries that continue the
 * log from the store's high watermark. Files of a running agent are only
 * read; a torn tail just ends that file's entries.
 *
 * An entry can keep its offset only while the entries continue the partition
 * exactly where the high watermark stands. If another agent wrote the
 * partition meanwhile (it took the lease over without access to this disk),
 * entries beyond its high watermark cannot keep their offsets and are
 * reported as lost. So `buffered` survives an agent crash and a failover to
 * an agent that can read the same disk; not the loss of the disk (see README,
 * "Ack modes").
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PartitionWriter } from './partitionWriter.js';
import { parseEntries, WAL_FILE_PATTERN, type WalEntry, type WriteAheadLog } from './writeAheadLog.js';
import { partitionKey } from '../leases/leaseManager.js';

export type RecoveryReport = { replayed: number; alreadyCommitted: number; lost: number };

/**
 * At start: opens (and so leases and replays) every partition this agent's
 * own log mentions, then lets the log forget what is committed.
 */
export async function recoverWriteAheadLog(
  wal: WriteAheadLog,
  writerFor: (topic: string, partition: number) => Promise<PartitionWriter>,
  logger?: Logger,
): Promise<void> {
  const partitions = new Map<string, WalEntry>();
  for (const entry of wal.recovered) partitions.set(partitionKey(entry.topic, entry.partition), entry);
  for (const { topic, partition } of partitions.values()) {
    try {
      const writer = await writerFor(topic, partition);
      wal.markCommitted(topic, partition, writer.committedHighWatermark);
    } catch (err) {
      logger?.error({ err, topic, partition }, 'cannot lease partition to replay the write-ahead log; another agent on this disk will when it takes it');
    }
  }
}

/**
 * Restores, into a freshly opened writer, the partition's entries that any
 * log under `walRoot` holds beyond the high watermark, in offset order.
 */
export async function recoverPartitionFromLogs(walRoot: string, writer: PartitionWriter, logger?: Logger): Promise<RecoveryReport> {
  const byOffset = new Map<number, WalEntry>();
  for (const agentDir of await readdir(walRoot, { withFileTypes: true }).catch(() => [])) {
    if (!agentDir.isDirectory()) continue;
    const dir = join(walRoot, agentDir.name);
    for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) => WAL_FILE_PATTERN.test(n)).sort()) {
      const bytes = await readFile(join(dir, name)).catch(() => Buffer.alloc(0));
      for (const entry of parseEntries(bytes).entries) {
        if (entry.topic === writer.topic && entry.partition === writer.partition && !byOffset.has(entry.baseOffset)) {
          byOffset.set(entry.baseOffset, entry);
        }
      }
    }
  }
  const report: RecoveryReport = { replayed: 0, alreadyCommitted: 0, lost: 0 };
  let expected = writer.committedHighWatermark;
  const restore: Buffer[] = [];
  for (const entry of [...byOffset.values()].sort((a, b) => a.baseOffset - b.baseOffset)) {
    if (entry.nextOffset <= expected) {
      report.alreadyCommitted++;
    } else if (entry.baseOffset !== expected) {
      logger?.error({ topic: writer.topic, partition: writer.partition, baseOffset: entry.baseOffset, expected }, 'write-ahead log entry cannot keep its offset; lost');
      report.lost++;
    } else {
      restore.push(entry.batch);
      expected = entry.nextOffset;
      report.replayed++;
    }
  }
  if (restore.length > 0) {
    await writer.restore(restore);
    logger?.info({ topic: writer.topic, partition: writer.partition, ...report }, 'write-ahead log entries replayed');
  }
  return report;
}
