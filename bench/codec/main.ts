/**
 * RecordBatch codec throughput: encode and decode batches of 1000 records
 * (16-byte keys, 100-byte JSON-like values), without and with LZ4, on one core.
 *
 * `npx tsx bench/codec/main.ts` or `npm run bench -- codec`.
 * Env: CODEC_BENCH_SECONDS (per workload, default 2), CODEC_BENCH_BATCH (records per batch, default 1000).
 * MB/s counts the uncompressed batch bytes (header + records) handled per second.
 * Rows use wall time; the log line also gives records per CPU second, which is
 * steadier when other processes share the cores.
 */
import { throughputRows, writeResults, type ResultRow } from '../lib/results.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type CompressionCodec,
  type RecordInput,
} from '../../src/protocol/codec/recordBatch.js';

const SECONDS = Number(process.env.CODEC_BENCH_SECONDS ?? 2);
const BATCH_RECORDS = Number(process.env.CODEC_BENCH_BATCH ?? 1000);
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const WARMUP_SECONDS = 0.5;

/** Deterministic records: keys `key-<n>` padded to 16 bytes, values JSON-ish text padded to 100 bytes. */
function makeRecords(count: number): RecordInput[] {
  const start = 1_700_000_000_000;
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`key-${i}`.padEnd(KEY_BYTES, '.'));
    const json = JSON.stringify({ id: i, user: `user-${(i * 7919) % 1000}`, amount: (i * 31) % 997, ok: i % 3 === 0 });
    const value = Buffer.from(json.padEnd(VALUE_BYTES, ' ').slice(0, VALUE_BYTES));
    records.push({ key, value, timestamp: start + i });
  }
  return records;
}

type Measurement = {
  /** Records handled. */
  records: number;
  /** Wall-clock seconds taken. */
  seconds: number;
  /** CPU seconds the process used meanwhile (all threads, GC included). */
  cpuSeconds: number;
};

/** Runs `step` (which handles `recordsPerStep` records) for about `seconds` of wall time. */
function measure(step: () => void, recordsPerStep: number, seconds: number): Measurement {
  const cpuBefore = process.cpuUsage();
  const began = process.hrtime.bigint();
  const deadline = began + BigInt(Math.round(seconds * 1e9));
  let records = 0;
  let now = began;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) step();
    records += 20 * recordsPerStep;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { records, seconds: Number(now - began) / 1e9, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const perSecond = (count: number, seconds: number): string => Math.round(count / seconds).toLocaleString('en-US');

const rows: ResultRow[] = [];
const records = makeRecords(BATCH_RECORDS);
const plainSize = encodeRecordBatch(records).length;
let sink = 0;

for (const compression of ['none', 'lz4'] as CompressionCodec[]) {
  const suffix = compression === 'lz4' ? '-lz4' : '';
  const encode = (): void => {
    sink += encodeRecordBatch(records, { compression }).length;
  };
  const encoded = encodeRecordBatch(records, { compression });
  const decode = (): void => {
    const batch = decodeRecordBatch(encoded);
    for (const record of batch.records) sink += record.value!.length;
  };
  for (const [workload, step] of [
    [`encode-${VALUE_BYTES}B${suffix}`, encode],
    [`decode-${VALUE_BYTES}B${suffix}`, decode],
  ] as const) {
    measure(step, BATCH_RECORDS, WARMUP_SECONDS);
    const { records: count, seconds, cpuSeconds } = measure(step, BATCH_RECORDS, SECONDS);
    const bytes = (count / BATCH_RECORDS) * plainSize;
    rows.push(...throughputRows('streamhouse', workload, count, bytes, seconds));
    // on a shared machine wall time includes time other processes held the core
    console.log(
      `${workload}: ${perSecond(count, seconds)} records/s wall, ${perSecond(count, cpuSeconds)} per CPU second ` +
        `(batch ${encoded.length} bytes on the wire, ${plainSize} uncompressed)`,
    );
  }
}
if (sink === 0) console.log('nothing measured');
await writeResults('codec', rows);
