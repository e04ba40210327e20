/**
 * `streamhouse produce <topic>`: sends each line of standard input as one
 * record (durable acks) and prints where each batch landed.
 */
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { encodeRecordBatch, type RecordInput } from '../protocol/codec/recordBatch.js';
import { AckMode } from '../protocol/generated/streamhouse.js';
import { fromErrorInfo, UnknownTopicOrPartitionError } from '../protocol/errors.js';
import { partitionForKey } from '../client/partitioners/keyHashPartitioner.js';
import { MAX_PARTITIONS } from '../metadata/validation.js';
import { agentOption, type AgentFlags } from './agentOption.js';
import { integerOption } from './integerOption.js';
import { withAgent } from './topics.js';

type ProduceFlags = AgentFlags & {
  keySeparator?: string;
  partition?: number;
  batchSize: number;
  acks: 'durable' | 'buffered' | 'none';
};

const ACKS = {
  durable: AckMode.ACK_MODE_DURABLE,
  buffered: AckMode.ACK_MODE_BUFFERED,
  none: AckMode.ACK_MODE_NONE,
} as const;

export function produceCommand(): Command {
  return new Command('produce')
    .argument('<topic>')
    .description('send lines of standard input as records')
    .addOption(agentOption())
    .option('-k, --key-separator <sep>', 'split each line into key and value at the first <sep>')
    .option(
      '-p, --partition <n>',
      'send every record to this partition',
      integerOption('--partition', { max: MAX_PARTITIONS - 1 }),
    )
    .option('--batch-size <n>', 'records per batch', integerOption('--batch-size', { min: 1, max: 1_000_000 }), 1000)
    .addOption(
      new Option('--acks <mode>', 'when the agent answers').choices(['durable', 'buffered', 'none']).default('durable'),
    )
    .action(async (topic: string, flags: ProduceFlags) => produce(topic, flags));
}

async function produce(topic: string, flags: ProduceFlags): Promise<void> {
  await withAgent(flags, async (client) => {
    const { topics } = await client.metadata({ topics: [topic] });
    const meta = topics[0];
    const error = fromErrorInfo(meta?.error, { topic });
    if (error !== undefined) throw error;
    const partitionCount = meta?.partitions.length ?? 0;
    if (flags.partition !== undefined && flags.partition >= partitionCount) {
      throw new UnknownTopicOrPartitionError(
        `topic ${topic} has ${partitionCount} partitions; there is no partition ${flags.partition}`,
      );
    }
    const pending = new Map<number, RecordInput[]>();
    let roundRobin = 0;
    let sent = 0;
    const send = async (partition: number, records: RecordInput[]) => {
      const { results } = await client.produce({
        acks: ACKS[flags.acks],
        producerId: -1,
        producerEpoch: -1,
        timeoutMs: 0,
        partitions: [{ topic, partition, batch: encodeRecordBatch(records) }],
      });
      const result = results[0]!;
      const failure = fromErrorInfo(result.error, { topic, partition });
      if (failure !== undefined) throw failure;
      sent += records.length;
      console.error(`${topic}/${partition}: ${records.length} records at offset ${result.baseOffset}`);
    };
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      const cut = flags.keySeparator === undefined ? -1 : line.indexOf(flags.keySeparator);
      const key = cut < 0 ? null : Buffer.from(line.slice(0, cut));
      const value = Buffer.from(cut < 0 ? line : line.slice(cut + flags.keySeparator!.length));
      const partition =
        flags.partition ?? (key === null ? roundRobin++ % partitionCount : partitionForKey(key, partitionCount));
      const records = pending.get(partition) ?? [];
      records.push({ key, value, timestamp: Date.now() });
      pending.set(partition, records);
      if (records.length >= flags.batchSize) {
        pending.delete(partition);
        await send(partition, records);
      }
    }
    for (const [partition, records] of pending) await send(partition, records);
    console.error(`sent ${sent} records to ${topic}`);
  });
}
