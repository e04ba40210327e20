/**
 * `npm run bench -- consumer`: how fast the Consumer reads, and how long a
 * record takes from produce to delivery.
 *
 * One agent runs as its own process (`streamhouse serve` on a free loopback
 * port over a temporary data directory: directory object store, SQLite
 * metadata, no write-ahead log, no maintenance), as in a deployment: consumer
 * and agent each have an event loop (and, on a 2-core host, a core) of their
 * own. `RECORDS` records (16-byte keys, 100-byte values) are
 * stored first with direct Produce calls (one RecordBatch of `BATCH_RECORDS`
 * records per request, durable acks) over `PARTITIONS` partitions, then read
 * back with the Consumer (manual assignment, from the earliest offset):
 * - `consume-records$`: every record through `records$`;
 * - `consume-batches$`: every batch through `batches$`, records counted.
 * The clock runs from subscribing until the last record arrives; each read
 * runs `RUNS` times after one uncounted warm-up read, and the median is reported. MB/s counts key + value
 * bytes (116 per record). The CPU seconds printed are the consumer's process's
 * and the agent's (from /proc, 10 ms ticks), also per record.
 *
 * Latency (`e2e-latency`): while a consumer waits on `records$` at the end of
 * a second topic, single-record batches carrying their send time
 * (`performance.now()` in the first 8 value bytes) are produced every
 * `TRICKLE_INTERVAL_MS`; latency = delivery time - send time (durable
 * produce + long-poll wake-up + fetch + decode); `produce-ack-latency` is
 * the durable produce's share, send to acknowledgement.
 *
 * TLS (`-tls` workloads; `CONSUMER_BENCH_TLS=0` skips them): a second agent process serves with
 * `--tls-cert/--tls-key` (a CA and server certificate made with openssl at start), holds the same records, and
 * the clients connect with `tls: { ca, servername }`. Reads alternate between the two agents (plain 1, TLS 1,
 * plain 2, ...), so both see the same machine load.
 *
 * Rows: `{ system: 'streamhouse:sqlite', workload, metric: 'throughput' | 'p50' | 'p99' | 'p999' | 'client-cpu' |
 * 'agent-cpu', unit }`.
 * Env: CONSUMER_BENCH_RECORDS (default 1 000 000), CONSUMER_BENCH_PARTITIONS (4),
 * CONSUMER_BENCH_BATCH (10 000), CONSUMER_BENCH_LATENCY_RECORDS (2 000), CONSUMER_BENCH_RUNS (3),
 * CONSUMER_BENCH_FETCH_BYTES (maxPartitionFetchBytes, default 1 MiB),
 * CONSUMER_BENCH_PROFILE (a directory: writes a CPU profile of the consumer's
 * last read of each mode there, `consume-<mode>.cpuprofile`, and one of the
 * agent process's whole life, `CPU.<...>.cpuprofile`, for Chrome DevTools).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from 'rxjs';
import { connectAgent, type AgentConnection } from '../../src/client/agentClient.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';
import { fromErrorInfo } from '../../src/protocol/errors.js';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { encodeRecordBatch, type RecordInput } from '../../src/protocol/codec/recordBatch.js';
import type { ClientTlsOptions } from '../../src/client/tlsOptions.js';
import { startAgentProcess, type AgentProcess } from '../lib/agentProcess.js';
import { makeBenchCertificates } from '../lib/benchCertificates.js';
import { LatencyRecorder } from '../lib/latency.js';
import { progress } from '../lib/progress.js';
import { throughputRows, writeResults, type ResultRow } from '../lib/results.js';

const RECORDS = Number(process.env.CONSUMER_BENCH_RECORDS ?? 1_000_000);
const PARTITIONS = Number(process.env.CONSUMER_BENCH_PARTITIONS ?? 4);
const BATCH_RECORDS = Number(process.env.CONSUMER_BENCH_BATCH ?? 10_000);
const LATENCY_RECORDS = Number(process.env.CONSUMER_BENCH_LATENCY_RECORDS ?? 2_000);
const TRICKLE_INTERVAL_MS = 2;
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const PRODUCE_CONCURRENCY = 4;
const PROFILE_DIR = process.env.CONSUMER_BENCH_PROFILE;
/** Each read is repeated; the median run is reported (the machine is shared, single runs are noisy). */
const RUNS = Number(process.env.CONSUMER_BENCH_RUNS ?? 3);
const FETCH_BYTES = Number(process.env.CONSUMER_BENCH_FETCH_BYTES ?? 1024 * 1024);
const SYSTEM = 'streamhouse:sqlite';

/** One agent under test: the plaintext one (suffix ''), or the TLS one (suffix '-tls') with the clients' `tls`. */
type Target = { agent: AgentProcess; connection: AgentConnection; suffix: string; tls: ClientTlsOptions | undefined };

