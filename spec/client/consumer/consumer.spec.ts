import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import type { ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import {
  ConsumerClosedError,
  InvalidConfigError,
  InvalidRequestError,
  UnknownTopicOrPartitionError,
} from '../../../src/protocol/errors.js';
import { createTopic, produceValues, startCluster, triple, waitFor, type Cluster } from './consumerSupport.js';

describe('client/consumer: manual assignment against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  const consumers: Consumer[] = [];

  const consumer = (options: Partial<ConsumerOptions>): Consumer => {
    const created = createConsumer({
      bootstrap: [cluster.address],
      assignment: [{ topic: 't', partition: 0 }],
      fetchMaxWaitMs: 100,
      ...options,
    });
    consumers.push(created);
    return created;
  };
  const all = (partitions: number[]) => partitions.map((partition) => ({ topic: 't', partition }));

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 't', 3);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await cluster.stop();
  });

  it('reads several partitions, each in offset order, with exact offsets and values', async () => {
    await produceValues(cluster, 't', 0, 25, 'a', 10);
    await produceValues(cluster, 't', 1, 7, 'b', 3);
    await produceValues(cluster, 't', 2, 12, 'c', 12);
    const c = consumer({
      assignment: all([0, 1, 2]),
      resetStrategy: { type: 'earliest' },
      maxPartitionFetchBytes: 200,
    });
    const got = await firstValueFrom(c.records$.pipe(take(44), toArray()));
    const of = (p: number) => got.filter((r) => r.partition === p).map(triple);
    expect(of(0)).to.deep.equal(Array.from({ length: 25 }, (_, i) => [0, i, `a-${i}`]));
    expect(of(1)).to.deep.equal(Array.from({ length: 7 }, (_, i) => [1, i, `b-${i}`]));
    expect(of(2)).to.deep.equal(Array.from({ length: 12 }, (_, i) => [2, i, `c-${i}`]));
    expect(got[0]!.topic).to.equal('t');
    expect(Buffer.from(got[0]!.key!).toString()).to.match(/^k\d+$/);
    expect(c.position('t', 0)).to.equal(25);
    expect(c.position('t', 1)).to.equal(7);
  });

  it('delivers records produced while it waits (long poll)', async () => {
    const c = consumer({ resetStrategy: { type: 'latest' }, fetchMaxWaitMs: 2000 });
    await produceValues(cluster, 't', 0, 3, 'old');
    const received = firstValueFrom(c.records$.pipe(take(2), toArray()));
    await waitFor(() => c.position('t', 0) === 3, 'the latest position');
    await produceValues(cluster, 't', 0, 2, 'new');
    expect((await received).map(triple)).to.deep.equal([
      [0, 3, 'new-0'],
      [0, 4, 'new-1'],
    ]);
  });

  it('starts where each reset strategy says', async () => {
    await produceValues(cluster, 't', 0, 10, 'x', 5, 1_000);
    const first = async (options: Partial<ConsumerOptions>) => {
      const c = consumer(options);
      const record = await firstValueFrom(c.records$);
      await c.close();
      return triple(record);
    };
    expect(await first({ resetStrategy: { type: 'earliest' } })).to.deep.equal([0, 0, 'x-0']);
    expect(await first({ resetStrategy: { type: 'offset', offset: 7 } })).to.deep.equal([0, 7, 'x-7']);
    // records() stamps timestamp + i: the first at or after 1004 is offset 4
    expect(await first({ resetStrategy: { type: 'timestamp', timestamp: 1_004 } })).to.deep.equal([0, 4, 'x-4']);
    const latest = consumer({ resetStrategy: { type: 'latest' } });
    const next = firstValueFrom(latest.records$);
    await waitFor(() => latest.position('t', 0) === 10, 'the latest position');
    await produceValues(cluster, 't', 0, 1, 'y');
    expect(triple(await next)).to.deep.equal([0, 10, 'y-0']);
  });

  it('seeks before and while reading, and reports positions', async () => {
    await produceValues(cluster, 't', 0, 20, 'v', 4);
    const c = consumer({ resetStrategy: { type: 'earliest' } });
    expect(c.position('t', 0)).to.equal(undefined);
    c.seek('t', 0, 5);
    expect(c.position('t', 0)).to.equal(5);
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = c.records$.subscribe({
        next: (record) => {
          seen.push(record.offset);
          if (record.offset === 8) c.seek('t', 0, 2);
          if (seen.length === 10) {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    expect(seen).to.deep.equal([5, 6, 7, 8, 2, 3, 4, 5, 6, 7]);
    expect(c.position('t', 0)).to.equal(8);
    expect(() => c.seek('t', 1, 0)).to.throw(UnknownTopicOrPartitionError);
    expect(() => c.seek('t', 0, -1)).to.throw(InvalidRequestError);
    // reading again resumes from the position
    const again = await firstValueFrom(c.records$.pipe(take(2), toArray()));
    expect(again.map((r) => r.offset)).to.deep.equal([8, 9]);
  });

  it('resets a position beyond the log with the reset strategy', async () => {
    await produceValues(cluster, 't', 0, 6, 'v');
    const c = consumer({ resetStrategy: { type: 'earliest' } });
    c.seek('t', 0, 100);
    expect(triple(await firstValueFrom(c.records$))).to.deep.equal([0, 0, 'v-0']);
  });

  it('iterates with for await, a record counting as processed when the next is asked for', async () => {
    await produceValues(cluster, 't', 0, 6, 'i', 2);
    const c = consumer({ resetStrategy: { type: 'earliest' } });
    const seen: string[] = [];
    for await (const record of c) {
      seen.push(triple(record)[2]);
      // Every record before the one in hand is processed, inside a batch as across batches.
      expect(c.position('t', 0)).to.equal(record.offset);
      if (record.offset === 3) break;
    }
    expect(seen).to.deep.equal(['i-0', 'i-1', 'i-2', 'i-3']);
    // the loop left during offset 3: it is delivered again
    expect(c.position('t', 0)).to.equal(3);
    const rest: number[] = [];
    for await (const record of c.records()) {
      rest.push(record.offset);
      if (record.offset === 5) break;
    }
    expect(rest).to.deep.equal([3, 4, 5]);
  });

  it('keeps the prefetch buffer bounded under a slow handler with lots of data', async () => {
    for (let p = 0; p < 3; p++) await produceValues(cluster, 't', p, 400, `p${p}`, 20);
    const c = consumer({
      assignment: all([0, 1, 2]),
      resetStrategy: { type: 'earliest' },
      maxPrefetchBatches: 3,
      maxPartitionFetchBytes: 100,
    });
    const counts = [0, 0, 0];
    let processedBatches = 0;
    const done = c.run({
      eachBatch: async (batch) => {
        expect(c.prefetchStats().buffered).to.be.at.most(3);
        counts[batch.partition]! += batch.records.length;
        processedBatches++;
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (counts.every((n) => n === 400)) void c.close();
      },
    });
    await done;
    expect(counts).to.deep.equal([400, 400, 400]);
    // maxPartitionFetchBytes below one stored batch: one stored batch (20 records) per fetch
    expect(processedBatches).to.equal(60);
    expect(c.prefetchStats().peak).to.equal(3);
  });

  it('pauses and resumes a partition', async () => {
    await produceValues(cluster, 't', 0, 3, 'a');
    await produceValues(cluster, 't', 1, 3, 'b');
    const c = consumer({ assignment: all([0, 1]), resetStrategy: { type: 'earliest' } });
    c.pause('t', 0);
    const got: ConsumerRecord[] = [];
    const subscription = c.records$.subscribe((r) => got.push(r));
    await waitFor(() => got.length === 3, 'partition 1');
    // Records stored now reach the consumer through later fetches: by then a fetch of unpaused partition 0 would have
    // brought its records too.
    await produceValues(cluster, 't', 1, 2, 'c');
    await waitFor(() => got.length === 5, 'partition 1, later records');
    expect(got.map(triple)).to.deep.equal([
      [1, 0, 'b-0'],
      [1, 1, 'b-1'],
      [1, 2, 'b-2'],
      [1, 3, 'c-0'],
      [1, 4, 'c-1'],
    ]);
    c.resume('t', 0);
    await waitFor(() => got.length === 8, 'partition 0 after resume');
    expect(got.slice(5).map(triple)).to.deep.equal([
      [0, 0, 'a-0'],
      [0, 1, 'a-1'],
      [0, 2, 'a-2'],
    ]);
    subscription.unsubscribe();
  });

  it('reports exact lag from the high watermarks it fetched while a producer runs', async () => {
    await produceValues(cluster, 't', 0, 40, 'l', 10);
    await produceValues(cluster, 't', 1, 5, 'm', 5);
    const c = consumer({
      assignment: all([0, 1]),
      resetStrategy: { type: 'earliest' },
      maxPrefetchBatches: 1,
      maxPartitionFetchBytes: 100,
    });
    const observed: [number, number, number, number][] = [];
    let produced = 40;
    await c.run({
      eachBatch: async (batch) => {
        const lag = c.lag();
        const partitionLag = lag.partitions.find((p) => p.partition === batch.partition)!.lag;
        observed.push([batch.partition, batch.firstOffset, partitionLag, lag.total]);
        if (batch.partition === 0 && produced < 60) {
          // the producer runs while the consumer works: the next fetch sees the new high watermark
          await produceValues(cluster, 't', 0, 10, `more${produced}`, 10);
          produced += 10;
        }
        if (batch.partition === 0 && batch.lastOffset === 59) void c.close();
      },
    });
    // Partitions take turns (one batch buffered at a time); lag = high watermark seen - position before the batch.
    expect(observed).to.deep.equal([
      [0, 0, 40, 45],
      [1, 0, 5, 35],
      [0, 10, 40, 40],
      [0, 20, 40, 40],
      [0, 30, 30, 30],
      [0, 40, 20, 20],
      [0, 50, 10, 10],
    ]);
  });

  it('fails with UnknownTopicOrPartitionError when a subscribed topic does not exist, instead of waiting', async () => {
    const c = consumer({ assignment: undefined, groupId: 'g', topics: ['t', 'nope'] });
    const error = await firstValueFrom(c.records$).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect((error as Error).message).to.equal('topic nope does not exist');
    expect((error as UnknownTopicOrPartitionError).context).to.deep.equal({ topic: 'nope' });
  });

  it('fails with typed errors for bad options, unknown partitions and use after close', async () => {
    expect(() => createConsumer({ bootstrap: [cluster.address] })).to.throw(InvalidConfigError, 'exactly one');
    expect(() => createConsumer({ bootstrap: [cluster.address], topics: ['t'] })).to.throw(
      InvalidConfigError,
      'need a groupId',
    );
    expect(() => createConsumer({ bootstrap: ['nohost'], assignment: all([0]) })).to.throw(
      InvalidConfigError,
      'host:port',
    );
    expect(() =>
      createConsumer({ bootstrap: [cluster.address], assignment: all([0]), heartbeatIntervalMs: 20_000 }),
    ).to.throw(InvalidConfigError, 'heartbeatIntervalMs');
    const unknown = consumer({ assignment: [{ topic: 't', partition: 9 }] });
    const error = await firstValueFrom(unknown.records$).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect((error as Error).message).to.equal('t/9 does not exist (3 partitions)');
    const noTopic = consumer({ assignment: [{ topic: 'nope', partition: 0 }] });
    const missing = await firstValueFrom(noTopic.records$).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect((missing as Error).message).to.equal('topic nope does not exist');
    const c = consumer({});
    expect(await c.commit().catch((e: unknown) => e)).to.be.instanceOf(InvalidConfigError);
    await c.close();
    expect(await firstValueFrom(c.records$).catch((e: unknown) => e)).to.be.instanceOf(ConsumerClosedError);
    expect(() => c.seek('t', 0, 1)).to.throw(ConsumerClosedError);
    expect(await c.commit().catch((e: unknown) => e)).to.be.instanceOf(ConsumerClosedError);
  });
});
