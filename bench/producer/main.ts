/**
 * `npm run bench -- producer`: the full RxJS Producer pipeline against one
 * agent process on the embedded stores (directory + SQLite), durable acks,
 * 100-byte values with 16-byte keys. Prints and writes records/s, MB/s and
 * ack latency percentiles (sampled records, send → acknowledgement).
 *
 * Env: RECORDS (default 2,000,000), PARTITIONS (4), BATCH_BYTES (1 MiB), LINGER_MS (5), IN_FLIGHT (5 per partition),
 * AGENT_CPU_PROF=<dir> to profile the agent process too.
 */
import { connectAgent } from '../../src/client/agentClient.js';
import { createProducer } from '../../src/client/producer/producer.js';
import { startAgentProcess } from '../lib/agentProcess.js';
import { LatencyRecorder } from '../lib/latency.js';
import { progress } from '../lib/progress.js';
import { throughputRows, writeResults, type ResultRow } from '../lib/results.js';

const RECORDS = Number(process.env['RECORDS'] ?? 2_000_000);
const PARTITIONS = Number(process.env['PARTITIONS'] ?? 4);
const BATCH_BYTES = Number(process.env['BATCH_BYTES'] ?? 1024 * 1024);
const LINGER_MS = Number(process.env['LINGER_MS'] ?? 5);
const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 5);
const VALUE_BYTES = 100;
const KEY_BYTES = 16;
const SAMPLE_EVERY = 1000;

const agentProfile = process.env['AGENT_CPU_PROF'];
const agent = await startAgentProcess(['--no-wal'], agentProfile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', agentProfile]);
const rows: ResultRow[] = [];
try {
  const admin = connectAgent(agent.address);
  await admin.client.createTopic({ name: 'bench', partitions: PARTITIONS, config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 8 * 1024 * 1024 } });
  admin.close();

  const producer = await createProducer({ bootstrap: [agent.address], batchBytes: BATCH_BYTES, lingerMs: LINGER_MS, maxBufferedBytes: 64 * 1024 * 1024, maxInFlightPerPartition: IN_FLIGHT });
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const keys = Array.from({ length: 1024 }, (_, i) => Buffer.from(`key-${String(i).padStart(KEY_BYTES - 4, '0')}`));
  const latency = new LatencyRecorder();
  const bar = progress('producer-100B', RECORDS);
  const started = performance.now();
  const sampled: Promise<void>[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const sentAt = performance.now();
    const result = await producer.send({ topic: 'bench', key: keys[i & 1023]!, value });
    if (i % SAMPLE_EVERY === 0) {
      sampled.push(result.waitOffset().then(() => latency.record(performance.now() - sentAt)));
      bar.tick(SAMPLE_EVERY);
      // Let I/O run: sends resolve synchronously while the buffer has room.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await producer.flush();
  await Promise.all(sampled);
  const seconds = (performance.now() - started) / 1000;
  bar.stop();
  const metrics = producer.metrics();
  await producer.close();
  if (metrics.recordsAcked !== RECORDS) throw new Error(`only ${metrics.recordsAcked} of ${RECORDS} records acknowledged`);
  rows.push(...throughputRows('streamhouse', 'producer-100B', RECORDS, RECORDS * (VALUE_BYTES + KEY_BYTES), seconds));
  rows.push(...latency.rows('streamhouse', 'producer-100B'));
  console.log(`${RECORDS} records in ${seconds.toFixed(2)} s, ${metrics.batchesSent} batches, ${metrics.retries} retries`);
} finally {
  await agent.stop();
}
await writeResults('producer', rows);