/** One batch's records: keys `key-<n>` padded to 16 bytes, 100-byte values. */
function makeRecords(count: number, first: number): RecordInput[] {
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${first + i}`.padEnd(KEY_BYTES, '.').slice(0, KEY_BYTES)),
    value,
    timestamp: now,
  }));
}

async function produce(connection: AgentConnection, topic: string, partition: number, batch: Buffer): Promise<void> {
  const { results } = await connection.client.produce({
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: -1,
    producerEpoch: -1,
    timeoutMs: 0,
    partitions: [{ topic, partition, batch }],
  });
  const error = fromErrorInfo(results[0]?.error, { topic, partition });
  if (error !== undefined) throw error;
}

/** Stores `RECORDS` records over the partitions, `PRODUCE_CONCURRENCY` requests in flight. */
async function fill(connection: AgentConnection, topic: string): Promise<void> {
  const batches = Math.ceil(RECORDS / BATCH_RECORDS);
  const bar = progress('storing records', batches);
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      const index = next++;
      const count = Math.min(BATCH_RECORDS, RECORDS - index * BATCH_RECORDS);
      await produce(
        connection,
        topic,
        index % PARTITIONS,
        encodeRecordBatch(makeRecords(count, index * BATCH_RECORDS)),
      );
      bar.tick();
    }
  };
  await Promise.all(Array.from({ length: PRODUCE_CONCURRENCY }, worker));
  bar.stop();
}

/**
 * Reads everything once to warm up (not counted: the first read also pays
 * for compiling the decoding paths, which a long-running consumer pays once),
 * then `RUNS` times through `records$` or `batches$`; rows of the median run.
 */
async function consumeAll(targets: Target[], topic: string, mode: 'records$' | 'batches$'): Promise<ResultRow[]> {
  console.log(`${mode}: warm-up read (not counted)`);
  for (const target of targets) await consumeOnce(target, topic, mode, false);
  const runs = targets.map(() => [] as { seconds: number; rows: ResultRow[] }[]);
  for (let run = 0; run < RUNS; run++)
    for (const [i, target] of targets.entries())
      runs[i]!.push(await consumeOnce(target, topic, mode, run === RUNS - 1));
  return runs.flatMap((targetRuns) => {
    targetRuns.sort((x, y) => x.seconds - y.seconds);
    return targetRuns[Math.floor(RUNS / 2)]!.rows;
  });
}

/** Reads `RECORDS` records once; profiles the run when asked and CONSUMER_BENCH_PROFILE is set. */
async function consumeOnce(
  { agent, suffix, tls }: Target,
  topic: string,
  mode: 'records$' | 'batches$',
  profile: boolean,
): Promise<{ seconds: number; rows: ResultRow[] }> {
  const workload = `consume-${mode}${suffix}`;
  const consumer = createConsumer({
    bootstrap: [agent.address],
    tls,
    assignment: Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
    resetStrategy: { type: 'earliest' },
    maxPartitionFetchBytes: FETCH_BYTES,
    fetchMaxBytes: Math.max(FETCH_BYTES * PARTITIONS, 16 * 1024 * 1024),
  });
  let count = 0;
  let bytes = 0;
  const profiler = PROFILE_DIR === undefined || !profile ? undefined : await startProfiler();
  const cpuBefore = process.cpuUsage();
  const agentCpuBefore = agent.cpuSeconds();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let subscription: Subscription | undefined;
    const finish = () => {
      subscription?.unsubscribe();
      resolve();
    };
    if (mode === 'records$') {
      subscription = consumer.records$.subscribe({
        next: (record) => {
          bytes += record.key!.length + record.value!.length;
          if (++count === RECORDS) finish();
        },
        error: reject,
      });
    } else {
      subscription = consumer.batches$.subscribe({
        next: (batch) => {
          for (const record of batch.records) bytes += record.key!.length + record.value!.length;
          count += batch.records.length;
          if (count >= RECORDS) finish();
        },
        error: reject,
      });
    }
    if (count >= RECORDS) finish();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const agentCpu = agent.cpuSeconds() - agentCpuBefore;
  if (profiler !== undefined) await profiler.stop(join(PROFILE_DIR!, `${workload}.cpuprofile`));
  await consumer.close();
  console.log(
    `${workload}: ${Math.round(count / seconds).toLocaleString('en-US')} records/s, ` +
      `${(bytes / seconds / 1e6).toFixed(1)} MB/s ` +
      `in ${seconds.toFixed(2)} s (${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s in the consumer's process, ` +
      `${agentCpu.toFixed(2)} in the agent's; ` +
      // per record: what matters on a shared 2-core host, where wall time varies with other load
      `${((cpu.user + cpu.system) / count).toFixed(3)} + ${((agentCpu * 1e6) / count).toFixed(3)} CPU µs/record)`,
  );
  const cpuRows: ResultRow[] = [
    { system: SYSTEM, workload, metric: 'client-cpu', value: (cpu.user + cpu.system) / count, unit: 'µs/record' },
    { system: SYSTEM, workload, metric: 'agent-cpu', value: (agentCpu * 1e6) / count, unit: 'µs/record' },
  ];
  return { seconds, rows: [...throughputRows(SYSTEM, workload, count, bytes, seconds), ...cpuRows] };
}

/** Profiles this process (the consumer's) until `stop` writes the profile to `path`. */
async function startProfiler(): Promise<{ stop(path: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(PROFILE_DIR!, { recursive: true });
      await writeFile(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * Produces single records carrying their send time (performance.now(), in
 * the value) while a consumer waits at the end of the topic; records the
 * delivery delay of each.
 */
async function latency({ agent, connection, suffix, tls }: Target, topic: string): Promise<ResultRow[]> {
  const consumer = createConsumer({
    bootstrap: [agent.address],
    tls,
    assignment: [{ topic, partition: 0 }],
    resetStrategy: { type: 'latest' },
    fetchMaxWaitMs: 500,
  });
  const recorder = new LatencyRecorder();
  const acks = new LatencyRecorder();
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    const subscription: Subscription = consumer.records$.subscribe({
      next: (record) => {
        const sentAt = Buffer.from(record.value!.buffer, record.value!.byteOffset, 8).readDoubleLE(0);
        recorder.record(performance.now() - sentAt);
        if (++received === LATENCY_RECORDS) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  while (consumer.position(topic, 0) === undefined) await sleep(5);
  const bar = progress('latency trickle', LATENCY_RECORDS);
  const key = Buffer.alloc(KEY_BYTES, 'k');
  for (let i = 0; i < LATENCY_RECORDS; i++) {
    const value = Buffer.alloc(VALUE_BYTES, 'v');
    const sentAt = performance.now();
    value.writeDoubleLE(sentAt, 0);
    await produce(connection, topic, 0, encodeRecordBatch([{ key, value, timestamp: Date.now() }]));
    acks.record(performance.now() - sentAt);
    bar.tick();
    await sleep(TRICKLE_INTERVAL_MS);
  }
  await done;
  bar.stop();
  await consumer.close();
  console.log(
    `e2e latency${suffix}: p50 ${recorder.percentile(50).toFixed(2)} ms, p99 ${recorder.percentile(99).toFixed(2)} ms`,
  );
  console.log(
    `of which the durable produce ack: p50 ${acks.percentile(50).toFixed(2)} ms, ` +
      `p99 ${acks.percentile(99).toFixed(2)} ms`,
  );
  return [...recorder.rows(SYSTEM, `e2e-latency${suffix}`), ...acks.rows(SYSTEM, `produce-ack-latency${suffix}`)];
}

// The agent's profile (--cpu-prof) is written when it exits.
const agentNodeArgs = PROFILE_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR];
const agentArgs = ['--no-wal', '--maintenance-interval-ms', '0'];
const agent = await startAgentProcess(agentArgs, agentNodeArgs);
const targets: Target[] = [{ agent, connection: connectAgent(agent.address), suffix: '', tls: undefined }];
const certificates = process.env.CONSUMER_BENCH_TLS === '0' ? undefined : makeBenchCertificates();
try {
  if (certificates !== undefined) {
    const tlsAgent = await startAgentProcess([...agentArgs, ...certificates.agentArgs]);
    const connection = connectAgent(tlsAgent.address, { tls: certificates.clientTls });
    targets.push({ agent: tlsAgent, connection, suffix: '-tls', tls: certificates.clientTls });
  }
  // big batches (about 1.2 MB) need a larger message limit than the 1 MiB default
  const config = { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 16 * 1024 * 1024 };
  for (const { connection } of targets) {
    await connection.client.createTopic({ name: 'bench', partitions: PARTITIONS, config });
    await connection.client.createTopic({ name: 'latency', partitions: 1, config: undefined });
    await fill(connection, 'bench');
  }
  const rows: ResultRow[] = [];
  rows.push(...(await consumeAll(targets, 'bench', 'records$')));
  rows.push(...(await consumeAll(targets, 'bench', 'batches$')));
  for (const target of targets) rows.push(...(await latency(target, 'latency')));
  await writeResults('consumer', rows);
} finally {
  for (const target of targets) {
    target.connection.close();
    await target.agent.stop();
  }
  certificates?.remove();
}
