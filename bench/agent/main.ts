/**
 * `npm run bench -- agent`: produce throughput of one agent with durable acks.
 *
 * An agent is started in-process on 127.0.0.1:0 over a temp directory object
 * store and (a) a SQLite file (`synchronous` FULL, the embedded default) or
 * (b) a Redis prefix (with the high-watermark relay connected, as `serve`
 * does). Ready-made batches go to it over gRPC with no client library: one
 * RecordBatch of 1000 records (16-byte keys, 100-byte values) is encoded once
 * and sent again and again. That is sound because the agent stamps offsets into
 * its own copy: protobufjs decodes every request into a fresh buffer, and the
 * stamped header fields lie outside the CRC.
 *
 * `CONCURRENCY` requests are kept in flight over `PARTITIONS` partitions (one
 * partition batch per request), each answered once its batch is in a segment
 * object and the segment is registered. A run stops after `MAX_RECORDS` or
 * `SECONDS`, whichever comes first, after a short warm-up that is not counted.
 * Maintenance (compaction, retention) is off so that only the produce path is
 * measured. Client and agent share this process (and its cores).
 *
 * Rows: `{ system: 'streamhouse:sqlite' | 'streamhouse:redis', workload: 'produce-100B-batch1000',
 * metric: 'throughput' (records/s, MB/s of batch bytes) | 'p50' | 'p99' | 'p999' (ack latency, ms) }`.
 * Env: AGENT_BENCH_SECONDS (default 10), AGENT_BENCH_RECORDS (default 3 000 000),
 * AGENT_BENCH_CONCURRENCY (default 8), AGENT_BENCH_SYSTEMS (comma list, default both).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { connectAgent, type AgentConnection } from '../../src/client/agentClient.js';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { deleteKeysWithPrefix } from '../../src/metadata/redis/redisKeys.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { fromErrorInfo } from '../../src/protocol/errors.js';
import { encodeRecordBatch, type RecordInput } from '../../src/protocol/codec/recordBatch.js';
import { LatencyRecorder } from '../lib/latency.js';
import { progress } from '../lib/progress.js';
import { throughputRows, writeResults, type ResultRow } from '../lib/results.js';

const SECONDS = Number(process.env.AGENT_BENCH_SECONDS ?? 10);
const MAX_RECORDS = Number(process.env.AGENT_BENCH_RECORDS ?? 3_000_000);
const CONCURRENCY = Number(process.env.AGENT_BENCH_CONCURRENCY ?? 8);
const PARTITIONS = 4;
const BATCH_RECORDS = 1000;
const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const WARMUP_REQUESTS = 40;
const TOPIC = 'bench';
const WORKLOAD = 'produce-100B-batch1000';

type SystemName = 'streamhouse:sqlite' | 'streamhouse:redis';

/** One configuration: its metadata store, and how to dispose of the data afterwards. */
type System = {
  name: SystemName;
  open(dir: string): {
    store: MetadataStore;
    relay?: { store: RedisMetadataStore; prefix: string };
    dispose(): Promise<void>;
  };
};

