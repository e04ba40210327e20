/**
 * Object-store throughput: put and get of 1 MiB and 64 KiB objects against a
 * local directory (fsync + rename per put) and S3 (s3rver on loopback, in its
 * own process), `concurrency` requests in flight. Each workload stops at
 * `maxBytesPerWorkload` or `maxSecondsPerWorkload`, whichever comes first;
 * gets read back the objects the put workload wrote.
 *
 * Rows: throughput in MB/s and objects/s, latency p50/p99/p999 in ms, e.g.
 * `{ system: 'object-store:local', workload: 'put-1MiB', metric: 'throughput', value, unit: 'MB/s' }`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';
import { startS3Server } from '../../spec/support/s3Server.js';
import { LatencyRecorder } from '../lib/latency.js';
import { progress } from '../lib/progress.js';
import type { ResultRow } from '../lib/results.js';

/** Options of {@link benchObjectStores}. */
export type ObjectStoreBenchOptions = {
  /** Stop a workload after this many bytes. Default 256 MiB. */
  maxBytesPerWorkload?: number;
  /** Stop a workload after this many seconds. Default 5. */
  maxSecondsPerWorkload?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Object sizes in bytes, each a workload pair. Default 1 MiB and 64 KiB. */
  objectSizes?: number[];
};

/** One backend under test. */
type System = { name: string; open(): Promise<{ store: ObjectStore; dispose(): Promise<void> }> };

const SYSTEMS: System[] = [
  {
    name: 'object-store:local',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'sh-bench-objects-'));
      const store = new LocalDirectoryObjectStore({ root: dir });
      return { store, dispose: () => store.close().finally(() => rm(dir, { recursive: true, force: true })) };
    },
  },
  {
    name: 'object-store:s3rver',
    async open() {
      const server = await startS3Server({ bucket: 'bench' });
      const store = new S3ObjectStore(server.storeOptions('bench'));
      return { store, dispose: () => store.close().finally(() => server.stop()) };
    },
  },
];

export async function benchObjectStores(options: ObjectStoreBenchOptions = {}): Promise<ResultRow[]> {
  const {
    maxBytesPerWorkload = 256 * 1024 * 1024,
    maxSecondsPerWorkload = 5,
    concurrency = 4,
    objectSizes = [1024 * 1024, 64 * 1024],
  } = options;
  const rows: ResultRow[] = [];
  for (const system of SYSTEMS) {
    const { store, dispose } = await system.open();
    try {
      for (const size of objectSizes) {
        const label = sizeLabel(size);
        const payload = randomBytes(size);
        const maxCount = Math.max(1, Math.floor(maxBytesPerWorkload / size));
        const keys: string[] = [];
        const put = await runWorkload(
          `${system.name} put-${label}`,
          maxCount,
          maxSecondsPerWorkload,
          concurrency,
          async (i) => {
            const key = `bench/${label}/${String(i).padStart(8, '0')}`;
            await store.put(key, payload);
            keys.push(key);
          },
        );
        rows.push(...workloadRows(system.name, `put-${label}`, put, size));
        const get = await runWorkload(
          `${system.name} get-${label}`,
          keys.length,
          maxSecondsPerWorkload,
          concurrency,
          async (i) => {
            const bytes = await store.get(keys[i]!);
            if (bytes.length !== size) throw new Error(`read ${bytes.length} bytes of ${keys[i]}, expected ${size}`);
          },
        );
        rows.push(...workloadRows(system.name, `get-${label}`, get, size));
      }
    } finally {
      await dispose();
    }
  }
  return rows;
}

/** What one workload measured. */
type WorkloadResult = { count: number; seconds: number; latency: LatencyRecorder };

/** Runs `operation(0..)` with `concurrency` in flight until `maxCount` are done or `maxSeconds` have passed. */
async function runWorkload(
  label: string,
  maxCount: number,
  maxSeconds: number,
  concurrency: number,
  operation: (index: number) => Promise<void>,
): Promise<WorkloadResult> {
  const latency = new LatencyRecorder();
  const bar = progress(label, maxCount);
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < maxCount && performance.now() < deadline) {
      const index = next++;
      const t0 = performance.now();
      await operation(index);
      latency.record(performance.now() - t0);
      done++;
      bar.tick();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, maxCount) }, worker));
  } finally {
    bar.stop();
  }
  return { count: done, seconds: (performance.now() - started) / 1000, latency };
}

function workloadRows(system: string, workload: string, result: WorkloadResult, size: number): ResultRow[] {
  return [
    { system, workload, metric: 'throughput', value: (result.count * size) / result.seconds / 1e6, unit: 'MB/s' },
    { system, workload, metric: 'throughput', value: result.count / result.seconds, unit: 'objects/s' },
    ...result.latency.rows(system, workload),
  ];
}

function sizeLabel(size: number): string {
  if (size % (1024 * 1024) === 0) return `${size / (1024 * 1024)}MiB`;
  if (size % 1024 === 0) return `${size / 1024}KiB`;
  return `${size}B`;
}
