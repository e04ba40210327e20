/**
 * Test support: real agents started in-process on ephemeral ports over real
 * stores (a temp directory, a SQLite file or the real Redis), and small
 * helpers to produce and fetch through the real gRPC service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Agent, startAgent } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agentOptions.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { connectAgent, type AgentConnection } from '../../src/client/agentClient.js';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import {
  encodeRecordBatch,
  decodeRecordBatches,
  type RecordInput,
  type EncodeOptions,
} from '../../src/protocol/codec/recordBatch.js';
import { fromErrorInfo } from '../../src/protocol/errors.js';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export type TestStores = {
  dir: string;
  objectStore: ObjectStore;
  /**
   * Creates a metadata store over the same backing data (each agent gets its
   * own connection). `clock` overrides the store's time, e.g. to play an agent
   * whose clock runs ahead of the others'.
   */
  newMetadataStore(options?: { clock?: () => number }): MetadataStore;
  redisPrefix: string | undefined;
  cleanup(): Promise<void>;
};

/** A temp directory object store and a SQLite file or a Redis prefix of their own. */
export async function createTestStores(
  kind: 'sqlite' | 'redis' = 'sqlite',
  objectStore?: ObjectStore,
): Promise<TestStores> {
  const dir = await mkdtemp(join(tmpdir(), 'sh-agent-'));
  const store = objectStore ?? new LocalDirectoryObjectStore({ root: join(dir, 'objects') });
  const created: MetadataStore[] = [];
  const redisPrefix = kind === 'redis' ? `sh-test:${process.pid}:${randomUUID().slice(0, 8)}:` : undefined;
  return {
    dir,
    objectStore: store,
    redisPrefix,
    newMetadataStore(options = {}) {
      const clock = options.clock ?? Date.now;
      const m =
        kind === 'sqlite'
          ? new SqliteMetadataStore({ path: join(dir, 'metadata.db'), synchronous: 'normal', clock })
          : new RedisMetadataStore({ url: REDIS_URL, keyPrefix: redisPrefix!, clock });
      created.push(m);
      return m;
    },
    async cleanup() {
      await Promise.allSettled(created.map((m) => m.close()));
      await store.close();
      if (redisPrefix !== undefined) await deleteRedisPrefix(redisPrefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export type TestAgent = {
  agent: Agent;
  connection: AgentConnection;
  metadataStore: MetadataStore;
  stop(): Promise<void>;
  kill(): Promise<void>;
};

/** Starts an agent on 127.0.0.1:0 over the stores, with short timings for tests. */
export async function startTestAgent(stores: TestStores, options: Partial<AgentOptions> = {}): Promise<TestAgent> {
  const metadataStore = options.metadataStore ?? stores.newMetadataStore();
  const agent = await startAgent({
    objectStore: stores.objectStore,
    metadataStore,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 2,
    leaseTtlMs: 2000,
    agentTtlMs: 2000,
    maintenanceIntervalMs: 0,
    ...options,
  });
  if (stores.redisPrefix !== undefined && metadataStore instanceof RedisMetadataStore) {
    await agent.highWatermarks.connectRedis(metadataStore.client, stores.redisPrefix);
  }
  const connection = connectAgent(agent.address);
  return {
    agent,
    connection,
    metadataStore,
    async stop() {
      connection.close();
      await agent.stop();
    },
    async kill() {
      connection.close();
      await agent.kill();
    },
  };
}

/**
 * Resolves when the agent's next long-polling Fetch starts waiting for a
 * commit (its listeners are in place by then): the moment to produce to wake it.
 */
export function nextLongPoll(agent: Agent): Promise<void> {
  const notifier = agent.highWatermarks;
  const waitForAny = notifier.waitForAny;
  return new Promise((resolve) => {
    notifier.waitForAny = (...args) => {
      notifier.waitForAny = waitForAny;
      const waiting = waitForAny.apply(notifier, args);
      resolve();
      return waiting;
    };
  });
}

/** Values `prefix-0`, `prefix-1`, … as records with a fixed timestamp. */
export function records(count: number, prefix = 'v', timestamp = 1_700_000_000_000): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`${prefix}-${i}`),
    timestamp: timestamp + i,
  }));
}

/** Produces one batch and returns the base offset (throws the partition's error). */
export async function produce(
  connection: AgentConnection,
  topic: string,
  partition: number,
  batchRecords: RecordInput[],
  acks: AckMode = AckMode.ACK_MODE_DURABLE,
  encode: EncodeOptions = {},
): Promise<number> {
  const { results } = await connection.client.produce({
    acks,
    producerId: encode.producerId ?? -1,
    producerEpoch: encode.producerEpoch ?? -1,
    timeoutMs: 0,
    partitions: [{ topic, partition, batch: encodeRecordBatch(batchRecords, encode) }],
  });
  const error = fromErrorInfo(results[0]!.error, { topic, partition });
  if (error !== undefined) throw error;
  return results[0]!.baseOffset;
}

/** Reads every record of a partition from `offset` up to its high watermark: [offset, value] pairs. */
export async function readAll(
  connection: AgentConnection,
  topic: string,
  partition: number,
  offset = 0,
): Promise<[number, string][]> {
  const out: [number, string][] = [];
  let position = offset;
  for (;;) {
    const { results } = await connection.client.fetch({
      partitions: [{ topic, partition, offset: position, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    const r = results[0]!;
    const error = fromErrorInfo(r.error, { topic, partition });
    if (error !== undefined) throw error;
    if (r.records.length === 0) return out;
    for (const batch of decodeRecordBatches(r.records)) {
      for (const record of batch.records) {
        if (record.offset >= position) out.push([record.offset, Buffer.from(record.value!).toString()]);
      }
      position = Math.max(position, batch.nextOffset);
    }
    if (position >= r.highWatermark) return out;
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** One Fetch of one partition (long-polling up to `maxWaitMs`): its bounds and the records at or after `offset`. */
export async function fetchOnce(
  connection: AgentConnection,
  topic: string,
  partition: number,
  offset: number,
  maxWaitMs = 0,
): Promise<{ highWatermark: number; logStartOffset: number; records: [number, string][] }> {
  const { results } = await connection.client.fetch({
    partitions: [{ topic, partition, offset, maxBytes: 0 }],
    maxWaitMs,
    minBytes: 1,
    maxBytes: 0,
  });
  const r = results[0]!;
  const error = fromErrorInfo(r.error, { topic, partition });
  if (error !== undefined) throw error;
  const out: [number, string][] = [];
  for (const batch of decodeRecordBatches(r.records)) {
    for (const record of batch.records)
      if (record.offset >= offset) out.push([record.offset, Buffer.from(record.value!).toString()]);
  }
  return { highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, records: out };
}

/** `[offset, value]` pairs a batch of `records(count, prefix)` produced at `base` must read back as. */
export function expected(base: number, count: number, prefix = 'v'): [number, string][] {
  return Array.from({ length: count }, (_, i): [number, string] => [base + i, `${prefix}-${i}`]);
}
