/**
 * What every fault scenario needs: temp directories, a topic, an idempotent
 * producer under load, and teardown of everything started (in reverse
 * order, whatever failed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createProducer, type Producer } from '../../src/client/producer/producer.js';
import type { Acks, ProducerOptions } from '../../src/client/producer/producerOptions.js';
import { connectAgent } from '../../src/client/agentClient.js';
import { deleteRedisPrefix } from '../support/agentHarness.js';
import { ProducerLoad, type Acked, type LoadResult } from '../support/producerLoad.js';
import { checkLog, NO_VIOLATIONS, reportFigures, waitUntilReadable, type LogFigures } from '../support/logCheck.js';

export const TOPIC = 'faults';

export class FaultFixture {
  private readonly teardown: (() => unknown)[] = [];

  /** Runs `step` at teardown (last added, first run). */
  onTeardown(step: () => unknown): void {
    this.teardown.push(step);
  }

  /**
   * Runs every teardown step, each for at most 15 s: one that hangs (a producer flushing into a dead agent) does not
   * stop the rest.
   */
  async tearDown(): Promise<void> {
    for (const step of this.teardown.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)));
      try {
        await Promise.race([Promise.resolve().then(step), bound]);
      } catch {
        // Teardown goes on: the next step may free what this one could not.
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** A fresh temp directory, removed at teardown. */
  async tempDir(name: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `sh-faults-${name}-`));
    this.onTeardown(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A Redis key prefix of this scenario's own, deleted at teardown. */
  redisPrefix(): string {
    const prefix = `sh-faults:${process.pid}:${randomUUID().slice(0, 8)}:`;
    this.onTeardown(() => deleteRedisPrefix(prefix));
    return prefix;
  }

  /** Creates the topic through the agent at `address`. */
  async createTopic(address: string, partitions: number): Promise<void> {
    const connection = connectAgent(address);
    try {
      await connection.client.createTopic({ name: TOPIC, partitions, config: undefined });
    } finally {
      connection.close();
    }
  }

  /** An idempotent producer (the defaults otherwise), closed at teardown. */
  async producer(options: Omit<ProducerOptions, 'idempotence'>): Promise<Producer> {
    const producer = await createProducer({ ...options, idempotence: true });
    this.onTeardown(() => producer.close());
    return producer;
  }

  /** A load on every partition of the topic through `producer`, started. */
  startLoad(producer: Producer, partitions: number): ProducerLoad {
    const load = new ProducerLoad({ producer, topic: TOPIC, partitions });
    load.start();
    this.onTeardown(() => load.stop());
    return load;
  }
}

/** Partitions of the topic each agent leads now, by agent id (as the agent at `address` sees it). */
export async function leaders(address: string): Promise<Map<string, number[]>> {
  const connection = connectAgent(address);
  try {
    const { topics } = await connection.client.metadata({ topics: [TOPIC] });
    const byAgent = new Map<string, number[]>();
    for (const p of topics[0]!.partitions)
      byAgent.set(p.leaderAgentId, [...(byAgent.get(p.leaderAgentId) ?? []), p.partition]);
    return byAgent;
  } finally {
    connection.close();
  }
}

/**
 * Reads the topic back through `address` and asserts the guarantees: every
 * acknowledged record exactly once at its offset, offsets dense, nothing
 * stored that was reported failed or never acknowledged, every record settled.
 * After `buffered` acks it first waits (up to 15 s) for the flushes that make
 * the acknowledged records readable.
 */
export async function expectLogKept(
  scenario: string,
  address: string,
  partitions: number,
  acks: Acks,
  result: LoadResult,
  otherAcks?: ReadonlyMap<string, Acked>,
): Promise<LogFigures> {
  const connection = connectAgent(address);
  try {
    if (acks === 'buffered') await waitUntilReadable(connection, TOPIC, result.acked, 15_000);
    const { violations, figures } = await checkLog(connection, TOPIC, partitions, result, otherAcks);
    reportFigures(scenario, figures);
    expect(violations, `guarantees broken (${JSON.stringify(figures)})`).to.deep.equal(NO_VIOLATIONS);
    return figures;
  } finally {
    connection.close();
  }
}
