/**
 * `streamhouse consume <topic>`: prints records of every partition (or one)
 * from the earliest, the latest, an offset, a timestamp or a group's
 * committed offsets; following new records (default) or stopping at the
 * end. With --group the positions reached are committed for the group at
 * exit (refused while the group has live members).
 */
import { Command, Option } from 'commander';
import { decodeRecordBatches, type DecodedRecord } from '../protocol/codec/recordBatch.js';
import { OffsetSpec } from '../protocol/generated/streamhouse.js';
import { fromErrorInfo, UnknownTopicOrPartitionError } from '../protocol/errors.js';
import type { StreamHouseClient } from '../client/agentClient.js';
import { MAX_PARTITIONS } from '../metadata/validation.js';
import { clientOptions, withAgent, type ClientFlags } from './agentCall.js';
import { integerOption } from './integerOption.js';
import { commitGroupOffsets } from './groupOffsets.js';
import { printJson } from './output.js';

type ConsumeFlags = ClientFlags & {
  partition?: number;
  fromBeginning?: boolean;
  offset?: number;
  fromTimestamp?: number;
  group?: string;
  follow: boolean;
  maxMessages?: number;
  printOffsets?: boolean;
  printKeys?: boolean;
  printHeaders?: boolean;
  printTimestamps?: boolean;
  idleExitMs?: number;
};

export function consumeCommand(): Command {
  return clientOptions(
    new Command('consume').argument('<topic>').description('print records as they arrive (Ctrl-C stops)'),
  )
    .option('-p, --partition <n>', 'only this partition', integerOption('--partition', { max: MAX_PARTITIONS - 1 }))
    .option('--from-beginning', 'start at the earliest offset (default: the latest)')
    .option('--offset <n>', 'start at this offset (with --partition)', integerOption('--offset'))
    .option(
      '--from-timestamp <ms>',
      'start at the first record with this timestamp or later (ms since the epoch)',
      integerOption('--from-timestamp'),
    )
    .addOption(
      new Option(
        '-g, --group <id>',
        "start at the group's committed offsets (elsewhere at the start asked for) and commit the positions reached " +
          'at exit',
      ),
    )
    .option('--no-follow', 'stop at the end: exit once the records present at the start are printed')
    .option('-n, --max-messages <n>', 'exit after this many records', integerOption('--max-messages', { min: 1 }))
    .option('--idle-exit-ms <ms>', 'exit when nothing arrives for this long', integerOption('--idle-exit-ms'))
    .option('--print-offsets', 'prefix each record with partition and offset')
    .option('--print-timestamps', 'prefix each record with its timestamp (ms)')
    .option('--print-keys', 'prefix each record with its key')
    .option('--print-headers', 'prefix each record with its headers (name=value,…)')
    .action(async (topic: string, flags: ConsumeFlags) => consume(topic, flags));
}

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString();
}

function printRecord(partition: number, record: DecodedRecord, flags: ConsumeFlags): void {
  if (flags.json) {
    printJson({
      partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: text(record.key),
      value: text(record.value),
      headers: Object.fromEntries(record.headers.map((h) => [h.key, text(h.value)])),
    });
    return;
  }
  const prefix =
    (flags.printOffsets === true ? `${partition}@${record.offset}\t` : '') +
    (flags.printTimestamps === true ? `${record.timestamp}\t` : '') +
    (flags.printKeys === true ? `${text(record.key) ?? ''}\t` : '') +
    (flags.printHeaders === true
      ? `${record.headers.map((h) => (h.value === null ? h.key : `${h.key}=${text(h.value)}`)).join(',')}\t`
      : '');
  process.stdout.write(`${prefix}${text(record.value) ?? ''}\n`);
}

