/**
 * `streamhouse produce <topic>`: sends each line of standard input as one
 * record (text, or JSON lines with keys and headers) and reports where each
 * batch landed (on standard error, or as JSON lines on standard output with
 * --json).
 */
import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { encodeRecordBatch, type RecordInput } from '../protocol/codec/recordBatch.js';
import { AckMode } from '../protocol/generated/streamhouse.js';
import { fromErrorInfo, UnknownTopicOrPartitionError } from '../protocol/errors.js';
import { partitionForKey } from '../client/partitioners/keyHashPartitioner.js';
import { MAX_PARTITIONS } from '../metadata/validation.js';
import { clientOptions, withAgent, type ClientFlags } from './agentCall.js';
import { integerOption } from './integerOption.js';
import { printJson } from './output.js';
import { parseHeaderFlags, parseJsonLine, parseTextLine } from './recordLines.js';

type ProduceFlags = ClientFlags & {
  keySeparator?: string;
  partition?: number;
  batchSize: number;
  acks: 'durable' | 'buffered' | 'none';
  format: 'text' | 'json';
  header: string[];
};

const ACKS = {
  durable: AckMode.ACK_MODE_DURABLE,
  buffered: AckMode.ACK_MODE_BUFFERED,
  none: AckMode.ACK_MODE_NONE,
} as const;

export function produceCommand(): Command {
  return clientOptions(
    new Command('produce').argument('<topic>').description('send lines of standard input as records'),
  )
    .addOption(
      new Option('-f, --format <format>', 'each line is a text value or a JSON object {key, value, headers}')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-k, --key-separator <sep>', 'text lines: split each line into key and value at the first <sep>')
    .option(
      '-H, --header <name=value>',
      'add this header to every record (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
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
  const headers = parseHeaderFlags(flags.header);
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
      if (flags.json) printJson({ topic, partition, records: records.length, baseOffset: result.baseOffset });
      else console.error(`${topic}/${partition}: ${records.length} records at offset ${result.baseOffset}`);
    };
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      const {
        key,
        value,
        headers: recordHeaders,
      } = flags.format === 'json'
        ? parseJsonLine(line, lineNumber, headers)
        : parseTextLine(line, flags.keySeparator, headers);
      const partition =
        flags.partition ?? (key === null ? roundRobin++ % partitionCount : partitionForKey(key, partitionCount));
      const records = pending.get(partition) ?? [];
      records.push({ key, value, headers: recordHeaders, timestamp: Date.now() });
      pending.set(partition, records);
      if (records.length >= flags.batchSize) {
        pending.delete(partition);
        await send(partition, records);
      }
    }
    for (const [partition, records] of pending) await send(partition, records);
    if (!flags.json) console.error(`sent ${sent} records to ${topic}`);
  });
}
