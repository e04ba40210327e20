/**
 * `npm run bench -- kafka`: the same records (16-byte keys, 100-byte values)
 * through an agent's two doors, in one run against one agent process
 * (`streamhouse serve`, directory + SQLite, no write-ahead log):
 * - `grpc`: our RxJS Producer and Consumer on the gRPC port;
 * - `kafka`: KafkaJS 2.2's producer and consumer on the Kafka port.
 * Produce: RECORDS records over PARTITIONS partitions, durable acks (acks=-1),
 * batches of BATCH_RECORDS records a partition on both paths, as many batches
 * of a partition in flight on both (our producer's 5 a partition; KafkaJS
 * sends BATCH_RECORDS × PARTITIONS messages a call, IN_FLIGHT calls at a time).
 * Consume: every record of a topic our producer wrote (on both paths, so both
 * read the same segment layout) from the earliest offset (KafkaJS in a
 * group of one, eachBatch; its figures count from the moment it has joined the
 * group, as our consumer has an assignment and no group to join). The agent's
 * CPU per record (from /proc, 10 ms ticks) is the figure to compare: the
 * clients differ, the agent's work should not. Records per segment the agent
 * wrote are printed for produce: a slower client leaves fewer records per
 * flush, and each flush costs the agent a file and a metadata commit.
 *
 * Rows: `{ system: 'grpc' | 'kafka', workload: 'produce-100B' | 'consume-100B', metric, unit }`.
 * Env: RECORDS (default 500 000), PARTITIONS (4), BATCH_RECORDS (1000), IN_FLIGHT (5), RUNS (3; each
 * figure's median over the runs is reported, after one uncounted warm-up), ONLY (grpc or kafka: that path
 * alone), AGENT_CPU_PROF=<dir> to profile the agent.
 */
import { readdir } from 'node:fs/promises';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { connectAgent } from '../../src/client/agentClient.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';
import { createProducer } from '../../src/client/producer/producer.js';
import { OffsetSpec } from '../../src/protocol/generated/streamhouse.js';
import { startAgentProcess, type AgentProcess } from '../lib/agentProcess.js';
import { progress } from '../lib/progress.js';
import { throughputRows, writeResults, type ResultRow } from '../lib/results.js';

const RECORDS = Number(process.env['RECORDS'] ?? 500_000);
const PARTITIONS = Number(process.env['PARTITIONS'] ?? 4);
const BATCH_RECORDS = Number(process.env['BATCH_RECORDS'] ?? 1000);
const IN_FLIGHT = Number(process.env['IN_FLIGHT'] ?? 5);
const RUNS = Number(process.env['RUNS'] ?? 3);
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const value = Buffer.alloc(VALUE_BYTES, 'v');
const keys = Array.from({ length: 1024 }, (_, i) => Buffer.from(`key-${String(i).padStart(KEY_BYTES - 4, '0')}`));

type Path = 'grpc' | 'kafka';
type Run = { seconds: number; agentCpuSeconds: number; clientCpuMicros: number };
type Bar = {
  tick(n: number): void /** Starts the figures again from now (after a client's set-up). */;
  restart(): void;
};

const ONLY = process.env['ONLY'];
const agentProfile = process.env['AGENT_CPU_PROF'];
const agent = await startAgentProcess(
  ['--no-wal', '--kafka-port', '0'],
  agentProfile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', agentProfile],
);
const kafka = new Kafka({ clientId: 'bench', brokers: [agent.kafkaAddress!], logLevel: logLevel.NOTHING });
const admin = connectAgent(agent.address);
const rows: ResultRow[] = [];
let topics = 0;
const quiet: Bar = { tick() {}, restart() {} };
try {
  for (const path of (['grpc', 'kafka'] as const).filter((p) => ONLY === undefined || p === ONLY)) {
    const produced: Run[] = [];
    const consumed: Run[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const topic = await createTopic(`bench-${path}-${++topics}`);
      const label = run === 0 ? 'warm-up' : `run ${run}/${RUNS}`;
      const p = await measure(agent, `${path} produce ${label}`, (bar) =>
        path === 'grpc' ? produceGrpc(topic, bar) : produceKafka(topic, bar),
      );
      await expectStored(topic);
      console.log(`${path} produce ${label}: ${Math.round(RECORDS / (await segments(topic)))} records per segment`);
      // Both consumers read segments our producer wrote: the layout (records per segment) is then the same.
      let readTopic = topic;
      if (path === 'kafka') await produceGrpc((readTopic = await createTopic(`${topic}-read`)), quiet);
      const c = await measure(agent, `${path} consume ${label}`, (bar) =>
        path === 'grpc' ? consumeGrpc(readTopic, bar) : consumeKafka(readTopic, bar),
      );
      if (run > 0) {
        produced.push(p);
        consumed.push(c);
      }
    }
    rows.push(...runRows(path, 'produce-100B', median(produced)), ...runRows(path, 'consume-100B', median(consumed)));
  }
} finally {
  admin.close();
  await agent.stop();
}
await writeResults('kafka', rows);

