/**
 * The producer's defaults at work, against a real agent: linger, batch size
 * and count, requests in flight, the buffer bound, the delivery timeout and
 * periodic discovery. Time-based defaults run in virtual time (a
 * VirtualTimeScheduler given as the producer's `scheduler`); no records are
 * acknowledged between two synchronous steps, since answers need the event loop.
 */
import { expect } from 'chai';
import { VirtualTimeScheduler } from 'rxjs';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import type { ProducerOptions } from '../../../src/client/producer/producerOptions.js';
import { BatchSender } from '../../../src/client/producer/batchSender.js';
import type { ClusterMetadata } from '../../../src/client/cluster/clusterMetadata.js';
import { DeliveryTimeoutError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  readAll,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/** Runs every virtual action due by `frame`, then sets the clock to `frame`. */
function advanceTo(scheduler: VirtualTimeScheduler, frame: number): void {
  scheduler.maxFrames = frame;
  scheduler.flush();
  scheduler.frame = Math.max(scheduler.frame, frame);
}

/** Polls `check` every 10 ms until it holds, failing after `timeoutMs`. */
async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TIMESTAMP = 1_700_000_000_000;

describe('client/producer defaults at work', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let a: TestAgent;
  let others: TestAgent[];
  let producers: Producer[];
  let scheduler: VirtualTimeScheduler;
  const open = async (options: Partial<ProducerOptions> = {}) => {
    const producer = await createProducer({ bootstrap: [a.agent.address], scheduler, ...options });
    producers.push(producer);
    return producer;
  };

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    others = [];
    producers = [];
    scheduler = new VirtualTimeScheduler();
    await a.connection.client.createTopic({ name: 'orders', partitions: 4, config: undefined });
  });
  afterEach(async () => {
    await Promise.all(producers.map((p) => p.close()));
    await Promise.allSettled([a.stop(), ...others.map((o) => o.stop())]);
    await stores.cleanup();
  });

  it("lingerMs 5: a batch closes 5 ms after its partition's first record, not before", async () => {
    const producer = await open();
    const first = producer.trySend({ topic: 'orders', partition: 0, value: 'first', timestamp: TIMESTAMP })!;
    advanceTo(scheduler, 3);
    const second = producer.trySend({ topic: 'orders', partition: 0, value: 'second', timestamp: TIMESTAMP })!;
    advanceTo(scheduler, 4);
    expect(producer.metrics().batchesSent).to.equal(0);
    advanceTo(scheduler, 5);
    expect(producer.metrics().batchesSent).to.equal(1);
    expect([await first.waitOffset(10_000), await second.waitOffset(10_000)]).to.deep.equal([0, 1]);
  });

  it('batchBytes 16 KiB: a batch closes at once when its records reach 16 384 bytes', async () => {
    const producer = await open();
    // 1000 value bytes and 24 of estimated record overhead: 1024 bytes a record, 16 to a batch.
    const value = 'v'.repeat(1000);
    const results = Array.from(
      { length: 15 },
      () => producer.trySend({ topic: 'orders', partition: 1, value, timestamp: TIMESTAMP })!,
    );
    expect(producer.metrics().batchesSent).to.equal(0);
    results.push(producer.trySend({ topic: 'orders', partition: 1, value, timestamp: TIMESTAMP })!);
    expect(producer.metrics().batchesSent).to.equal(1);
    await producer.flush();
    expect(producer.metrics().batchesSent).to.equal(1);
    expect(results.map((r) => r.offset)).to.deep.equal(Array.from({ length: 16 }, (_, i) => i));
  });

  it('batchRecords 10 000: a batch closes at once at its 10 000th record', async () => {
    const producer = await open({ batchBytes: 1024 * 1024 });
    const results = Array.from(
      { length: 9_999 },
      (_, i) => producer.trySend({ topic: 'orders', partition: 2, value: `${i}`, timestamp: TIMESTAMP })!,
    );
    expect(producer.metrics().batchesSent).to.equal(0);
    results.push(producer.trySend({ topic: 'orders', partition: 2, value: 'last', timestamp: TIMESTAMP })!);
    expect(producer.metrics().batchesSent).to.equal(1);
    await producer.flush();
    expect(producer.metrics().batchesSent).to.equal(1);
    expect(results[9_999]!.offset).to.equal(9_999);
  });

  for (const [idempotence, inFlight] of [
    [true, 5],
    [false, 1],
  ] as const) {
    it(`maxInFlightPerPartition ${inFlight}, idempotence ${idempotence}: later ones wait in one batch`, async () => {
      const producer = await open({ idempotence });
      const results = [];
      for (let i = 0; i < 7; i++) {
        results.push(producer.trySend({ topic: 'orders', partition: 3, value: `r${i}`, timestamp: TIMESTAMP })!);
        advanceTo(scheduler, scheduler.now() + 5);
      }
      // No answer can have come back yet: `inFlight` batches went out, the rest of the records share one held batch.
      expect(producer.metrics().batchesSent).to.equal(inFlight);
      await producer.flush();
      expect(producer.metrics().batchesSent).to.equal(inFlight + 1);
      expect(results.map((r) => r.offset)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    });
  }

  it('maxInFlightRequests 64: a 65th request waits for one of the first 64 to return', async () => {
    await a.connection.client.createTopic({ name: 'wide', partitions: 65, config: undefined });
    const producer = await open();
    let started = 0;
    const { send } = BatchSender.prototype;
    BatchSender.prototype.send = function (this: BatchSender, job) {
      started++;
      return send.call(this, job);
    };
    try {
      const results = Array.from(
        { length: 65 },
        (_, partition) => producer.trySend({ topic: 'wide', partition, value: 'x', timestamp: TIMESTAMP })!,
      );
      advanceTo(scheduler, 5);
      expect(producer.metrics().batchesSent).to.equal(65);
      expect(started).to.equal(64);
      await producer.flush();
      expect(started).to.equal(65);
      expect(results.map((r) => r.offset)).to.deep.equal(new Array(65).fill(0));
    } finally {
      BatchSender.prototype.send = send;
    }
  });

  it('maxBufferedBytes 32 MiB: accepts records up to 32 MiB unacknowledged, then trySend says no', async () => {
    const producer = await open();
    // 16 360 value bytes + 24 of overhead: 16 KiB a record, 2048 of them in 32 MiB.
    const value = 'b'.repeat(16_360);
    const results = [];
    for (let i = 0; i < 2048; i++) {
      const result = producer.trySend({ topic: 'orders', partition: i % 4, value, timestamp: TIMESTAMP });
      expect(result, `record ${i}`).not.to.equal(undefined);
      results.push(result!);
    }
    expect(producer.metrics().pendingBytes).to.equal(32 * 1024 * 1024);
    expect(producer.trySend({ topic: 'orders', partition: 0, value, timestamp: TIMESTAMP })).to.equal(undefined);
    expect(producer.metrics().pendingRecords).to.equal(2048);
    await producer.flush();
    expect(results.map((r) => r.offset)).to.deep.equal(results.map((_, i) => Math.floor(i / 4)));
  });

  it('deliveryTimeoutMs 120 000: a never acked record fails (DeliveryTimeoutError) 120 s after send', async () => {
    const producer = await open();
    await a.stop();
    const result = producer.trySend({ topic: 'orders', partition: 0, value: 'lost', timestamp: TIMESTAMP })!;
    advanceTo(scheduler, 5); // linger: the batch goes out to the stopped agent
    await eventually('the first attempt to fail and a retry to be scheduled', () => producer.metrics().retries === 1);
    advanceTo(scheduler, 119_999);
    expect([result.settled, result.error]).to.deep.equal([false, undefined]);
    advanceTo(scheduler, 120_000);
    const error = await rejection(result.waitOffset(10_000));
    expect(error).to.be.instanceOf(DeliveryTimeoutError);
    expect((error as DeliveryTimeoutError).message).to.match(
      new RegExp(
        '^records for orders/0 not acknowledged within the delivery timeout of 120000 ms ' +
          '\\(2 attempts; last error: UNAVAILABLE: ',
      ),
    );
    expect((error as DeliveryTimeoutError).context).to.deep.equal({ topic: 'orders', partition: 0 });
    expect(producer.metrics()).to.deep.include({ recordsFailed: 1, pendingRecords: 0 });
  });

  it('fails a record with DeliveryTimeoutError on an unreachable agent, endless retries (real time)', async () => {
    const producer = await createProducer({
      bootstrap: [a.agent.address],
      deliveryTimeoutMs: 300,
      retry: { maxRetries: Infinity, initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    producers.push(producer);
    await a.stop();
    const result = await producer.send({ topic: 'orders', partition: 1, value: 'lost' });
    const error = await rejection(result.waitOffset(10_000));
    expect(error).to.be.instanceOf(DeliveryTimeoutError);
    expect((error as DeliveryTimeoutError).message).to.match(
      new RegExp(
        '^records for orders/1 not acknowledged within the delivery timeout of 300 ms ' +
          '\\(\\d+ attempts; last error: UNAVAILABLE: ',
      ),
    );
    expect(producer.metrics().retries).to.be.greaterThan(0);
  });

  it('metadataRefreshMs: discovery is refreshed periodically, finding an agent started later', async () => {
    const producer = await createProducer({ bootstrap: [a.agent.address], metadataRefreshMs: 50 });
    producers.push(producer);
    const cluster = (producer as unknown as { cluster: ClusterMetadata }).cluster;
    expect([...cluster.liveAgents().keys()]).to.deep.equal([a.agent.agentId]);
    const b = await startTestAgent(stores);
    others.push(b);
    await eventually('the refresh to find the second agent', () => cluster.liveAgents().size === 2);
    expect([...cluster.liveAgents().keys()].sort()).to.deep.equal([a.agent.agentId, b.agent.agentId].sort());
  });

  it('reads back what the default producer sent', async () => {
    const producer = await createProducer({ bootstrap: [a.agent.address] });
    producers.push(producer);
    const metas = await Promise.all(
      ['x', 'y', 'z'].map((value) => producer.sendAndWait({ topic: 'orders', partition: 0, value })),
    );
    expect(metas.map((m) => m.offset)).to.deep.equal([0, 1, 2]);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([
      [0, 'x'],
      [1, 'y'],
      [2, 'z'],
    ]);
  });
});
