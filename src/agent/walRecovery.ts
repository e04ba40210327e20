/**
 * Replays the write-ahead log after a restart: every batch that was answered
 * as `buffered` but is not yet in a segment is appended again, at the same
 * offsets, before the agent serves any request.
 *
 * A batch can keep its offset only while this agent's log continues the
 * partition exactly where the store's high watermark stands. If another agent
 * has written the partition meanwhile (it took the lease over while this one
 * was down), the entries beyond its high watermark cannot keep their offsets
 * and are reported as lost.
 *
 * Agents sharing a disk share the log root (`<walRoot>/<agentId>/`): an agent
 * that takes a partition over also replays, from the other agents' logs, the
 * partition's entries beyond the store's high watermark
 * ({@link recoverPartitionFromPeers}). So `buffered` survives a crash of the
 * agent, and a failover to another agent that can read the same disk; not
 * the loss of the disk (see README, "Ack modes").
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readBatchFrame, readProducerFields } from '../protocol/batchLayout.js';
import type { PartitionWriter } from './partitionWriter.js';
import { parseEntries, WAL_FILE_PATTERN, type WalEntry, type WriteAheadLog } from './writeAheadLog.js';
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
    add(report, await replay(writer, entries, logger));
    wal.markCommitted(topic, partition, writer.committedHighWatermark);
  }
  if (wal.recovered.length > 0) logger?.info(report, 'write-ahead log recovered');
  return report;
}

/** Appends, at their own offsets, the entries that continue the partition from its high watermark. */
async function replay(writer: PartitionWriter, entries: WalEntry[], logger?: Logger): Promise<RecoveryReport> {
  const report: RecoveryReport = { replayed: 0, alreadyCommitted: 0, lost: 0 };
  const { topic, partition } = writer;
  let expected = writer.committedHighWatermark;
  const replays: Promise<unknown>[] = [];
  for (const entry of [...entries].sort((a, b) => a.baseOffset - b.baseOffset)) {
    if (entry.nextOffset <= expected) {
      report.alreadyCommitted++;
      continue;
    }
    if (entry.baseOffset !== expected) {
      logger?.error({ topic, partition, baseOffset: entry.baseOffset, expected }, 'write-ahead log entry cannot keep its offset; lost');
      report.lost++;
      continue;
    }
    // Stamped copies: the log's bytes are not handed to the writer, which stamps in place.
    const batch = Buffer.from(entry.batch);
    replays.push(writer.append({ ...readProducerFields(batch), batch, frame: readBatchFrame(batch), ack: 'durable' }));
    expected = entry.nextOffset;
    report.replayed++;
  }
  await Promise.all(replays);
  return report;
}

function add(total: RecoveryReport, part: RecoveryReport): void {
  total.replayed += part.replayed;
  total.alreadyCommitted += part.alreadyCommitted;
  total.lost += part.lost;
}

/**
 * After taking a partition's lease: replays the partition's entries that
 * other agents' logs under `walRoot` hold beyond the high watermark. Their
 * files are only read (their owner may still be running); a torn tail there
 * just ends that file's entries.
 */
export async function recoverPartitionFromPeers(walRoot: string, agentId: string, writer: PartitionWriter, logger?: Logger): Promise<RecoveryReport> {
  const entries: WalEntry[] = [];
  const seen = new Set<number>();
  for (const peer of await readdir(walRoot, { withFileTypes: true }).catch(() => [])) {
    if (!peer.isDirectory() || peer.name === agentId) continue;
    const dir = join(walRoot, peer.name);
    for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) => WAL_FILE_PATTERN.test(n)).sort()) {
      const bytes = await readFile(join(dir, name)).catch(() => Buffer.alloc(0));
      for (const entry of parseEntries(bytes).entries) {
        if (entry.topic !== writer.topic || entry.partition !== writer.partition) continue;
        if (entry.nextOffset <= writer.committedHighWatermark || seen.has(entry.baseOffset)) continue;
        seen.add(entry.baseOffset);
        entries.push(entry);
      }
    }
  }
  if (entries.length === 0) return { replayed: 0, alreadyCommitted: 0, lost: 0 };
  const report = await replay(writer, entries, logger);
  logger?.info({ topic: writer.topic, partition: writer.partition, ...report }, "replayed other agents' write-ahead log entries");
  return report;
}