const SYSTEMS: System[] = [
  {
    name: 'streamhouse:sqlite',
    open(dir) {
      const store = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'streamhouse:redis',
    open() {
      const prefix = `sh-bench:${process.pid}:${randomBytes(4).toString('hex')}:`;
      const store = new RedisMetadataStore({ keyPrefix: prefix });
      return {
        store,
        relay: { store, prefix },
        dispose: async () => {
          await deleteKeysWithPrefix(store.client, prefix);
          await store.close();
        },
      };
    },
  },
];

/** Keys `key-<n>` padded to 16 bytes, values JSON-like text padded to 100 bytes. */
function benchRecords(): RecordInput[] {
  const timestamp = Date.now();
  return Array.from({ length: BATCH_RECORDS }, (_, i) => ({
    key: Buffer.from(`key-${i}`.padEnd(KEY_BYTES, '.')),
    value: Buffer.from(
      JSON.stringify({ id: i, user: `user-${(i * 7919) % 1000}`, amount: (i * 31) % 997 })
        .padEnd(VALUE_BYTES, ' ')
        .slice(0, VALUE_BYTES),
    ),
    timestamp,
  }));
}

/** Sends one batch; throws the partition's error. */
async function send(connection: AgentConnection, partition: number, batch: Buffer): Promise<void> {
  const { results } = await connection.client.produce({
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: -1,
    producerEpoch: -1,
    timeoutMs: 0,
    partitions: [{ topic: TOPIC, partition, batch }],
  });
  const error = fromErrorInfo(results[0]?.error, { topic: TOPIC, partition });
  if (error !== undefined) throw error;
}

async function runSystem(system: System, batch: Buffer): Promise<ResultRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sh-bench-agent-'));
  const objectStore = new LocalDirectoryObjectStore({ root: join(dir, 'objects') });
  const opened = system.open(dir);
  let agent: Agent | undefined;
  let connection: AgentConnection | undefined;
  try {
    agent = await startAgent({
      objectStore,
      metadataStore: opened.store,
      host: '127.0.0.1',
      port: 0,
      maintenanceIntervalMs: 0,
    });
    if (opened.relay !== undefined)
      await agent.highWatermarks.connectRedis(opened.relay.store.client, opened.relay.prefix);
    connection = connectAgent(agent.address);
    await connection.client.createTopic({ name: TOPIC, partitions: PARTITIONS, config: undefined });
    const client = connection;
    await Promise.all(Array.from({ length: WARMUP_REQUESTS }, (_, i) => send(client, i % PARTITIONS, batch)));

    const totalRequests = Math.floor(MAX_RECORDS / BATCH_RECORDS);
    const bar = progress(`${system.name} ${WORKLOAD}`, totalRequests);
    const latency = new LatencyRecorder();
    let issued = 0;
    let done = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    // Each worker keeps one request in flight; worker w always writes partition w % PARTITIONS.
    const worker = async (w: number) => {
      while (issued < totalRequests && performance.now() < deadline) {
        issued++;
        const sent = performance.now();
        await send(client, w % PARTITIONS, batch);
        latency.record(performance.now() - sent);
        done++;
        bar.tick();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    const seconds = (performance.now() - started) / 1000;
    bar.stop();

    // Everything acknowledged is registered: the high watermarks add up.
    const partitions = await opened.store.listPartitions(TOPIC);
    const committed = partitions.reduce((sum, p) => sum + p.highWatermark, 0);
    const expected = (WARMUP_REQUESTS + done) * BATCH_RECORDS;
    if (committed !== expected)
      throw new Error(`${system.name}: ${committed} records committed, ${expected} acknowledged`);
    const objects = (await objectStore.list(`topics/${TOPIC}/`)).length;
    console.error(
      `${system.name}: ${done * BATCH_RECORDS} records in ${seconds.toFixed(2)} s, ${objects} objects ` +
        `(${((WARMUP_REQUESTS + done) / objects).toFixed(1)} batches per object)`,
    );
    return [
      ...throughputRows(system.name, WORKLOAD, done * BATCH_RECORDS, done * batch.length, seconds),
      ...latency.rows(system.name, WORKLOAD),
    ];
  } finally {
    connection?.close();
    await agent?.stop();
    await opened.dispose();
    await objectStore.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const wanted = process.env.AGENT_BENCH_SYSTEMS?.split(',');
const batch = encodeRecordBatch(benchRecords());
console.error(
  `batch: ${BATCH_RECORDS} records, ${batch.length} bytes; ${CONCURRENCY} requests in flight over ${PARTITIONS} ` +
    `partitions`,
);
const rows: ResultRow[] = [];
for (const system of SYSTEMS) {
  if (wanted === undefined || wanted.includes(system.name)) rows.push(...(await runSystem(system, batch)));
}
await writeResults('agent', rows);
