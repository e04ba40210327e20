import { expect } from 'chai';
import { firstValueFrom, map, mergeMap, take, tap, timer, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import type { ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import { createTopic, produceValues, startCluster, waitFor, type Cluster } from './consumerSupport.js';

describe('client/consumer: explicit acknowledgement against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  const consumers: Consumer[] = [];

  const consumer = (options: Partial<ConsumerOptions> = {}): Consumer => {
    const created = createConsumer({
      bootstrap: [cluster.address],
      groupId: 'g',
      assignment: [{ topic: 't', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
      ackMode: 'explicit',
      ...options,
    });
    consumers.push(created);
    return created;
  };
  const committed = async () => {
    const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({
      groupId: 'g',
      partitions: [{ topic: 't', partition: 0 }],
    });
    return offsets[0]!.offset;
  };

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 't', 1);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await cluster.stop();
  });

  it('commits out-of-order acknowledgements from mergeMap only up to the first unacknowledged offset', async () => {
    await produceValues(cluster, 't', 0, 6, 'v');
    const c = consumer({ commitStrategy: { type: 'every-n', count: 1 } });
    const commits: number[] = [];
    c.commits$.subscribe(
      (outcome) => outcome.type === 'committed' && commits.push(...outcome.offsets.map((o) => o.offset)),
    );
    // acknowledged in the order 2, 0, 1, 4, 3, 5 (timers fire in order of their due times)
    const delayMs = [60, 100, 20, 180, 140, 220];
    const positions = await firstValueFrom(
      c.records$.pipe(
        take(6),
        mergeMap((record: ConsumerRecord) => timer(delayMs[record.offset]!).pipe(map(() => record))),
        tap((record) => record.ack()),
        map((record) => [record.offset, c.position('t', 0)]),
        toArray(),
      ),
    );
    expect(positions).to.deep.equal([
      [2, 0],
      [0, 1],
      [1, 3],
      [4, 3],
      [3, 5],
      [5, 6],
    ]);
    await waitFor(() => commits.at(-1) === 6, 'the commit of offset 6');
    expect(commits.filter((offset) => ![1, 3, 5, 6].includes(offset))).to.deep.equal([]);
    expect(await committed()).to.equal(6);
  });

  for (const mode of ['manual assignment', 'group membership'] as const) {
    it(`a consumer closed with records unacked: the next rereads from the first; no acked loss (${mode})`, async () => {
      await produceValues(cluster, 't', 0, 20, 'v');
      const membership: Partial<ConsumerOptions> =
        mode === 'manual assignment' ? {} : { topics: ['t'], assignment: undefined };
      const first = consumer({ commitStrategy: { type: 'every-n', count: 1 }, ...membership });
      const acked = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12];
      await firstValueFrom(
        first.records$.pipe(
          take(20),
          tap((record) => acked.includes(record.offset) && record.ack()),
          toArray(),
        ),
      );
      expect(first.position('t', 0)).to.equal(8);
      await first.close();
      expect(await committed()).to.equal(8);
      const second = consumer(membership);
      const again = await firstValueFrom(second.records$.pipe(take(12), toArray()));
      expect(again.map((r) => r.offset)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 8));
    });
  }

  it('a consumer abandoned with acked records not committed: they are delivered again (at least once)', async () => {
    await produceValues(cluster, 't', 0, 10, 'v');
    const first = consumer({ commitStrategy: { type: 'periodic', intervalMs: 600_000 } });
    await firstValueFrom(
      first.records$.pipe(
        take(10),
        tap((record) => record.offset < 6 && record.ack()),
        toArray(),
      ),
    );
    expect(first.position('t', 0)).to.equal(6);
    // the first consumer is never closed (a crash): nothing was committed, so everything comes again
    expect(await committed()).to.equal(-1);
    const second = consumer({ ackMode: 'delivery' });
    const again = await firstValueFrom(second.records$.pipe(take(10), toArray()));
    expect(again.map((r) => r.offset)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i));
  });

  it('stops fetching a partition at maxUnackedPerPartition and goes on as acknowledgements arrive', async () => {
    await produceValues(cluster, 't', 0, 40, 'v', 5);
    const c = consumer({ maxUnackedPerPartition: 10, maxPartitionFetchBytes: 100, commitStrategy: { type: 'manual' } });
    const held: ConsumerRecord[] = [];
    const subscription = c.records$.subscribe((record) => held.push(record));
    await waitFor(() => held.length >= 10, '10 records');
    // batches of 5: the window fills after two, and no fetch is delivered beyond it until acknowledgements come
    await waitFor(() => c.prefetchStats().buffered === 0, 'fetching to stop');
    expect(held.map((r) => r.offset)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i));
    for (const record of held.splice(0, 5)) record.ack();
    await waitFor(() => held.length >= 10, 'more records after acknowledgements');
    expect(held.map((r) => r.offset)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i + 5));
    expect(c.position('t', 0)).to.equal(5);
    subscription.unsubscribe();
  });

  it("batch.ack() acknowledges a whole batch; a run handler's success alone does not", async () => {
    await produceValues(cluster, 't', 0, 10, 'v', 5);
    const c = consumer({ maxPartitionFetchBytes: 100, commitStrategy: { type: 'manual' } });
    const firsts: number[] = [];
    const done = c.run({
      eachBatch: async (batch) => {
        firsts.push(batch.firstOffset);
        if (batch.firstOffset === 5) batch.ack();
      },
    });
    await waitFor(() => firsts.length === 2, 'two batches');
    expect(c.position('t', 0)).to.equal(0);
    await c.close();
    await done;
    expect(firsts).to.deep.equal([0, 5]);
    expect(await committed()).to.equal(-1);
  });

  it('in delivery mode, ack() is a harmless no-op', async () => {
    await produceValues(cluster, 't', 0, 3, 'v');
    const c = consumer({ ackMode: 'delivery', commitStrategy: { type: 'manual' } });
    const read = await firstValueFrom(c.records$.pipe(take(3), toArray()));
    read[2]!.ack();
    read[2]!.ack();
    expect(c.position('t', 0)).to.equal(3);
  });

  it('ignores acknowledgements of records delivered before a seek', async () => {
    await produceValues(cluster, 't', 0, 10, 'v');
    const c = consumer({ commitStrategy: { type: 'manual' } });
    const before = await firstValueFrom(c.records$.pipe(take(10), toArray()));
    c.seek('t', 0, 3);
    for (const record of before) record.ack();
    expect(c.position('t', 0)).to.equal(3);
    const after = await firstValueFrom(c.records$.pipe(take(2), toArray()));
    after[1]!.ack();
    after[0]!.ack();
    expect(c.position('t', 0)).to.equal(5);
    expect(await c.commit()).to.deep.equal([{ topic: 't', partition: 0, offset: 5, metadata: '' }]);
  });
});
