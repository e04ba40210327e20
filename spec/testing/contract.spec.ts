/**
 * The in-memory cluster keeps the agent's rules: the same cases, through the
 * same client interface, against a real agent (ephemeral port) and against
 * the in-memory cluster, so the two cannot drift apart unnoticed.
 */
import { expect } from 'chai';
import type { StreamHouseClient } from '../../src/client/agentClient.js';
import { decodeRecordBatches, encodeRecordBatch, type EncodeOptions } from '../../src/protocol/codec/recordBatch.js';
import { ErrorCode, OffsetSpec, AckMode } from '../../src/protocol/generated/streamhouse.js';
import { IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError } from '../../src/protocol/errors.js';
import { createInMemoryCluster } from '../../src/testing/index.js';
import { createTestStores, records, startTestAgent } from '../support/agentHarness.js';

type Target = { client: StreamHouseClient; close(): Promise<void> };

const targets: { name: string; open(): Promise<Target> }[] = [
  {
    name: 'a real agent',
    async open() {
      const stores = await createTestStores('sqlite');
      const agent = await startTestAgent(stores, { groupInitialRebalanceDelayMs: 0 });
      return {
        client: agent.connection.client,
        async close() {
          await agent.stop();
          await stores.cleanup();
        },
      };
    },
  },
  {
    name: 'the in-memory cluster',
    async open() {
      const cluster = await createInMemoryCluster({ initialRebalanceDelayMs: 0 });
      return { client: cluster.client(cluster.bootstrap[0]!), close: () => cluster.close() };
    },
  },
];

/** Produces one batch of `count` records; the partition's result. */
async function produce(client: StreamHouseClient, topic: string, count: number, encode: EncodeOptions = {}) {
  const { producerId = -1, producerEpoch = -1 } = encode;
  const { results } = await client.produce({
    acks: AckMode.ACK_MODE_DURABLE,
    producerId,
    producerEpoch,
    partitions: [{ topic, partition: 0, batch: encodeRecordBatch(records(count), encode) }],
  });
  const [result] = results;
  return { code: result!.error?.code ?? ErrorCode.NONE, baseOffset: result!.baseOffset };
}

/** One Fetch of partition 0 from `offset`: error code, high watermark, offsets of the records returned. */
async function fetchFrom(client: StreamHouseClient, topic: string, offset: number) {
  const { results } = await client.fetch({ partitions: [{ topic, partition: 0, offset }], maxWaitMs: 0, minBytes: 1 });
  const [result] = results;
  const offsets = decodeRecordBatches(result!.records).flatMap((b) => b.records.map((r) => r.offset));
  return { code: result!.error?.code ?? ErrorCode.NONE, highWatermark: result!.highWatermark, offsets };
}

