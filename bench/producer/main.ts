/**
 * `npm run bench -- producer`: the full RxJS Producer pipeline against one
 * agent process on the embedded stores (directory + SQLite), durable acks,
 * 100-byte values with 16-byte keys. Prints and writes records/s, MB/s and
 * ack latency percentiles (sampled records, send → acknowledgement) at full
 * speed, then ack latency at a steady rate the pipeline keeps up with.
 *
 * Uncounted warm-up runs come first (WARMUP_RUNS, default 1): the first run
 * in a process also compiles the hot paths and grows the heap and the
 * producer's batch buffers, and ran 20-40 % slower than the later ones. Both
 * processes keep getting faster for about 8 M records (V8 settles its heap
 * sizes and re-optimises the gRPC call path once per fresh producer), so
 * WARMUP_RUNS=4 measures the steady state of a long-running producer.
 *
 * Env: RUNS (saturated runs, each with a fresh producer; the median is reported; default 3), WARMUP_RUNS (1), RECORDS
 * (default 2,000,000), PARTITIONS (4), BATCH_BYTES (1 MiB), LINGER_MS (5), IN_FLIGHT (5 per partition),
 * PACED_RATE (records/s of the steady-rate latency run, 20,000), AGENT_CPU_PROF=<dir> to profile the agent too,
 * AGENT_ARGS (more `serve` flags, space-separated: `--no-http` measures the agent without its metrics),
 * TLS (`0` skips the TLS run).
 *
 * TLS run (`producer-100B-tls`): a second agent process serves with `--tls-cert/--tls-key` (a CA and server
 * certificate made with openssl at start), the producer connects with `tls: { ca, servername }`. Its saturated
 * runs alternate with the plaintext ones (plain 1, TLS 1, plain 2, ...), so both see the same machine load.
 */
import { connectAgent } from '../../src/client/agentClient.js';
import { createProducer } from '../../src/client/producer/producer.js';
import type { ClientTlsOptions } from '../../src/client/tlsOptions.js';
import { startAgentProcess, type AgentProcess } from '../lib/agentProcess.js';
import { makeBenchCertificates } from '../lib/benchCertificates.js';
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
const PACED_RATE = Number(process.env['PACED_RATE'] ?? 20_000);
const PACED_SECONDS = 3;
const RUNS = Number(process.env['RUNS'] ?? 3);
const WARMUP_RUNS = Number(process.env['WARMUP_RUNS'] ?? 1);
const value = Buffer.alloc(VALUE_BYTES, 'v');
const keys = Array.from({ length: 1024 }, (_, i) => Buffer.from(`key-${String(i).padStart(KEY_BYTES - 4, '0')}`));

/** One agent under test: the plaintext one, or the TLS one with the clients' `tls` option. */
type Target = { agent: AgentProcess; workload: string; tls: ClientTlsOptions | undefined };

const agentProfile = process.env['AGENT_CPU_PROF'];
const agentArgs = ['--no-wal', ...(process.env['AGENT_ARGS']?.split(' ').filter((arg) => arg !== '') ?? [])];
const agentNodeArgs = agentProfile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', agentProfile];
const agent = await startAgentProcess(agentArgs, agentNodeArgs);
const certificates = process.env['TLS'] === '0' ? undefined : makeBenchCertificates();
const tlsAgent =
  certificates === undefined ? undefined : await startAgentProcess([...agentArgs, ...certificates.agentArgs]);
const targets: Target[] = [{ agent, workload: 'producer-100B', tls: undefined }];
if (tlsAgent !== undefined)
  targets.push({ agent: tlsAgent, workload: 'producer-100B-tls', tls: certificates?.clientTls });
