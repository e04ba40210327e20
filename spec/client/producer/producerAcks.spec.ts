/**
 * The Producer with `acks: 'buffered'` and `acks: 'none'` against real
 * agents, each kept to the promise docs/guarantees.md makes for it.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { lastValueFrom, take, toArray } from 'rxjs';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import type { ProducerOptions } from '../../../src/client/producer/producerOptions.js';
import { InvalidConfigError, InvalidRequestError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  readAll,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/**
 * Reads a partition until it holds `count` records (bounded polling: acks other than durable come before the data is
 * readable).
 */
async function readWhenStored(
  agent: TestAgent,
  topic: string,
  partition: number,
  count: number,
): Promise<[number, string][]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stored = await readAll(agent.connection, topic, partition);
    if (stored.length >= count) return stored;
    if (Date.now() > deadline)
      throw new Error(`${topic}/${partition} holds ${stored.length} records, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const values = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('client/producer ack modes against a real agent', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agents: TestAgent[];
  let producers: Producer[];
  const start = async (options: Parameters<typeof startTestAgent>[1] = {}) => {
    const agent = await startTestAgent(stores, options);
    agents.push(agent);
    return agent;
  };
  const open = async (agent: TestAgent, options: Partial<ProducerOptions>) => {
    const producer = await createProducer({ bootstrap: [agent.agent.address], lingerMs: 1, ...options });
    producers.push(producer);
    return producer;
  };

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    agents = [];
    producers = [];
  });
  afterEach(async () => {
    await Promise.all(producers.map((p) => p.close()));
    await Promise.allSettled(agents.map((a) => a.stop()));
    await stores.cleanup();
  });

  describe("acks: 'buffered'", () => {
    it('answers with dense offsets, and the records read back exactly', async () => {
      const a = await start({ walDir: join(stores.dir, 'wal') });
      await a.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
      const producer = await open(a, { acks: 'buffered' });
      const sent = values(30, 'b');
      const results = await Promise.all(
        sent.map((value, i) => producer.send({ topic: 'orders', partition: i % 2, value })),
      );
      await producer.flush();
      expect(results.map((r) => [r.partition, r.offset])).to.deep.equal(sent.map((_, i) => [i % 2, Math.floor(i / 2)]));
      for (const partition of [0, 1]) {
        expect(await readWhenStored(a, 'orders', partition, 15)).to.deep.equal(
          sent.filter((_, i) => i % 2 === partition).map((value, i): [number, string] => [i, value]),
        );
      }
    });

    it('keeps what it acked through a crash: the restarted agent replays its log at the same offsets', async () => {
      const walDir = join(stores.dir, 'wal');
      // Batches wait a minute for their object: at the crash they are in the write-ahead log only.
      const a = await start({ agentId: 'agent-a', walDir, flushIntervalMs: 60_000 });
      await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
      const producer = await open(a, { acks: 'buffered' });
      const sent = values(20, 'w');
      const metas = await Promise.all(
        sent.map((value) => producer.sendAndWait({ topic: 'orders', partition: 0, value })),
      );
      expect(metas.map((m) => m.offset)).to.deep.equal(sent.map((_, i) => i));
      expect((await a.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(0);
      await a.kill();
      const again = await start({ agentId: 'agent-a', walDir });
      expect(await readAll(again.connection, 'orders', 0)).to.deep.equal(
        sent.map((value, i): [number, string] => [i, value]),
      );
    });

    it('fails each record with InvalidRequestError on an agent without write-ahead log, storing nothing', async () => {
      const a = await start();
      await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
      const producer = await open(a, { acks: 'buffered' });
      const results = await Promise.all(
        values(3, 'x').map((value) => producer.send({ topic: 'orders', partition: 0, value })),
      );
      for (const result of results) {
        const error = await rejection(result.waitOffset(10_000));
        expect(error).to.be.instanceOf(InvalidRequestError);
        expect((error as InvalidRequestError).message).to.match(/^buffered acks need an agent with a write-ahead log/);
      }
      expect(producer.metrics()).to.deep.include({ recordsFailed: 3, recordsAcked: 0, retries: 0 });
      expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([]);
    });
  });

  describe("acks: 'none'", () => {
    it('answers every record with offset -1 (nothing promised), and the records are stored in order', async () => {
      const a = await start();
      await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
      const producer = await open(a, { acks: 'none', idempotence: false });
      const sent = values(25, 'n');
      const announced = lastValueFrom(producer.offsets$('orders', 0).pipe(take(25), toArray()));
      const results = await Promise.all(sent.map((value) => producer.send({ topic: 'orders', partition: 0, value })));
      await producer.flush();
      expect(await Promise.all(results.map((r) => r.waitOffset(10_000)))).to.deep.equal(new Array(25).fill(-1));
      expect((await announced).map((n) => n.offset)).to.deep.equal(new Array(25).fill(-1));
      expect(await producer.sendAndWait({ topic: 'orders', partition: 0, value: 'last' })).to.deep.include({
        partition: 0,
        offset: -1,
      });
      expect(await readWhenStored(a, 'orders', 0, 26)).to.deep.equal(
        [...sent, 'last'].map((value, i): [number, string] => [i, value]),
      );
    });

    it('needs idempotence off', async () => {
      const a = await start();
      const error = await rejection(createProducer({ bootstrap: [a.agent.address], acks: 'none' }));
      expect(error).to.be.instanceOf(InvalidConfigError);
      expect((error as InvalidConfigError).message).to.equal(
        "idempotence needs acks 'durable' or 'buffered': set idempotence: false for acks 'none'",
      );
    });
  });
});
