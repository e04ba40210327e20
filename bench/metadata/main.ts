/**
 * `npm run bench -- metadata`: how fast each metadata backend registers
 * segments (the commit that acknowledges a durable produce), then the
 * object-store benchmark (objectStores.ts). Writes bench/results/metadata.json.
 *
 * Workloads, each bounded by a commit count and a time limit:
 * - `commit-1p`: one partition, commits one after another (one agent, one hot partition);
 * - `commit-8p`: eight partitions, one committer each, all at once (one agent, many partitions).
 * Each commit registers a 1000-offset segment and one producer state, as a
 * PartitionWriter flush would. SQLite runs with its default `synchronous`
 * FULL (an fsync per commit); Redis with its server's own persistence settings.
 *
 * Rows: `{ system: 'metadata:sqlite' | 'metadata:redis', workload: 'commit-1p' | 'commit-8p',
 * metric: 'throughput' | 'p50' | 'p99', value, unit: 'commits/s' | 'ms' }`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { deleteKeysWithPrefix } from '../../src/metadata/redis/redisKeys.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { LatencyRecorder } from '../lib/latency.js';
import { progress } from '../lib/progress.js';
import { writeResults, type ResultRow } from '../lib/results.js';
import { benchObjectStores } from './objectStores.js';

/** Most commits per workload (shared by its partitions). */
const MAX_COMMITS = 4000;
/** A workload stops after this long even when commits remain, s. */
const MAX_SECONDS = 10;
const RECORDS_PER_SEGMENT = 1000;
const TOPIC = 'bench';

type Workload = { name: 'commit-1p' | 'commit-8p'; partitions: number };
const WORKLOADS: Workload[] = [
  { name: 'commit-1p', partitions: 1 },
  { name: 'commit-8p', partitions: 8 },
];

/** One backend: opens a fresh, empty store and disposes of it with its data. */
type System = {
  name: 'metadata:sqlite' | 'metadata:redis';
  open(): Promise<{ store: MetadataStore; dispose(): Promise<void> }>;
};

const SYSTEMS: System[] = [
  {
    name: 'metadata:sqlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'sh-bench-metadata-'));
      const store = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
      return {
        store,
        dispose: async () => {
          await store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'metadata:redis',
    async open() {
      const keyPrefix = `sh-bench:${process.pid}:${randomBytes(4).toString('hex')}:`;
      const store = new RedisMetadataStore({ keyPrefix });
      return {
        store,
        dispose: async () => {
          await deleteKeysWithPrefix(store.client, keyPrefix);
          await store.close();
        },
      };
    },
  },
];

/** Commits segments to one partition until `budget` runs out or time is up; records each latency. */
async function commitLoop(
  store: MetadataStore,
  partition: number,
  budget: { remaining: number; deadline: number },
  latency: LatencyRecorder,
  tick: () => void,
): Promise<number> {
  const { epoch } = await store.acquireLease(TOPIC, partition, 'bench-agent', 600_000);
  let hwm = 0;
  let commits = 0;
  while (budget.remaining > 0 && performance.now() < budget.deadline) {
    budget.remaining--;
    const end = hwm + RECORDS_PER_SEGMENT;
    const started = performance.now();
    hwm = await store.commitSegment({
      topic: TOPIC,
      partition,
      epoch,
      expectedHighWatermark: hwm,
      segment: {
        key: `topics/${TOPIC}/${partition}/${String(hwm).padStart(20, '0')}.seg`,
        baseOffset: hwm,
        endOffset: end,
        sizeBytes: 100 * RECORDS_PER_SEGMENT,
        minTimestamp: Date.now(),
        maxTimestamp: Date.now(),
        createdAt: Date.now(),
      },
      producers: [
        {
          producerId: 1,
          producerEpoch: 0,
          lastSequence: end - 1,
          lastBaseOffset: hwm,
          lastRecordCount: RECORDS_PER_SEGMENT,
        },
      ],
    });
    latency.record(performance.now() - started);
    commits++;
    tick();
  }
  return commits;
}

async function runWorkload(system: System, workload: Workload): Promise<ResultRow[]> {
  const { store, dispose } = await system.open();
  try {
    await store.createTopic(TOPIC, workload.partitions);
    const latency = new LatencyRecorder();
    const bar = progress(`${system.name} ${workload.name}`, MAX_COMMITS);
    const budget = { remaining: MAX_COMMITS, deadline: performance.now() + MAX_SECONDS * 1000 };
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: workload.partitions }, (_, partition) =>
        commitLoop(store, partition, budget, latency, () => bar.tick()),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    bar.stop();
    const commits = counts.reduce((sum, n) => sum + n, 0);
    return [
      {
        system: system.name,
        workload: workload.name,
        metric: 'throughput',
        value: commits / seconds,
        unit: 'commits/s',
      },
      { system: system.name, workload: workload.name, metric: 'p50', value: latency.percentile(50), unit: 'ms' },
      { system: system.name, workload: workload.name, metric: 'p99', value: latency.percentile(99), unit: 'ms' },
    ];
  } finally {
    await dispose();
  }
}

/** Runs every metadata workload on every backend. */
export async function benchMetadataStores(): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const system of SYSTEMS) {
    for (const workload of WORKLOADS) rows.push(...(await runWorkload(system, workload)));
  }
  return rows;
}

const rows = [...(await benchMetadataStores()), ...(await benchObjectStores())];
await writeResults('metadata', rows);
