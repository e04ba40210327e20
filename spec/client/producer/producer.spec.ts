import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VirtualTimeScheduler, firstValueFrom, from, lastValueFrom, take, toArray } from 'rxjs';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { produceTo } from '../../../src/client/producer/produceTo.js';
import { RequestBufferPool } from '../../../src/client/producer/requestBufferPool.js';
import {
  BufferFullError,
  InvalidConfigError,
  InvalidRequestError,
  ProducerClosedError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
} from '../../../src/protocol/errors.js';
import {
  createTestStores,
  readAll,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/** A full garbage collection (V8's gc(), made available at run time). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('client/producer against a real agent', () => {
  let stores: TestStores;
  let a: TestAgent;
  const producers: Producer[] = [];
  const open = async (options: Partial<Parameters<typeof createProducer>[0]> = {}) => {
    const producer = await createProducer({ bootstrap: [a.agent.address], lingerMs: 2, ...options });
    producers.push(producer);
    return producer;
  };

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'orders', partitions: 3, config: undefined });
  });
  afterEach(async () => {
    await Promise.all(producers.splice(0).map((p) => p.close()));
    await a.stop();
    await stores.cleanup();
  });

  it('gives sequential offsets within and across batch boundaries', async () => {
    const producer = await open({ batchRecords: 10 });
    const results = await Promise.all(
      Array.from({ length: 35 }, (_, i) => producer.send({ topic: 'orders', partition: 1, value: `v${i}` })),
    );
    const offsets = await Promise.all(results.map((r) => r.waitOffset(5000)));
    expect(offsets).to.deep.equal(Array.from({ length: 35 }, (_, i) => i));
    expect(results.map((r) => r.offset)).to.deep.equal(offsets);
    expect((await readAll(a.connection, 'orders', 1)).map(([o, v]) => `${o}:${v}`)).to.deep.equal(
      offsets.map((o) => `${o}:v${o}`),
    );
  });

  it('trySend accepts synchronously when it can, and says undefined (with no side effect) when it cannot', async () => {
    const producer = await open();
    // Created after the producer learnt the cluster: unknown to it until it asks again.
    await a.connection.client.createTopic({ name: 'fresh', partitions: 1, config: undefined });
    expect(producer.trySend({ topic: 'fresh', value: 'not yet known' })).to.equal(undefined);
    expect(producer.metrics().pendingRecords).to.equal(0);
    // A record that can never be accepted is refused at once, known topic or not.
    expect(() => producer.trySend({ topic: 'fresh', value: (() => 42) as unknown as string })).to.throw(
      InvalidRequestError,
      'record value for topic fresh could not be serialized: TypeError: function has no JSON form',
    );
    await producer.sendAndWait({ topic: 'fresh', value: 'first' });
    const result = producer.trySend({ topic: 'fresh', value: 'second' });
    expect(result?.partition).to.equal(0);
    expect(await result!.waitOffset(5000)).to.equal(1);
    expect(() => producer.trySend({ topic: 'fresh', partition: 1, value: 'x' })).to.throw(UnknownTopicOrPartitionError);
  });

  it('sendAndWait answers with topic, partition, offset and timestamp', async () => {
    const producer = await open();
    expect(await producer.sendAndWait({ topic: 'orders', partition: 2, value: 'x', timestamp: 1234 })).to.deep.equal({
      topic: 'orders',
      partition: 2,
      offset: 0,
      timestamp: 1234,
    });
    expect(await producer.sendAndWait({ topic: 'orders', partition: 2, value: 'y', timestamp: 1235 })).to.deep.include({
      offset: 1,
    });
  });

  it('routes keys with murmur2 like Kafka, and announces every offset on offsets$ in order', async () => {
    const producer = await open();
    const seen = lastValueFrom(producer.offsets$('orders').pipe(take(6), toArray()));
    for (const key of ['a', 'b', 'c', 'a', 'b', 'c']) await producer.send({ topic: 'orders', key, value: key });
    await producer.flush();
    const notes = await seen;
    // murmur2 partitions of 'a', 'b', 'c' among 3 partitions (Kafka's DefaultPartitioner would choose the same).
    const byKey = new Map(notes.map((n) => [Buffer.from(n.key!).toString(), n.partition]));
    expect([...byKey].sort()).to.deep.equal([
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ]);
    expect(notes.filter((n) => n.partition === 1).map((n) => n.offset)).to.deep.equal([0, 1, 2, 3]);
    expect(notes.filter((n) => n.partition === 2).map((n) => n.offset)).to.deep.equal([0, 1]);
  });

  it("fails every record of a batch the agent refuses, with the agent's typed error", async () => {
    await a.connection.client.createTopic({
      name: 'tiny',
      partitions: 1,
      config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 300 },
    });
    const producer = await open({ lingerMs: 50 });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => producer.send({ topic: 'tiny', value: 'x'.repeat(100) + i })),
    );
    const outcomes = await Promise.all(
      results.map((r) =>
        r.waitOffset(5000).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      ),
    );
    for (const outcome of outcomes) {
      expect(outcome).to.be.instanceOf(RecordTooLargeError);
      expect((outcome as RecordTooLargeError).message).to.match(/exceeds max\.message\.bytes 300 of topic tiny/);
    }
    expect(producer.metrics().recordsFailed).to.equal(5);
    // The partition goes on: the refused sequences are reused by the next batch.
    expect((await producer.sendAndWait({ topic: 'tiny', value: 'small' })).offset).to.equal(0);
  });

  it('leaves no duplicate when a request times out and is retried (idempotence)', async () => {
    await a.stop();
    a = await startTestAgent(stores, { flushIntervalMs: 400, metadataStore: stores.newMetadataStore() });
    const producer = await open({ requestTimeoutMs: 150, retry: { initialBackoffMs: 10, maxBackoffMs: 20 } });
    const metas = await Promise.all(
      ['one', 'two', 'three'].map((value) => producer.sendAndWait({ topic: 'orders', partition: 0, value })),
    );
    expect(metas.map((m) => m.offset)).to.deep.equal([0, 1, 2]);
    expect(producer.metrics().retries).to.be.greaterThan(0);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([
      [0, 'one'],
      [1, 'two'],
      [2, 'three'],
    ]);
  });

  it('compresses batches with LZ4 when asked, readable as usual', async () => {
    const producer = await open({ compression: 'lz4' });
    const value = JSON.stringify({
      customer: 'c-1',
      items: Array.from({ length: 20 }, (_, i) => ({ sku: `s${i}`, qty: 1 })),
    });
    const metas = await Promise.all(
      Array.from({ length: 10 }, () => producer.sendAndWait({ topic: 'orders', partition: 0, value })),
    );
    expect(metas.map((m) => m.offset)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal(metas.map((m) => [m.offset, value]));
    const stored = (await a.metadataStore.listSegments('orders', 0)).reduce((sum, s) => sum + s.sizeBytes, 0);
    expect(stored).to.be.lessThan((value.length * 10) / 2);
  });

  it('writes requests into reused, padded buffers: batches sent in turn read back byte for byte', async () => {
    // Watch the pool (the real one, in the real producer) to see buffers come back and go out again.
    const given = new WeakSet<ArrayBufferLike>();
    let reused = 0;
    const { take, give } = RequestBufferPool.prototype;
    RequestBufferPool.prototype.give = function (this: RequestBufferPool, buffer: Buffer) {
      given.add(buffer.buffer);
      give.call(this, buffer);
    };
    RequestBufferPool.prototype.take = function (this: RequestBufferPool, minimum: number) {
      const buffer = take.call(this, minimum);
      if (given.has(buffer.buffer)) reused++;
      return buffer;
    };
    try {
      const producer = await open({ batchBytes: 256 * 1024 });
      // 12 batches of ~91 KB (pooled sizes), each with its own content, each sent once the one before was answered.
      const values = Array.from({ length: 1200 }, (_, i) => `${i}:`.padEnd(900, String.fromCharCode(97 + (i % 26))));
      for (let round = 0; round < 12; round++) {
        const results = await Promise.all(
          values
            .slice(round * 100, round * 100 + 100)
            .map((value) => producer.send({ topic: 'orders', partition: 2, value })),
        );
        await producer.flush();
        expect(results.map((r) => r.offset)).to.deep.equal(Array.from({ length: 100 }, (_, i) => round * 100 + i));
      }
      expect(producer.metrics()).to.deep.include({ batchesSent: 12, retries: 0 });
      expect(reused).to.equal(11);
      expect(await readAll(a.connection, 'orders', 2)).to.deep.equal(values.map((value, i) => [i, value]));
    } finally {
      RequestBufferPool.prototype.take = take;
      RequestBufferPool.prototype.give = give;
    }
  });

  it('does not reuse a request whose keys offsets$ handed out: they stay intact as later batches go', async () => {
    const producer = await open({ batchBytes: 256 * 1024 });
    const seen: Array<{ offset: number; key: string; view: Uint8Array }> = [];
    const subscription = producer
      .offsets$()
      .subscribe((n) => seen.push({ offset: n.offset, key: Buffer.from(n.key!).toString(), view: n.key! }));
    const value = 'v'.repeat(900);
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          producer.send({ topic: 'orders', partition: 0, key: `k-${round}-${i}`, value }),
        ),
      );
      await producer.flush();
    }
    subscription.unsubscribe();
    expect(seen.map((n) => n.offset)).to.deep.equal(Array.from({ length: 400 }, (_, i) => i));
    // the views, read now, still hold what they held when announced
    expect(seen.map((n) => Buffer.from(n.view).toString())).to.deep.equal(seen.map((n) => n.key));
    expect(seen.map((n) => n.key)).to.deep.equal(
      Array.from({ length: 400 }, (_, i) => `k-${Math.floor(i / 100)}-${i % 100}`),
    );
  });

  it('acknowledges 100,000 records with dense offsets', async function () {
    this.timeout(60_000);
    const producer = await open({ batchBytes: 256 * 1024 });
    const results = [];
    for (let i = 0; i < 100_000; i++)
      results.push(await producer.send({ topic: 'orders', partition: i % 3, value: `r${i}` }));
    await producer.flush();
    for (let p = 0; p < 3; p++) {
      const offsets = results.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).to.deep.equal(Array.from({ length: offsets.length }, (_, i) => i));
    }
    expect(producer.metrics()).to.deep.include({
      recordsAcked: 100_000,
      recordsFailed: 0,
      pendingRecords: 0,
      pendingBytes: 0,
    });
  });

  it('pipes an Observable into a topic and emits acknowledgements carrying each value', async () => {
    const producer = await open();
    const orders = Array.from({ length: 50 }, (_, i) => ({ id: `o${i}`, total: i }));
    const acks = await lastValueFrom(
      from(orders).pipe(produceTo(producer, 'orders', { key: (o) => o.id, maxInFlight: 8 }), toArray()),
    );
    expect(acks.map((ack) => ack.value.id).sort()).to.deep.equal(orders.map((o) => o.id).sort());
    const stored = new Map<string, string>();
    for (let p = 0; p < 3; p++)
      for (const [offset, value] of await readAll(a.connection, 'orders', p)) stored.set(`${p}@${offset}`, value);
    for (const ack of acks) expect(stored.get(`${ack.partition}@${ack.offset}`)).to.equal(JSON.stringify(ack.value));
  });

  it('refuses unknown topics, bad records and sends after close with typed errors', async () => {
    const producer = await open();
    let error = await producer.send({ topic: 'nope', value: 'x' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    error = await producer.send({ topic: 'orders', partition: 3, value: 'x' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    const pending = await producer.send({ topic: 'orders', value: 'last' });
    await producer.close();
    expect(pending.offset).to.be.a('number');
    error = await producer.send({ topic: 'orders', value: 'x' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ProducerClosedError);
    expect(await createProducer({ bootstrap: [] }).catch((e: unknown) => e)).to.be.instanceOf(InvalidConfigError);
  });

  it('makes send wait for buffer room, then fail with BufferFullError', async () => {
    await a.stop();
    a = await startTestAgent(stores, { flushIntervalMs: 1000, metadataStore: stores.newMetadataStore() });
    const producer = await open({ maxBufferedBytes: 400, batchBytes: 200, maxBlockMs: 100 });
    const first = await producer.send({ topic: 'orders', partition: 0, value: 'x'.repeat(300) });
    const error = await producer
      .send({ topic: 'orders', partition: 0, value: 'y'.repeat(300) })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(BufferFullError);
    expect(await first.waitOffset(5000)).to.equal(0);
    expect(await firstValueFrom(producer.send$({ topic: 'orders', partition: 0, value: 'z' }))).to.deep.include({
      offset: 1,
    });
  });

  it('keeps no reference to a record once send returned: it is encoded into its batch at once', async () => {
    // A long linger: the batch stays open (unsent) while we look.
    const producer = await open({ lingerMs: 60_000 });
    const values: Array<WeakRef<Uint8Array>> = [];
    // A plain function, so no stale register of a suspended async frame holds the last value.
    const sendAll = () =>
      Array.from({ length: 100 }, (_, i) => {
        const value = new TextEncoder().encode(`value-${i}`);
        values.push(new WeakRef(value));
        return producer.trySend({ topic: 'orders', partition: 0, key: `k${i}`, value })!;
      });
    const results = sendAll();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    expect(values.map((v, i) => (v.deref() === undefined ? -1 : i)).filter((i) => i >= 0)).to.deep.equal([]);
    expect(results.every((r) => r.offset === undefined)).to.equal(true);
    await producer.flush();
    expect(results.map((r) => r.offset)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    expect((await readAll(a.connection, 'orders', 0)).slice(0, 3)).to.deep.equal([
      [0, 'value-0'],
      [1, 'value-1'],
      [2, 'value-2'],
    ]);
  });

  it('refuses a bad header at send, before it can reach a batch', async () => {
    const producer = await open();
    const bad = [
      { key: 'ok', value: null },
      { key: 7, value: null },
    ] as unknown as Array<{ key: string; value: null }>;
    expect(() => producer.trySend({ topic: 'orders', value: 'x', headers: bad })).to.throw(
      InvalidRequestError,
      'record header 1 must be { key: string, value: Uint8Array | null }',
    );
    expect(() =>
      producer.trySend({
        topic: 'orders',
        value: 'x',
        headers: [{ key: 'h', value: 'text' as unknown as Uint8Array }],
      }),
    ).to.throw(InvalidRequestError, 'record header 0 (h) value must be a Uint8Array or null');
    expect(producer.metrics().pendingRecords).to.equal(0);
    const meta = await producer.sendAndWait({
      topic: 'orders',
      partition: 0,
      value: 'y',
      headers: [{ key: 'h', value: new Uint8Array([1]) }],
    });
    expect(meta.offset).to.equal(0);
  });

  it('refuses batchBytes above 32 MiB', async () => {
    const error = await createProducer({ bootstrap: [a.agent.address], batchBytes: 32 * 1024 * 1024 + 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InvalidConfigError);
    expect((error as Error).message).to.equal(
      'producer option batchBytes must be at most 33554432 (32 MiB), got 33554433',
    );
  });

  it('fails each unsettled record with ProducerClosedError when its pipeline stops; flush does not hang', async () => {
    // A partitioner whose batch hook throws on the second batch: a bug that stops the sending pipeline.
    let batches = 0;
    const partitioner = Object.assign(() => 0, {
      onNewBatch: () => {
        if (++batches === 2) throw new Error('partitioner bug');
      },
    });
    const producer = await open({ partitioner, batchRecords: 2, lingerMs: 60_000 });
    const first = [
      await producer.send({ topic: 'orders', value: 'a' }),
      await producer.send({ topic: 'orders', value: 'b' }),
    ];
    expect(await Promise.all(first.map((r) => r.waitOffset(5000)))).to.deep.equal([0, 1]);
    const open1 = await producer.send({ topic: 'orders', partition: 1, value: 'held' });
    const second = [
      await producer.send({ topic: 'orders', value: 'c' }),
      await producer.send({ topic: 'orders', value: 'd' }),
    ];
    await producer.flush();
    for (const result of [...second, open1]) {
      const error = await result.waitOffset(5000).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ProducerClosedError);
      expect((error as ProducerClosedError).message).to.equal('producer pipeline has stopped');
      expect(((error as ProducerClosedError).cause as Error).message).to.equal('partitioner bug');
    }
    expect(producer.metrics()).to.deep.include({
      recordsAcked: 2,
      recordsFailed: 3,
      pendingRecords: 0,
      pendingBytes: 0,
    });
    const refused = await producer.send({ topic: 'orders', value: 'late' }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ProducerClosedError);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([
      [0, 'a'],
      [1, 'b'],
    ]);
  });

  it("keeps filling a partition's batch while its requests are all out, so requests grow with the load", async () => {
    // Virtual time for the linger; no answer can come back between two synchronous steps, so the first request stays
    // out.
    const scheduler = new VirtualTimeScheduler();
    const advance = (ms: number) => {
      scheduler.maxFrames = scheduler.frame + ms;
      scheduler.flush();
      scheduler.frame = scheduler.maxFrames;
    };
    const producer = await open({ lingerMs: 1, idempotence: false, maxInFlightPerPartition: 1, scheduler });
    const first = producer.trySend({ topic: 'orders', partition: 0, value: 'first', timestamp: 1 })!;
    advance(1);
    expect(producer.metrics().batchesSent).to.equal(1);
    const later = [];
    for (let i = 0; i < 50; i++) {
      later.push(producer.trySend({ topic: 'orders', partition: 0, value: `later-${i}`, timestamp: 1 })!);
      advance(2); // longer than the linger
    }
    // Every later record went into one batch, held while the first was out.
    expect(producer.metrics().batchesSent).to.equal(1);
    await producer.flush();
    expect(producer.metrics().batchesSent).to.equal(2);
    expect(await first.waitOffset()).to.equal(0);
    expect(later.map((r) => r.offset)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
  });
});
