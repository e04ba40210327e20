/**
 * `streamhouse consume <topic>`: prints records of every partition (or one)
 * as they arrive, from the earliest, the latest, or a given offset.
 */
import { Command } from 'commander';
import { decodeRecordBatches } from '../protocol/codec/recordBatch.js';
import { OffsetSpec } from '../protocol/generated/streamhouse.js';
import { fromErrorInfo, UnknownTopicOrPartitionError } from '../protocol/errors.js';
import { MAX_PARTITIONS } from '../metadata/validation.js';
import { agentOption, type AgentFlags } from './agentOption.js';
import { integerOption } from './integerOption.js';
import { withAgent } from './topics.js';

type ConsumeFlags = AgentFlags & {
  partition?: number;
  fromBeginning?: boolean;
  offset?: number;
  maxMessages?: number;
  printOffsets?: boolean;
  printKeys?: boolean;
  idleExitMs?: number;
};

export function consumeCommand(): Command {
  return new Command('consume')
    .argument('<topic>')
    .description('print records as they arrive (Ctrl-C stops)')
    .addOption(agentOption())
    .option('-p, --partition <n>', 'only this partition', integerOption('--partition', { max: MAX_PARTITIONS - 1 }))
    .option('--from-beginning', 'start at the earliest offset (default: the latest)')
    .option('--offset <n>', 'start at this offset (with --partition)', integerOption('--offset'))
    .option('-n, --max-messages <n>', 'exit after this many records', integerOption('--max-messages', { min: 1 }))
    .option('--idle-exit-ms <ms>', 'exit when nothing arrives for this long', integerOption('--idle-exit-ms'))
    .option('--print-offsets', 'prefix each record with partition and offset')
    .option('--print-keys', 'prefix each record with its key')
    .action(async (topic: string, flags: ConsumeFlags) => consume(topic, flags));
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
    const { results } = await client.listOffsets({
      partitions: partitions.map((partition) => ({
        topic,
        partition,
        spec: flags.fromBeginning === true ? OffsetSpec.OFFSET_SPEC_EARLIEST : OffsetSpec.OFFSET_SPEC_LATEST,
        timestampMs: 0,
      })),
    });
    const positions = new Map(results.map((r) => [r.partition, flags.offset ?? r.offset]));
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    let printed = 0;
    let lastData = Date.now();
    while (!stop.signal.aborted) {
      const response = await client
        .fetch(
          {
            partitions: [...positions].map(([partition, offset]) => ({ topic, partition, offset, maxBytes: 0 })),
            maxWaitMs: 500,
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
            const prefix =
              (flags.printOffsets === true ? `${r.partition}@${record.offset}\t` : '') +
              (flags.printKeys === true ? `${record.key === null ? '' : Buffer.from(record.key).toString()}\t` : '');
            process.stdout.write(`${prefix}${record.value === null ? '' : Buffer.from(record.value).toString()}\n`);
            positions.set(r.partition, record.offset + 1);
            lastData = Date.now();
            if (flags.maxMessages !== undefined && ++printed >= flags.maxMessages) return;
          }
          positions.set(r.partition, Math.max(positions.get(r.partition)!, batch.nextOffset));
        }
      }
      if (flags.idleExitMs !== undefined && Date.now() - lastData >= flags.idleExitMs) return;
    }
  });
}