/** Runs `work` and measures its wall time and the CPU the agent and this process spent. */
async function measure(agent: AgentProcess, label: string, work: (bar: Bar) => Promise<void>): Promise<Run> {
  const shown = progress(label, RECORDS);
  let agentBefore = agent.cpuSeconds();
  let clientBefore = process.cpuUsage();
  let started = performance.now();
  const bar: Bar = {
    tick: (n) => shown.tick(n),
    restart() {
      agentBefore = agent.cpuSeconds();
      clientBefore = process.cpuUsage();
      started = performance.now();
    },
  };
  await work(bar);
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const agentCpuSeconds = agent.cpuSeconds() - agentBefore;
  shown.stop();
  console.log(
    `${label}: ${Math.round(RECORDS / seconds).toLocaleString('en-US')} records/s; CPU per record: ` +
      `agent ${((agentCpuSeconds * 1e6) / RECORDS).toFixed(2)} µs, ` +
      `client ${((client.user + client.system) / RECORDS).toFixed(2)} µs`,
  );
  return { seconds, agentCpuSeconds, clientCpuMicros: client.user + client.system };
}

/** Each figure's median over the runs, taken separately: the agent's CPU varies apart from the wall time. */
function median(runs: Run[]): Run {
  const mid = (by: (r: Run) => number): number =>
    by([...runs].sort((a, b) => by(a) - by(b))[Math.floor(runs.length / 2)]!);
  return {
    seconds: mid((r) => r.seconds),
    agentCpuSeconds: mid((r) => r.agentCpuSeconds),
    clientCpuMicros: mid((r) => r.clientCpuMicros),
  };
}

function runRows(system: Path, workload: string, run: Run): ResultRow[] {
  return [
    ...throughputRows(system, workload, RECORDS, RECORDS * (KEY_BYTES + VALUE_BYTES), run.seconds),
    { system, workload, metric: 'agent-cpu', value: (run.agentCpuSeconds * 1e6) / RECORDS, unit: 'µs/record' },
    { system, workload, metric: 'client-cpu', value: run.clientCpuMicros / RECORDS, unit: 'µs/record' },
  ];
}

async function produceGrpc(topic: string, bar: Bar): Promise<void> {
  const producer = await createProducer({
    bootstrap: [agent.address],
    batchRecords: BATCH_RECORDS,
    batchBytes: 1024 * 1024,
    maxBufferedBytes: 64 * 1024 * 1024,
    acks: 'durable',
  });
  for (let i = 0; i < RECORDS; i++) {
    const record = { topic, key: keys[i & 1023]!, value };
    if (producer.trySend(record) === undefined) await producer.send(record);
    if (i % BATCH_RECORDS === 0) {
      bar.tick(BATCH_RECORDS);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await producer.flush();
  const acked = producer.metrics().recordsAcked;
  await producer.close();
  if (acked !== RECORDS) throw new Error(`gRPC: only ${acked} of ${RECORDS} records acknowledged`);
}

async function produceKafka(topic: string, bar: Bar): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const perCall = BATCH_RECORDS * PARTITIONS;
  let next = 0;
  let acked = 0;
  const worker = async () => {
    while (next < RECORDS) {
      const first = next;
      const count = Math.min(perCall, RECORDS - first);
      next += count;
      const messages = Array.from({ length: count }, (_, i) => ({
        key: keys[(first + i) & 1023]!,
        value,
        partition: (first + i) % PARTITIONS,
      }));
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      acked += count;
      bar.tick(count);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await producer.disconnect();
  if (acked !== RECORDS) throw new Error(`Kafka: only ${acked} of ${RECORDS} records acknowledged`);
}

async function consumeGrpc(topic: string, bar: Bar): Promise<void> {
  const consumer = createConsumer({
    bootstrap: [agent.address],
    assignment: Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
    resetStrategy: { type: 'earliest' },
    maxPartitionFetchBytes: 1024 * 1024,
  });
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const subscription = consumer.batches$.subscribe({
      next: (batch) => {
        count += batch.records.length;
        bar.tick(batch.records.length);
        if (count >= RECORDS) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  await consumer.close();
}

async function consumeKafka(topic: string, bar: Bar): Promise<void> {
  const consumer = kafka.consumer({ groupId: `${topic}-group`, maxBytesPerPartition: 1024 * 1024 });
  consumer.on(consumer.events.GROUP_JOIN, () => bar.restart());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          count += batch.messages.length;
          bar.tick(batch.messages.length);
          if (count >= RECORDS) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

async function createTopic(name: string): Promise<string> {
  await admin.client.createTopic({
    name,
    partitions: PARTITIONS,
    config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 8 * 1024 * 1024 },
  });
  return name;
}

/** Throws unless the topic holds exactly RECORDS records (a client's retry would store some twice). */
async function expectStored(topic: string): Promise<void> {
  const { results } = await admin.client.listOffsets({
    partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
      topic,
      partition,
      spec: OffsetSpec.OFFSET_SPEC_LATEST,
      timestampMs: 0,
    })),
  });
  const stored = results.reduce((sum, r) => sum + r.offset, 0);
  if (stored !== RECORDS) throw new Error(`${topic} holds ${stored} records, not ${RECORDS}`);
}

/** Segments the agent wrote for `topic` (one a partition per flush). */
async function segments(topic: string): Promise<number> {
  const files = await readdir(agent.dataDir, { recursive: true });
  return files.filter((f) => f.includes(`topics/${topic}/`) && f.endsWith('.seg')).length;
}
