import { expect } from 'chai';
import { pino } from 'pino';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { backoffDelay, retryPolicy } from '../../../src/client/retryPolicy.js';
import type { SendResult } from '../../../src/client/sendResult.js';
import { DeliveryTimeoutError, RecordTooLargeError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  readAll,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** Every record of a partition once `count` are readable (buffered acks answer before the records are in a segment). */
async function readCount(
  agent: TestAgent,
  topic: string,
  partition: number,
  count: number,
): Promise<[number, string][]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const stored = await readAll(agent.connection, topic, partition);
    if (stored.length >= count || Date.now() > until) return stored;
    await sleep(10);
  }
}

describe('client/producer: the only agent is away longer than ten retries would wait', function () {
  this.timeout(60_000);
  // Shortened backoff; ten retries of it (the old default count) wait at most 1.56 s, jitter included.
  const retry = { initialBackoffMs: 20, maxBackoffMs: 200 };
  const tenRetriesMs = Array.from({ length: 10 }, (_, i) =>
    backoffDelay(i + 1, retryPolicy(retry), () => 0.9999),
  ).reduce((a, b) => a + b);
  const outageMs = 2 * tenRetriesMs;
  let stores: TestStores;
  let a: TestAgent;
  const producers: Producer[] = [];

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores, { walDir: `${stores.dir}/wal` });
    await a.connection.client.createTopic({ name: 'events', partitions: 2, config: undefined });
  });
  afterEach(async () => {
    await Promise.allSettled(producers.splice(0).map((p) => p.close()));
    await a.stop();
    await stores.cleanup();
  });

  for (const [acks, how] of [
    ['durable', 'stopped'],
    ['buffered', 'killed'],
  ] as const) {
    it(`acknowledges every record exactly once when the agent is ${how} and comes back (${acks} acks)`, async () => {
      expect(tenRetriesMs).to.equal(1560);
      const address = a.agent.address;
      const producer = await createProducer({ bootstrap: [address], lingerMs: 1, acks, retry });
      producers.push(producer);
      const results: SendResult[] = [];
      let i = 0;
      const sendSome = async (count: number) => {
        for (const end = i + count; i < end; i++)
          results.push(await producer.send({ topic: 'events', partition: i % 2, value: `e${i}` }));
      };
      await sendSome(100);
      const away = how === 'stopped' ? a.stop() : a.kill();
      // Records keep coming while the agent is away, for twice what ten retries would ride out.
      const until = Date.now() + outageMs;
      while (Date.now() < until) {
        await sendSome(2);
        await sleep(20);
      }
      await away;
      a = await startTestAgent(stores, { port: portOf(address), walDir: `${stores.dir}/wal` });
      await sendSome(100);
      await producer.flush();

      expect(results.filter((r) => r.error !== undefined).map((r) => String(r.error))).to.deep.equal([]);
      for (let p = 0; p < 2; p++) {
        const sent = results.flatMap((r, index) => (r.partition === p ? [index] : []));
        const stored = await readCount(a, 'events', p, sent.length);
        expect(stored).to.deep.equal(sent.map((index, offset) => [offset, `e${index}`]));
        expect(sent.map((index) => results[index]!.offset)).to.deep.equal(sent.map((_, offset) => offset));
      }
    });
  }
});

describe('client/producer: moving to a new producer epoch', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let a: TestAgent;
  const producers: Producer[] = [];

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'events', partitions: 1, config: undefined });
  });
  afterEach(async () => {
    await Promise.allSettled(producers.splice(0).map((p) => p.close()));
    await a.stop();
    await stores.cleanup();
  });

  it("retries a new epoch while the agent is away, then delivers the partition's later records", async () => {
    const address = a.agent.address;
    const logs: Array<{ msg: string }> = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) },
    );
    const producer = await createProducer({
      bootstrap: [address],
      lingerMs: 1,
      deliveryTimeoutMs: 3000,
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
      logger,
    });
    producers.push(producer);
    expect((await producer.sendAndWait({ topic: 'events', value: 'e0' })).offset).to.equal(0);
    await a.stop();
    // Not acknowledged in time while the agent is away: whether it was appended is unknown, so the producer needs a new
    // epoch...
    const lost = await producer.send({ topic: 'events', value: 'lost' });
    expect(await rejection(lost.waitOffset())).to.be.instanceOf(DeliveryTimeoutError);
    // ...which it cannot have before the agent is back: the bump fails, and is retried.
    const later = await producer.send({ topic: 'events', value: 'e1' });
    await eventually(() => logs.some((line) => line.msg === 'producer epoch bump failed; retrying'), 'a failed bump');
    a = await startTestAgent(stores, { port: portOf(address) });
    const more = await Promise.all(['e2', 'e3', 'e4'].map((value) => producer.send({ topic: 'events', value })));
    await producer.flush();

    expect([later, ...more].map((r) => [r.offset, r.error])).to.deep.equal([
      [1, undefined],
      [2, undefined],
      [3, undefined],
      [4, undefined],
    ]);
    expect(producer.metrics()).to.deep.include({ epochBumps: 1, recordsFailed: 1 });
    expect(await readAll(a.connection, 'events', 0)).to.deep.equal([
      [0, 'e0'],
      [1, 'e1'],
      [2, 'e2'],
      [3, 'e3'],
      [4, 'e4'],
    ]);
  });

  it('re-sends, re-stamped under a new epoch, the batches the agent refused behind one that failed', async () => {
    await a.connection.client.createTopic({
      name: 'tiny',
      partitions: 1,
      config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 300 },
    });
    // One record per batch: all three are in flight at once; the agent refuses the first for its size, then the
    // other two for their sequences (they follow one that was never appended).
    const producer = await createProducer({ bootstrap: [a.agent.address], lingerMs: 0, batchRecords: 1 });
    producers.push(producer);
    const results = await Promise.all(
      ['x'.repeat(400), 's1', 's2'].map((value) => producer.send({ topic: 'tiny', value })),
    );
    await producer.flush();

    expect(results[0]!.error).to.be.instanceOf(RecordTooLargeError);
    expect(results.slice(1).map((r) => [r.offset, r.error])).to.deep.equal([
      [0, undefined],
      [1, undefined],
    ]);
    expect(producer.metrics()).to.deep.include({ epochBumps: 1, recordsAcked: 2, recordsFailed: 1 });
    expect(await readAll(a.connection, 'tiny', 0)).to.deep.equal([
      [0, 's1'],
      [1, 's2'],
    ]);
  });
});
