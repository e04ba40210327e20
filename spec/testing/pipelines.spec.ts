import { expect } from 'chai';
import { catchError, finalize, map, mergeMap, of, take } from 'rxjs';
import { PipelineTestScheduler, createInMemoryCluster, type InMemoryCluster } from '../../src/testing/index.js';
import { StorageError, type StreamHouseError } from '../../src/protocol/errors.js';
import type { Consumer } from '../../src/client/consumer/consumer.js';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';

/** Marble tests of whole pipelines: the real Producer and Consumer on the in-memory cluster, in virtual time. */
describe('streamhouse/testing pipelines', () => {
  let testScheduler: PipelineTestScheduler;
  beforeEach(() => {
    testScheduler = new PipelineTestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const times = (cluster: InMemoryCluster, call: string) =>
    cluster.calls.filter((c) => c.call === call).map((c) => c.at);

  it('closes batches on linger and on batchRecords, and acks each record with its offset', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ cold, expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({ lingerMs: 5, batchRecords: 3 });
      const offsets = cold('a b 6ms c d e f|').pipe(
        mergeMap((value) => producer.send$({ topic: 'orders', partition: 0, value })),
        map((meta) => meta.offset),
        finalize(() => void producer.close()),
      );
      // a, b linger until 5; c, d, e fill a batch at 10; f lingers from 11 to 16.
      expectObservable(offsets).toBe('5ms (ab) 1ms (cde) 1ms (f|)', { a: 0, b: 1, c: 2, d: 3, e: 4, f: 5 });
    });
    expect(times(cluster, 'produce')).to.deep.equal([5, 10, 16]);
    expect(cluster.records('orders', 0).map((r) => `${r.offset}:${r.value}`)).to.deep.equal([
      '0:a',
      '1:b',
      '2:c',
      '3:d',
      '4:e',
      '5:f',
    ]);
  });

  it("holds true as the README's example shows it", async () => {
    await testScheduler.runAsync(async ({ cold, expectObservable }) => {
      const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({ lingerMs: 5 });
      const offsets = cold('a b 10ms c|').pipe(
        mergeMap((value) => producer.send$({ topic: 'orders', value })),
        map((meta) => meta.offset),
        finalize(() => void producer.close()),
      );
      expectObservable(offsets).toBe('5ms (ab) 8ms (c|)', { a: 0, b: 1, c: 2 });
    });
  });

  it('retries with backoff after injected errors, then acks once', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({ lingerMs: 0, retry: { initialBackoffMs: 100, jitter: 0 } });
      cluster.failNext({ call: 'produce' }, () => new StorageError('disk hiccup'), 2);
      const acked = producer.send$({ topic: 'orders', value: 'x' }).pipe(
        map((meta) => meta.offset),
        finalize(() => void producer.close()),
      );
      expectObservable(acked).toBe('300ms (a|)', { a: 0 });
    });
    // Fails at 0, waits 100, fails at 100, waits 200, succeeds at 300; written once.
    expect(times(cluster, 'produce')).to.deep.equal([0, 100, 300]);
    expect(cluster.records('orders', 0).map((r) => r.value)).to.deep.equal(['x']);
  });

  it('fails a record with DeliveryTimeoutError when the agent stays too slow', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({
        lingerMs: 0,
        requestTimeoutMs: 1000,
        deliveryTimeoutMs: 2500,
        retry: { initialBackoffMs: 100, jitter: 0 },
      });
      cluster.setLatency({ call: 'produce' }, 10_000);
      const outcome = producer.send$({ topic: 'orders', value: 'late' }).pipe(
        map(() => 'acked'),
        catchError((error: StreamHouseError) => of(error.code)),
        finalize(() => void producer.close()),
      );
      expectObservable(outcome).toBe('2500ms (a|)', { a: 'DELIVERY_TIMEOUT' });
    });
    // Each attempt times out after 1000 ms, then backs off 100, 200: attempts at 0, 1100, 2300.
    expect(times(cluster, 'produce')).to.deep.equal([0, 1100, 2300]);
    expect(cluster.records('orders', 0)).to.deep.equal([]);
  });

  it('waits maxBlockMs for buffer room and refreshes metadata on the scheduler too', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({
        lingerMs: 0,
        maxBufferedBytes: 1024,
        batchBytes: 1024,
        maxBlockMs: 250,
        metadataRefreshMs: 400,
        idempotence: false,
      });
      cluster.setLatency({ call: 'produce' }, 1000);
      const send = (value: string) =>
        producer.send$({ topic: 'orders', value }).pipe(
          map((meta) => `${meta.offset}`),
          catchError((error: StreamHouseError) => of(error.code)),
        );
      // The first record holds the whole buffer until its ack at 1000 ms; the second gives up at 250 ms.
      expectObservable(send('x'.repeat(900)).pipe(finalize(() => void producer.close()))).toBe('1000ms (a|)', {
        a: '0',
      });
      expectObservable(send('y'.repeat(900))).toBe('250ms (a|)', { a: 'BUFFER_FULL' });
    });
    expect(times(cluster, 'metadata')).to.deep.equal([0, 400, 800]);
  });

  it("times a SendResult's waitOffset on the producer's scheduler", async () => {
    const outcomes: string[] = [];
    await testScheduler.runAsync(async () => {
      const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({ lingerMs: 0 });
      cluster.setLatency({ call: 'produce' }, 1000);
      const result = await producer.send({ topic: 'orders', value: 'x' });
      const note = (label: string) => (outcome: unknown) =>
        outcomes.push(
          `${label} ` +
            `${typeof outcome === 'number' ? outcome : (outcome as StreamHouseError).code}@${testScheduler.now()}`,
        );
      await result.waitOffset(300).then(note('short'), note('short'));
      await result.waitOffset(5000).then(note('long'), note('long'));
      await producer.close();
    });
    expect(outcomes).to.deep.equal(['short DELIVERY_TIMEOUT@300', 'long 0@1000']);
  });

  it('rides out an agent that goes away and comes back', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1 } });
      const producer = await cluster.producer({ lingerMs: 0, retry: { initialBackoffMs: 100, jitter: 0 } });
      const [agent] = cluster.bootstrap;
      cluster.stopAgent(agent!);
      testScheduler.schedule(() => cluster.startAgent(agent!), 1000);
      const acked = producer.send$({ topic: 'orders', value: 'x' }).pipe(
        map((meta) => meta.offset),
        finalize(() => void producer.close()),
      );
      // Attempts at 0, 100, 300, 700 fail (backoff 100, 200, 400); the next, 800 ms later, reaches it.
      expectObservable(acked).toBe('1500ms (a|)', { a: 0 });
    });
    expect(cluster.records('orders', 0).map((r) => r.value)).to.deep.equal(['x']);
  });

  it('polls a group member: assignment after the join delay, records as they arrive, periodic commits', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ cold, expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { events: 1 } });
      const producer = await cluster.producer({ lingerMs: 0 });
      const consumer = cluster.consumer({
        groupId: 'g',
        topics: ['events'],
        resetStrategy: { type: 'earliest' },
        commitStrategy: { type: 'periodic', intervalMs: 1000 },
      });
      await producer.sendAndWait({ topic: 'events', value: 'a' });
      cold('4200ms b').subscribe((value) => void producer.send({ topic: 'events', value }));
      const values = consumer.records$.pipe(
        map((record) => `${record.offset}:${Buffer.from(record.value ?? []).toString()}`),
        take(2),
      );
      const committed = consumer.commits$.pipe(
        map((outcome) => (outcome.type === 'committed' ? outcome.offsets.map((o) => o.offset).join() : outcome.type)),
        take(2),
        finalize(() => void consumer.close().then(() => producer.close())),
      );
      // Joined at 3000 (the agent's initial rebalance delay); b is fetched as soon as it is written.
      expectObservable(values).toBe('3000ms a 1199ms (b|)', { a: '0:a', b: '1:b' });
      expectObservable(committed).toBe('4000ms a 999ms (b|)', { a: '1', b: '2' });
    });
    expect(times(cluster, 'commitOffsets')).to.deep.equal([4000, 5000]);
  });

  it('keeps a consumer reading across an agent that goes away and comes back', async () => {
    let cluster!: InMemoryCluster;
    await testScheduler.runAsync(async ({ cold, expectObservable }) => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { events: 1 } });
      const [agent] = cluster.bootstrap as [string];
      const consumer = cluster.consumer({
        assignment: [{ topic: 'events', partition: 0 }],
        resetStrategy: { type: 'earliest' },
        retry: { initialBackoffMs: 100, jitter: 0 },
      });
      const client = cluster.client(agent);
      const write = (value: string) =>
        client.produce({
          acks: 0,
          producerId: -1,
          producerEpoch: -1,
          partitions: [
            {
              topic: 'events',
              partition: 0,
              batch: encodeRecordBatch([{ key: null, value: Buffer.from(value), timestamp: 0 }]),
            },
          ],
        });
      cold('100ms a 99ms b 1000ms c').subscribe((step) => {
        if (step === 'a') void write('before');
        if (step === 'b') cluster.stopAgent(agent);
        if (step === 'c') {
          cluster.startAgent(agent);
          void write('after');
        }
      });
      const values = consumer.records$.pipe(
        map((record) => Buffer.from(record.value ?? []).toString()),
        take(2),
        finalize(() => void consumer.close()),
      );
      // Fetches fail from 200 ms with backoff (100, 200, 400, 800 ms): the one at 1700 ms finds the agent back.
      expectObservable(values).toBe('100ms a 1599ms (b|)', { a: 'before', b: 'after' });
    });
    expect(cluster.records('events', 0).map((r) => r.value)).to.deep.equal(['before', 'after']);
  });

  it('rebalances a group when a second member joins', async () => {
    await testScheduler.runAsync(async ({ cold, expectObservable }) => {
      const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { events: 2 } });
      const first = cluster.consumer({ groupId: 'g', topics: ['events'] });
      let second: Consumer | undefined;
      const events = (consumer: Consumer) =>
        consumer.rebalances$.pipe(
          map((e) => `${e.type} ${e.partitions.map((p) => p.partition).join()} g${e.generation}`),
        );
      expectObservable(events(first).pipe(take(2))).toBe('3000ms a 2999ms (b|)', {
        a: 'assigned 0,1 g1',
        b: 'revoked 1 g2',
      });
      first.records$.subscribe();
      const joining = cold('5000ms (x|)').pipe(
        mergeMap(() => {
          second = cluster.consumer({ groupId: 'g', topics: ['events'] });
          second.records$.subscribe();
          return events(second).pipe(take(1));
        }),
      );
      // The first member hears of the round at its next heartbeat (6000), gives up partition 1, and
      // the second gets it once the follow-up round completes.
      expectObservable(joining).toBe('6050ms (a|)', { a: 'assigned 1 g3' });
      testScheduler.schedule(() => void first.close().then(() => second?.close()), 10_000);
    });
  });
});