for (const target of targets) {
  describe(`agent contract: ${target.name}`, function () {
    this.timeout(20_000);
    let t: Target;
    beforeEach(async () => {
      t = await target.open();
      await t.client.createTopic({ name: 'orders', partitions: 2 });
    });
    afterEach(() => t.close());

    it('gives dense offsets per batch and fetches whole batches from the one holding the offset', async () => {
      expect(await produce(t.client, 'orders', 3)).to.deep.equal({ code: ErrorCode.NONE, baseOffset: 0 });
      expect(await produce(t.client, 'orders', 2)).to.deep.equal({ code: ErrorCode.NONE, baseOffset: 3 });
      expect(await fetchFrom(t.client, 'orders', 0)).to.deep.equal({
        code: ErrorCode.NONE,
        highWatermark: 5,
        offsets: [0, 1, 2, 3, 4],
      });
      // Offset 4 lies in the second batch: it comes whole, from 3.
      expect(await fetchFrom(t.client, 'orders', 4)).to.deep.equal({
        code: ErrorCode.NONE,
        highWatermark: 5,
        offsets: [3, 4],
      });
      expect(await fetchFrom(t.client, 'orders', 5)).to.deep.equal({
        code: ErrorCode.NONE,
        highWatermark: 5,
        offsets: [],
      });
      const { results } = await t.client.listOffsets({
        partitions: [
          { topic: 'orders', partition: 0, spec: OffsetSpec.OFFSET_SPEC_EARLIEST },
          { topic: 'orders', partition: 0, spec: OffsetSpec.OFFSET_SPEC_LATEST },
        ],
      });
      expect(results.map((r) => r.offset)).to.deep.equal([0, 5]);
    });

    it('answers an idempotent retry with its first offsets, and refuses a sequence gap or an old epoch', async () => {
      const { producerId, producerEpoch } = await t.client.initProducerId({ producerId: -1 });
      const first = { producerId, producerEpoch, baseSequence: 0 };
      expect(await produce(t.client, 'orders', 2, first)).to.deep.equal({ code: ErrorCode.NONE, baseOffset: 0 });
      expect(await produce(t.client, 'orders', 2, first)).to.deep.equal({ code: ErrorCode.NONE, baseOffset: 0 });
      expect((await fetchFrom(t.client, 'orders', 0)).offsets).to.deep.equal([0, 1]);
      const gap = await produce(t.client, 'orders', 1, { ...first, baseSequence: 5 });
      expect(gap.code).to.equal(ErrorCode.OUT_OF_ORDER_SEQUENCE);
      const next = await produce(t.client, 'orders', 1, { ...first, baseSequence: 2 });
      expect(next).to.deep.equal({ code: ErrorCode.NONE, baseOffset: 2 });
      const bumped = await t.client.initProducerId({ producerId });
      expect(bumped).to.deep.equal({ producerId, producerEpoch: producerEpoch + 1 });
      expect(await produce(t.client, 'orders', 1, { ...bumped, baseSequence: 0 })).to.deep.equal({
        code: ErrorCode.NONE,
        baseOffset: 3,
      });
      const stale = await produce(t.client, 'orders', 1, { ...first, baseSequence: 3 });
      expect(stale.code).to.equal(ErrorCode.INVALID_PRODUCER_EPOCH);
      expect((await fetchFrom(t.client, 'orders', 0)).highWatermark).to.equal(4);
    });

    it('answers OFFSET_OUT_OF_RANGE past the high watermark and below the log start', async () => {
      await produce(t.client, 'orders', 2);
      expect(await fetchFrom(t.client, 'orders', 3)).to.deep.include({ code: ErrorCode.OFFSET_OUT_OF_RANGE });
      expect(await fetchFrom(t.client, 'orders', -1)).to.deep.include({ code: ErrorCode.OFFSET_OUT_OF_RANGE });
    });

    it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic or partition, writing nothing', async () => {
      expect((await produce(t.client, 'nope', 1)).code).to.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect((await fetchFrom(t.client, 'nope', 0)).code).to.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const { results } = await t.client.produce({
        acks: AckMode.ACK_MODE_DURABLE,
        producerId: -1,
        producerEpoch: -1,
        partitions: [{ topic: 'orders', partition: 2, batch: encodeRecordBatch(records(1)) }],
      });
      expect(results[0]!.error?.code).to.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const { topics } = await t.client.metadata({ topics: ['nope', 'orders'] });
      expect(topics.map((topic) => [topic.name, topic.error?.code ?? 0, topic.partitions.length])).to.deep.equal([
        ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
        ['orders', 0, 2],
      ]);
      expect((await fetchFrom(t.client, 'orders', 0)).highWatermark).to.equal(0);
    });

    it('fences heartbeats and commits by group generation and membership', async () => {
      const protocols = [{ name: 'range', metadata: Buffer.from('m') }];
      const join = await t.client.joinGroup({
        groupId: 'g',
        memberId: '',
        clientId: 'c',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        protocols,
      });
      expect([join.generationId, join.leaderId === join.memberId, join.members.length]).to.deep.equal([1, true, 1]);
      const { memberId } = join;
      const assignment = Buffer.from('orders:0,1');
      const sync = await t.client.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId,
        assignments: [{ memberId, assignment }],
      });
      expect(Buffer.from(sync.assignment).toString()).to.equal('orders:0,1');
      expect(await t.client.heartbeat({ groupId: 'g', generationId: 1, memberId })).to.deep.equal({});
      const stale = await t.client.heartbeat({ groupId: 'g', generationId: 0, memberId }).catch((e: unknown) => e);
      expect(stale).to.be.instanceOf(IllegalGenerationError);
      const stranger = await t.client.heartbeat({ groupId: 'g', generationId: 1, memberId: 'x' }).catch((e) => e);
      expect(stranger).to.be.instanceOf(UnknownMemberIdError);
      const commit = (generationId: number) =>
        t.client.commitOffsets({
          groupId: 'g',
          generationId,
          memberId,
          partitions: [{ topic: 'orders', partition: 0, offset: 7, metadata: '' }],
        });
      expect((await commit(1)).results.map((r) => r.error?.code ?? 0)).to.deep.equal([0]);
      expect((await commit(2)).results.map((r) => r.error?.code)).to.deep.equal([ErrorCode.ILLEGAL_GENERATION]);
      const { offsets } = await t.client.fetchOffsets({
        groupId: 'g',
        partitions: [{ topic: 'orders', partition: 0 }],
      });
      expect(offsets.map((o) => o.offset)).to.deep.equal([7]);
      // Joining again alone completes generation 2 at once.
      const again = { groupId: 'g', memberId, clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000 };
      expect((await t.client.joinGroup({ ...again, protocols })).generationId).to.equal(2);
      // A second member starts a round: the first hears of it by heartbeat, rejoins, and both get generation 3.
      const second = t.client.joinGroup({ ...again, memberId: '', clientId: 'd', protocols });
      let heard: unknown;
      while (heard === undefined) {
        heard = await t.client.heartbeat({ groupId: 'g', generationId: 2, memberId }).then(
          () => undefined,
          (error: unknown) => error,
        );
      }
      expect(heard).to.be.instanceOf(RebalanceInProgressError);
      const rejoined = await t.client.joinGroup({ ...again, protocols });
      expect([rejoined.generationId, (await second).generationId, rejoined.members.length]).to.deep.equal([3, 3, 2]);
      expect((await commit(2)).results.map((r) => r.error?.code)).to.deep.equal([ErrorCode.ILLEGAL_GENERATION]);
    });
  });
}