const rows: ResultRow[] = [];
try {
  for (const target of targets) {
    const admin = connectAgent(target.agent.address, { tls: target.tls });
    await admin.client.createTopic({
      name: 'bench',
      partitions: PARTITIONS,
      config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 8 * 1024 * 1024 },
    });
    admin.close();
  }

  // Saturated runs, each with a fresh producer, alternating between the targets; the median run (by throughput)
  // of each is reported.
  for (let warmUp = 0; warmUp < WARMUP_RUNS; warmUp++) for (const target of targets) await saturatedRun(target, 0);
  const runs = targets.map(() => [] as Array<{ recordsPerSecond: number; rows: ResultRow[] }>);
  for (let run = 1; run <= RUNS; run++)
    for (const [i, target] of targets.entries()) runs[i]!.push(await saturatedRun(target, run));
  for (const targetRuns of runs) {
    targetRuns.sort((x, y) => x.recordsPerSecond - y.recordsPerSecond);
    rows.push(...targetRuns[Math.floor(targetRuns.length / 2)]!.rows);
  }

  // Ack latency at a steady rate the pipeline keeps up with: what an application sees in normal operation.
  const paced = await createProducer({ bootstrap: [agent.address], lingerMs: LINGER_MS });
  const pacedLatency = new LatencyRecorder();
  const waits: Promise<void>[] = [];
  const pacedBar = progress(`producer-100B-paced-${PACED_RATE}/s`, PACED_SECONDS * 100);
  for (let tick = 0; tick < PACED_SECONDS * 100; tick++) {
    const due = performance.now() + 10;
    for (let i = 0; i < PACED_RATE / 100; i++) {
      const sentAt = performance.now();
      const result = await paced.send({ topic: 'bench', key: keys[i & 1023]!, value });
      waits.push(result.waitOffset().then(() => pacedLatency.record(performance.now() - sentAt)));
    }
    pacedBar.tick();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  await Promise.all(waits);
  pacedBar.stop();
  await paced.close();
  rows.push(...pacedLatency.rows('streamhouse', `producer-100B-paced-${PACED_RATE}`));
} finally {
  await agent.stop();
  await tlsAgent?.stop();
  certificates?.remove();
}
await writeResults('producer', rows);

/**
 * One saturated run (run 0: the warm-up): RECORDS records as fast as trySend/send take them, then flush. Rows of
 * throughput, ack latency and CPU per record.
 */
async function saturatedRun(
  { agent, workload, tls }: Target,
  run: number,
): Promise<{ recordsPerSecond: number; rows: ResultRow[] }> {
  const producer = await createProducer({
    bootstrap: [agent.address],
    tls,
    batchBytes: BATCH_BYTES,
    lingerMs: LINGER_MS,
    maxBufferedBytes: 64 * 1024 * 1024,
    maxInFlightPerPartition: IN_FLIGHT,
  });
  const latency = new LatencyRecorder();
  const bar = progress(run === 0 ? `${workload} warm-up` : `${workload} run ${run}/${RUNS}`, RECORDS);
  const started = performance.now();
  const clientCpuBefore = process.cpuUsage();
  const agentCpuBefore = agent.cpuSeconds();
  const sampled: Promise<void>[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const sentAt = i % SAMPLE_EVERY === 0 ? performance.now() : 0;
    const record = { topic: 'bench', key: keys[i & 1023]!, value };
    // trySend is send's synchronous fast path; send waits while the buffer is full.
    const result = producer.trySend(record) ?? (await producer.send(record));
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
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const agentCpuSeconds = agent.cpuSeconds() - agentCpuBefore;
  bar.stop();
  const metrics = producer.metrics();
  await producer.close();
  if (metrics.recordsAcked !== RECORDS)
    throw new Error(`only ${metrics.recordsAcked} of ${RECORDS} records acknowledged`);
  const rows: ResultRow[] = [];
  rows.push(...throughputRows('streamhouse', workload, RECORDS, RECORDS * (VALUE_BYTES + KEY_BYTES), seconds));
  // Saturated, the latency above is mostly time spent queued in the buffer.
  rows.push(...latency.rows('streamhouse', workload));
  // CPU per record, whatever else the machine runs: the client and the agent share its two cores.
  const clientMicros = (clientCpu.user + clientCpu.system) / RECORDS;
  const agentMicros = (agentCpuSeconds * 1e6) / RECORDS;
  rows.push(
    { system: 'streamhouse', workload, metric: 'client-cpu', value: clientMicros, unit: 'µs/record' },
    { system: 'streamhouse', workload, metric: 'agent-cpu', value: agentMicros, unit: 'µs/record' },
  );
  const recordsPerSecond = RECORDS / seconds;
  console.log(
    `${workload} ${run === 0 ? 'warm-up' : `run ${run}`}: ${RECORDS} records in ${seconds.toFixed(2)} s ` +
      `(${Math.round(recordsPerSecond).toLocaleString('en-US')} records/s), ${metrics.batchesSent} batches, ` +
      `${metrics.retries} retries; ` +
      `CPU per record: client ${clientMicros.toFixed(2)} µs, agent ${agentMicros.toFixed(2)} µs`,
  );
  return { recordsPerSecond, rows };
}