/** Where each partition starts: the flags' start, overridden by the group's committed offsets. */
async function startPositions(
  client: StreamHouseClient,
  topic: string,
  partitions: number[],
  flags: ConsumeFlags,
): Promise<Map<number, number>> {
  const spec =
    flags.fromTimestamp !== undefined
      ? OffsetSpec.OFFSET_SPEC_TIMESTAMP
      : flags.fromBeginning === true
        ? OffsetSpec.OFFSET_SPEC_EARLIEST
        : OffsetSpec.OFFSET_SPEC_LATEST;
  const [asked, latest] = await Promise.all(
    [spec, OffsetSpec.OFFSET_SPEC_LATEST].map((s) =>
      client.listOffsets({
        partitions: partitions.map((partition) => ({
          topic,
          partition,
          spec: s,
          timestampMs: flags.fromTimestamp ?? 0,
        })),
      }),
    ),
  );
  const positions = new Map<number, number>();
  for (const [i, r] of asked!.results.entries()) {
    const failure = fromErrorInfo(r.error, { topic, partition: r.partition });
    if (failure !== undefined) throw failure;
    // A timestamp after every record starts at the end.
    positions.set(r.partition, flags.offset ?? (r.offset < 0 ? latest!.results[i]!.offset : r.offset));
  }
  if (flags.group !== undefined) {
    const { offsets } = await client.fetchOffsets({
      groupId: flags.group,
      partitions: partitions.map((partition) => ({ topic, partition })),
    });
    for (const o of offsets) if (o.offset >= 0) positions.set(o.partition, o.offset);
  }
  return positions;
}

async function consume(topic: string, flags: ConsumeFlags): Promise<void> {
  await withAgent(flags, async (client) => {
    const { topics } = await client.metadata({ topics: [topic] });
    const error = fromErrorInfo(topics[0]?.error, { topic });
    if (error !== undefined) throw error;
    const partitionCount = topics[0]?.partitions.length ?? 0;
    if (flags.partition !== undefined && flags.partition >= partitionCount) {
      throw new UnknownTopicOrPartitionError(
        `topic ${topic} has ${partitionCount} partitions; there is no partition ${flags.partition}`,
        {
          context: { topic, partition: flags.partition },
        },
      );
    }
    const partitions = (topics[0]?.partitions ?? [])
      .map((p) => p.partition)
      .filter((p) => flags.partition === undefined || p === flags.partition);
    const positions = await startPositions(client, topic, partitions, flags);
    // Without --follow, each partition ends at its high watermark of now.
    const ends = flags.follow
      ? undefined
      : new Map(
          (topics[0]?.partitions ?? [])
            .filter((p) => positions.has(p.partition))
            .map((p) => [p.partition, p.highWatermark] as const),
        );
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    const maxWaitMs = Math.min(500, Math.floor(flags.timeoutMs / 2));
    let printed = 0;
    let lastData = Date.now();
    const open = () => [...positions].filter(([p, offset]) => ends === undefined || offset < ends.get(p)!);
    read: while (!stop.signal.aborted) {
      const reading = open();
      if (reading.length === 0) break;
      const response = await client
        .fetch(
          {
            partitions: reading.map(([partition, offset]) => ({ topic, partition, offset, maxBytes: 0 })),
            maxWaitMs,
            minBytes: 1,
            maxBytes: 0,
          },
          { signal: stop.signal },
        )
        .catch((e: unknown) => {
          if (stop.signal.aborted) return { results: [] };
          throw e;
        });
      for (const r of response.results) {
        const failure = fromErrorInfo(r.error, { topic, partition: r.partition });
        if (failure !== undefined) throw failure;
        for (const batch of decodeRecordBatches(r.records)) {
          for (const record of batch.records) {
            if (record.offset < positions.get(r.partition)!) continue;
            if (ends !== undefined && record.offset >= ends.get(r.partition)!) break;
            printRecord(r.partition, record, flags);
            positions.set(r.partition, record.offset + 1);
            lastData = Date.now();
            if (flags.maxMessages !== undefined && ++printed >= flags.maxMessages) break read;
          }
          const end = ends?.get(r.partition) ?? Number.POSITIVE_INFINITY;
          positions.set(r.partition, Math.min(end, Math.max(positions.get(r.partition)!, batch.nextOffset)));
        }
      }
      if (flags.idleExitMs !== undefined && Date.now() - lastData >= flags.idleExitMs) break;
    }
    if (flags.group !== undefined) await commitGroupOffsets(client, flags.group, topic, positions);
  });
}
