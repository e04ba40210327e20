import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import { AgentOffsetStore } from '../../../src/client/offsets/agentOffsetStore.js';
import { MemoryOffsetStore } from '../../../src/client/offsets/index.js';
import { IllegalGenerationError, UnknownTopicOrPartitionError } from '../../../src/protocol/errors.js';
import { createTopic, produceValues, startCluster, triple, type Cluster } from './consumerSupport.js';

describe('client/consumer: commits against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  const consumers: Consumer[] = [];

  const consumer = (options: Partial<ConsumerOptions>): Consumer => {
    const created = createConsumer({
      bootstrap: [cluster.address],
      groupId: 'g',
      assignment: [{ topic: 't', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
      ...options,
    });
    consumers.push(created);
    return created;
  };
  const committed = async (groupId = 'g') => {
    const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({
      groupId,
      partitions: [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ],
    });
    return offsets.map((o) => o.offset);
  };

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 't', 2);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await cluster.stop();
  });

  it('commits on close what was read, and a restart resumes from there', async () => {
    await produceValues(cluster, 't', 0, 25, 'v', 5);
    const first = consumer({ resetStrategy: { type: 'latest' } });
    first.seek('t', 0, 0);
    const read = await firstValueFrom(first.records$.pipe(take(15), toArray()));
    expect(read.map((r) => r.offset)).to.deep.equal(Array.from({ length: 15 }, (_, i) => i));
    expect(await committed()).to.deep.equal([-1, -1]);
    await first.close();
    expect(await committed()).to.deep.equal([15, -1]);
    // latest would start at 25: the committed offset wins
    const second = consumer({ resetStrategy: { type: 'latest' } });
    expect(triple(await firstValueFrom(second.records$))).to.deep.equal([0, 15, 'v-15']);
  });

  it('commits a run() batch only once its handler succeeded; a failed one is redelivered after restart', async () => {
    await produceValues(cluster, 't', 0, 30, 'h', 10);
    const c = consumer({ maxPartitionFetchBytes: 100 });
    const seen: number[] = [];
    const failure = new Error('handler failed');
    const result = await c
      .run({
        eachBatch: async (batch) => {
          seen.push(batch.firstOffset);
          if (batch.firstOffset === 10) throw failure;
        },
      })
      .catch((e: unknown) => e);
    expect(result).to.equal(failure);
    expect(seen).to.deep.equal([0, 10]);
    expect(c.position('t', 0)).to.equal(10);
    await c.close();
    expect(await committed()).to.deep.equal([10, -1]);
    const again = consumer({ maxPartitionFetchBytes: 100 });
    const redelivered = await firstValueFrom(again.batches$);
    expect([redelivered.firstOffset, redelivered.lastOffset]).to.deep.equal([10, 19]);
  });

  it('with the manual strategy commits only when asked, and exactly what was asked', async () => {
    await produceValues(cluster, 't', 0, 8, 'm');
    await produceValues(cluster, 't', 1, 4, 'n');
    const c = consumer({
      commitStrategy: { type: 'manual' },
      assignment: [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ],
    });
    await firstValueFrom(c.records$.pipe(take(12), toArray()));
    expect(await committed()).to.deep.equal([-1, -1]);
    expect(await c.commit()).to.deep.equal([
      { topic: 't', partition: 0, offset: 8, metadata: '' },
      { topic: 't', partition: 1, offset: 4, metadata: '' },
    ]);
    expect(await committed()).to.deep.equal([8, 4]);
    expect(await c.commit([{ topic: 't', partition: 0, offset: 3, metadata: 'rewind' }])).to.deep.equal([
      { topic: 't', partition: 0, offset: 3, metadata: 'rewind' },
    ]);
    expect(await committed()).to.deep.equal([3, 4]);
    await c.close();
    expect(await committed()).to.deep.equal([3, 4]);
    const commits = await c.commit().catch((e: unknown) => e);
    expect((commits as Error).name).to.equal('ConsumerClosedError');
  });

  it('commits to another offset store when given one', async () => {
    await produceValues(cluster, 't', 0, 5, 's');
    const store = new MemoryOffsetStore({ now: () => 7 });
    const c = consumer({ offsetStore: store });
    await firstValueFrom(c.records$.pipe(take(5), toArray()));
    await c.close();
    expect(await store.load('g')).to.deep.equal([{ topic: 't', partition: 0, offset: 5, metadata: '', commitTime: 7 }]);
    expect(await committed()).to.deep.equal([-1, -1]);
  });

  describe('AgentOffsetStore', () => {
    it('saves and loads group offsets through the agent, sorted, leaving out partitions without a commit', async () => {
      const store = new AgentOffsetStore({ client: () => cluster.agents[0]!.connection.client });
      const before = Date.now();
      await store.save('g2', [
        { topic: 't', partition: 1, offset: 9, metadata: 'b' },
        { topic: 't', partition: 0, offset: 4, metadata: 'a' },
      ]);
      const loaded = await store.load('g2');
      expect(loaded.map(({ commitTime, ...rest }) => rest)).to.deep.equal([
        { topic: 't', partition: 0, offset: 4, metadata: 'a' },
        { topic: 't', partition: 1, offset: 9, metadata: 'b' },
      ]);
      expect(loaded[0]!.commitTime).to.be.within(before, Date.now());
      expect((await store.load('g2', [{ topic: 't', partition: 1 }])).map((o) => o.offset)).to.deep.equal([9]);
      expect(await store.load('nobody', [{ topic: 't', partition: 0 }])).to.deep.equal([]);
      expect(await store.load('g2', [])).to.deep.equal([]);
    });

    it('passes the agent errors on, typed: unknown partitions and stale generations', async () => {
      const store = new AgentOffsetStore({ client: () => cluster.agents[0]!.connection.client });
      const unknown = await store
        .save('g3', [{ topic: 't', partition: 5, offset: 1, metadata: '' }])
        .catch((e: unknown) => e);
      expect(unknown).to.be.instanceOf(UnknownTopicOrPartitionError);
      expect((unknown as UnknownTopicOrPartitionError).context).to.deep.equal({ topic: 't', partition: 5 });
      const fenced = await store
        .save('g3', [{ topic: 't', partition: 0, offset: 1, metadata: '' }], { generation: 4, memberId: 'm' })
        .catch((e: unknown) => e);
      expect(fenced).to.be.instanceOf(IllegalGenerationError);
      expect(await store.load('g3')).to.deep.equal([]);
    });
  });
});
