/**
 * Helpers of the consumer specs: a real agent over SQLite (or Redis) stores,
 * topics, and records produced with the harness.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

export type Cluster = { stores: TestStores; agents: TestAgent[]; address: string; stop(): Promise<void> };

/** One agent (or more) over fresh stores, with group rounds that complete at once. */
export async function startCluster(kind: 'sqlite' | 'redis' = 'sqlite', count = 1): Promise<Cluster> {
  const stores = await createTestStores(kind);
  const agents: TestAgent[] = [];
  for (let i = 0; i < count; i++) agents.push(await startTestAgent(stores, { groupInitialRebalanceDelayMs: 0 }));
  return {
    stores,
    agents,
    address: agents[0]!.agent.address,
    async stop() {
      for (const agent of agents) await agent.stop();
      await stores.cleanup();
    },
  };
}

/** Creates a topic. */
export async function createTopic(cluster: Cluster, name: string, partitions: number): Promise<void> {
  await cluster.agents[0]!.connection.client.createTopic({ name, partitions, config: undefined });
}

/** Produces `count` records `<prefix>-<i>` to a partition in batches of `batchSize`; returns the base offsets. */
export async function produceValues(
  cluster: Cluster,
  topic: string,
  partition: number,
  count: number,
  prefix: string,
  batchSize = count,
  timestamp?: number,
): Promise<number[]> {
  const bases: number[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = records(Math.min(batchSize, count - start), prefix, timestamp).map((r, i) => ({
      ...r,
      value: Buffer.from(`${prefix}-${start + i}`),
    }));
    bases.push(await produce(cluster.agents[0]!.connection, topic, partition, batch));
  }
  return bases;
}

/** `[partition, offset, value]` of a record. */
export function triple(record: ConsumerRecord): [number, number, string] {
  return [record.partition, record.offset, Buffer.from(record.value!).toString()];
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
