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
 * an agent that can read the same disk; not the loss of the disk (see docs/guarantees.md,
 * "Ack modes").
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PartitionWriter } from './partitionWriter.js';
import { parseEntries, WAL_FILE_PATTERN, type WalEntry, type WriteAheadLog } from './writeAheadLog.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

export type RecoveryReport = { replayed: number; alreadyCommitted: number; lost: number };

/**
 * At start: opens (and so leases and replays) every partition this agent's
 * own log mentions, all at once, then lets the log forget what is committed.
 */
export async function recoverWriteAheadLog(
  wal: WriteAheadLog,
  writerFor: (topic: string, partition: number) => Promise<PartitionWriter>,
  logger?: Logger,
): Promise<void> {
  const partitions = new Map<string, WalEntry>();
  for (const entry of wal.recovered) partitions.set(topicPartitionId(entry.topic, entry.partition), entry);
  await Promise.all(
    [...partitions.values()].map(async ({ topic, partition }) => {
      try {
        const writer = await writerFor(topic, partition);
        wal.markCommitted(topic, partition, writer.committedHighWatermark);
      } catch (err) {
        logger?.error(
          { err, topic, partition },
          'cannot lease partition to replay the write-ahead log; another agent on this disk will when it takes it',
        );
      }
    }),
  );
}

/**
 * Reads the logs of every agent under one root, sharing reads between
 * partitions opened together: a caller joins the next read to start (never
 * one already under way, which could have begun before the caller took its
 * lease and so miss what the previous holder appended), so partitions opened
 * at once cost at most two reads of the logs, not one each.
 */
export class WalLogs {
  private running: Promise<Map<string, WalEntry[]>> | undefined;
  private next: Promise<Map<string, WalEntry[]>> | undefined;

  constructor(readonly root: string) {}

  /** Every entry of one partition found under the root, each base offset once, by a read started after this call. */
  async entriesFor(topic: string, partition: number): Promise<WalEntry[]> {
    return (await this.read()).get(topicPartitionId(topic, partition)) ?? [];
  }

  private read(): Promise<Map<string, WalEntry[]>> {
    if (this.next !== undefined) return this.next;
    if (this.running === undefined) return this.start();
    this.next = this.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<Map<string, WalEntry[]>> {
    const reading = readLogs(this.root).finally(() => {
      if (this.running === reading) this.running = undefined;
    });
    this.running = reading;
    return reading;
  }
}

/** Every entry under `root`, by partition, each base offset once. */
async function readLogs(root: string): Promise<Map<string, WalEntry[]>> {
  const byPartition = new Map<string, Map<number, WalEntry>>();
  for (const agentDir of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (!agentDir.isDirectory()) continue;
    const dir = join(root, agentDir.name);
    for (const name of (await readdir(dir).catch(() => [] as string[]))
      .filter((n) => WAL_FILE_PATTERN.test(n))
      .sort()) {
      const bytes = await readFile(join(dir, name)).catch(() => Buffer.alloc(0));
      for (const entry of parseEntries(bytes).entries) {
        const key = topicPartitionId(entry.topic, entry.partition);
        let entries = byPartition.get(key);
        if (entries === undefined) byPartition.set(key, (entries = new Map()));
        if (!entries.has(entry.baseOffset)) entries.set(entry.baseOffset, entry);
      }
    }
  }
  return new Map([...byPartition].map(([key, entries]) => [key, [...entries.values()]]));
}

/**
 * Restores, into a freshly opened writer, the partition's entries that any
 * log under the root holds beyond the high watermark, in offset order.
 */
export async function recoverPartitionFromLogs(
  logs: WalLogs,
  writer: PartitionWriter,
  logger?: Logger,
): Promise<RecoveryReport> {
  const entries = await logs.entriesFor(writer.topic, writer.partition);
  const report: RecoveryReport = { replayed: 0, alreadyCommitted: 0, lost: 0 };
  let expected = writer.committedHighWatermark;
  const restore: Buffer[] = [];
  for (const entry of [...entries].sort((a, b) => a.baseOffset - b.baseOffset)) {
    if (entry.nextOffset <= expected) {
      report.alreadyCommitted++;
    } else if (entry.baseOffset !== expected) {
      logger?.error(
        { topic: writer.topic, partition: writer.partition, baseOffset: entry.baseOffset, expected },
        'write-ahead log entry cannot keep its offset; lost',
      );
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
