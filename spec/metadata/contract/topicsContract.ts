/** Contract: topics, partitions, validation, deletion, persistence. */
import { expect } from 'chai';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidRequestError,
  InvalidTopicError,
  TopicAlreadyExistsError,
  UnknownTopicOrPartitionError,
} from '../../../src/protocol/errors.js';
import { DEFAULT_TOPIC_CONFIG } from '../../../src/metadata/metadataStore.js';
import { isTopicId } from '../../../src/metadata/topicIds.js';
import { rejection, segment, useStore, type StoreHarnessFactory } from './harness.js';

export function topicsContract(factory: StoreHarnessFactory): void {
  describe('topics', () => {
    const ctx = useStore(factory);

    it('creates a topic with defaults applied and partitions at offset 0, unleased', async () => {
      const { store, clock } = ctx();
      const created = await store.createTopic('orders', 3, { retentionMs: 60_000 });
      expect(isTopicId(created.id), created.id).to.equal(true);
      const expected = {
        name: 'orders',
        id: created.id,
        partitions: 3,
        config: { ...DEFAULT_TOPIC_CONFIG, retentionMs: 60_000 },
        createdAt: clock.now,
      };
      expect(created).to.deep.equal(expected);
      expect(await store.getTopic('orders')).to.deep.equal(expected);
      expect(await store.getTopic('missing')).to.equal(undefined);
      const partitions = await store.listPartitions('orders');
      expect(partitions).to.deep.equal(
        [0, 1, 2].map((partition) => ({
          topic: 'orders',
          partition,
          highWatermark: 0,
          logStartOffset: 0,
          leaseHolder: undefined,
          leaseEpoch: 0,
          leaseExpiresAt: 0,
        })),
      );
      expect(await store.getPartition('orders', 2)).to.deep.equal(partitions[2]);
    });

    it('gives each topic its own id, found by it until the topic is deleted; a namesake gets a new one', async () => {
      const { store, harness, clock } = ctx();
      const orders = await store.createTopic('orders', 1);
      const users = await store.createTopic('users', 2);
      expect(orders.id).to.not.equal(users.id);
      expect(await store.getTopicById(users.id)).to.deep.equal(users);
      expect((await store.listTopics()).map((t) => t.id)).to.deep.equal([orders.id, users.id]);
      for (const bad of [
        '',
        'orders',
        orders.id.toUpperCase(),
        `${orders.id}0`,
        '00000000-0000-0000-0000-000000000000',
      ]) {
        expect(await store.getTopicById(bad), bad).to.equal(undefined);
      }
      await store.deleteTopic('orders');
      expect(await store.getTopicById(orders.id)).to.equal(undefined);
      const again = await store.createTopic('orders', 1);
      expect(again.id).to.not.equal(orders.id);
      expect(await store.getTopicById(orders.id)).to.equal(undefined);
      const reopened = await harness.open(clock.read);
      expect((await reopened.getTopicById(again.id))?.name).to.equal('orders');
      expect((await reopened.getTopic('users'))?.id).to.equal(users.id);
    });

    it('lists topics sorted by name', async () => {
      const { store } = ctx();
      for (const name of ['b-topic', 'A.topic', 'a_topic', 'a-topic']) await store.createTopic(name, 1);
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['A.topic', 'a-topic', 'a_topic', 'b-topic']);
    });

    it('refuses a second topic with the same name and keeps the first', async () => {
      const { store } = ctx();
      await store.createTopic('orders', 2);
      const error = await rejection(store.createTopic('orders', 5), TopicAlreadyExistsError, 'TOPIC_ALREADY_EXISTS');
      expect(error.message).to.equal("topic 'orders' already exists");
      expect((await store.getTopic('orders'))?.partitions).to.equal(2);
    });

    it('refuses a topic beyond maxTopics, writing nothing; an existing name answers TOPIC_ALREADY_EXISTS', async () => {
      const { store } = ctx();
      const bound = { maxTopics: 2 };
      await store.createTopic('a', 1, {}, bound);
      await store.createTopic('b', 2, {}, bound);
      const refused = await rejection(store.createTopic('c', 3, {}, bound), InvalidConfigError, 'INVALID_CONFIG');
      expect(refused.message).to.equal(
        'topic c not created: the cluster has 2 topics, at most 2 allowed (--max-topics)',
      );
      expect(refused.context).to.deep.equal({ topic: 'c' });
      expect(refused.retriable).to.equal(false);
      expect(await store.getTopic('c')).to.equal(undefined);
      await rejection(store.listPartitions('c'), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['a', 'b']);
      const exists = await rejection(
        store.createTopic('a', 1, {}, bound),
        TopicAlreadyExistsError,
        'TOPIC_ALREADY_EXISTS',
      );
      expect(exists.message).to.equal("topic 'a' already exists");
      // A deleted topic frees its place; no bound, or a larger one, creates as before.
      await store.deleteTopic('b');
      expect((await store.createTopic('c', 3, {}, bound)).partitions).to.equal(3);
      expect((await store.createTopic('d', 1, {}, { maxTopics: 3 })).name).to.equal('d');
      expect((await store.createTopic('e', 1)).name).to.equal('e');
      const none = await rejection(
        store.createTopic('f', 1, {}, { maxTopics: 0 }),
        InvalidConfigError,
        'INVALID_CONFIG',
      );
      expect(none.message).to.equal('topic f not created: the cluster has 4 topics, at most 0 allowed (--max-topics)');
      for (const maxTopics of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const bad = await rejection(
          store.createTopic('f', 1, {}, { maxTopics }),
          InvalidRequestError,
          'INVALID_REQUEST',
        );
        expect(bad.message).to.equal(`maxTopics ${maxTopics} is invalid: use a safe integer >= 0`);
      }
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['a', 'c', 'd', 'e']);
    });

    it('leaves exactly maxTopics topics when two stores over the same data create many at once', async () => {
      const { store, harness, clock } = ctx();
      const other = await harness.open(clock.read);
      const names = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      const outcomes = await Promise.allSettled(
        names.map((name, i) => (i % 2 === 0 ? store : other).createTopic(name, 2, {}, { maxTopics: 5 })),
      );
      const created = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.name] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
      expect(created.length).to.equal(5);
      expect(refused.map((e) => [e.constructor.name, e.message.replace(/^topic t\d+ /, '')])).to.deep.equal(
        Array.from({ length: 7 }, () => [
          'InvalidConfigError',
          'not created: the cluster has 5 topics, at most 5 allowed (--max-topics)',
        ]),
      );
      expect((await other.listTopics()).map((t) => t.name)).to.deep.equal(created.sort());
      expect((await store.listTopics()).length).to.equal(5);
      for (const name of created) expect((await store.listPartitions(name)).length, name).to.equal(2);
    });

    it('validates names, partition counts and configs, creating nothing', async () => {
      const { store } = ctx();
      for (const name of ['', '.', '..', 'has space', 'slash/name', 'colon:name', 'x'.repeat(250)]) {
        await rejection(store.createTopic(name, 1), InvalidTopicError, 'INVALID_TOPIC');
      }
      for (const count of [0, -1, 10_001, 1.5, Number.NaN]) {
        await rejection(store.createTopic('t', count), InvalidPartitionsError, 'INVALID_PARTITIONS');
      }
      const bad = [
        { retentionMs: 0 },
        { retentionBytes: -2 },
        { segmentBytes: 1024 },
        { maxMessageBytes: 64 * 1024 * 1024 + 1 },
        { maxMessageBytes: 0 },
      ];
      for (const config of bad)
        await rejection(store.createTopic('t', 1, config), InvalidConfigError, 'INVALID_CONFIG');
      const typo = await rejection(
        store.createTopic('t', 1, { retention: 5 } as never),
        InvalidConfigError,
        'INVALID_CONFIG',
      );
      expect(typo.message).to.equal(
        "unknown topic config 'retention': use one of retentionMs, retentionBytes, segmentBytes, maxMessageBytes",
      );
      expect(await store.listTopics()).to.deep.equal([]);
      const longest = 'x'.repeat(249);
      expect((await store.createTopic(longest, 1)).name).to.equal(longest);
    });

    it('alters the given config fields, keeping the others and the partitions', async () => {
      const { store, clock } = ctx();
      const { id } = await store.createTopic('orders', 2, { retentionMs: 60_000 });
      const expected = {
        name: 'orders',
        id,
        partitions: 2,
        config: { ...DEFAULT_TOPIC_CONFIG, retentionMs: 60_000, maxMessageBytes: 2048 },
        createdAt: clock.now,
      };
      expect(await store.alterTopicConfig('orders', { maxMessageBytes: 2048 })).to.deep.equal(expected);
      expect(await store.getTopic('orders')).to.deep.equal(expected);
      const both = await Promise.all([
        store.alterTopicConfig('orders', { retentionBytes: 1_000_000 }),
        store.alterTopicConfig('orders', { retentionMs: -1 }),
      ]);
      expect(both.map((t) => t.name)).to.deep.equal(['orders', 'orders']);
      expect((await store.getTopic('orders'))!.config).to.deep.equal({
        ...DEFAULT_TOPIC_CONFIG,
        retentionMs: -1,
        retentionBytes: 1_000_000,
        maxMessageBytes: 2048,
      });
      expect((await store.listPartitions('orders')).length).to.equal(2);
    });

    it('refuses an altered config that is not valid, or an unknown topic, changing nothing', async () => {
      const { store } = ctx();
      const created = await store.createTopic('orders', 1);
      const bad = [
        { retentionMs: 0 },
        { retentionBytes: -2 },
        { segmentBytes: 1024 },
        { maxMessageBytes: 0 },
        { retention: 5 } as never,
      ];
      for (const config of bad)
        await rejection(store.alterTopicConfig('orders', config), InvalidConfigError, 'INVALID_CONFIG');
      expect(await store.getTopic('orders')).to.deep.equal(created);
      const unknown = await rejection(
        store.alterTopicConfig('missing', { retentionMs: 1000 }),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      expect(unknown.message).to.equal("topic 'missing' does not exist");
      expect(await store.getTopic('missing')).to.equal(undefined);
    });

    it('reports unknown topics and partitions', async () => {
      const { store } = ctx();
      await store.createTopic('orders', 3);
      const beyond = await rejection(
        store.getPartition('orders', 3),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      expect(beyond.message).to.equal("partition 3 of topic 'orders' does not exist (the topic has partitions 0..2)");
      expect(beyond.context).to.deep.equal({ topic: 'orders', partition: 3 });
      const missing = await rejection(
        store.getPartition('nope', 0),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      expect(missing.message).to.equal("topic 'nope' does not exist");
      await rejection(store.getPartition('orders', -1), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
      await rejection(store.listPartitions('nope'), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
      await rejection(store.listSegments('nope', 0), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
      await rejection(
        store.acquireLease('orders', 7, 'agent-a', 1000),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      await rejection(store.deleteTopic('nope'), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
    });

    it('deletes a topic with its partitions, segments, producer states and committed offsets', async () => {
      const { store } = ctx();
      await store.createTopic('doomed', 2);
      await store.createTopic('kept', 1);
      const lease = await store.acquireLease('doomed', 1, 'agent-a', 10_000);
      const producer = { producerId: 7, producerEpoch: 0, lastSequence: 9, lastBaseOffset: 0, lastRecordCount: 10 };
      await store.commitSegment({
        topic: 'doomed',
        partition: 1,
        epoch: lease.epoch,
        expectedHighWatermark: 0,
        segment: segment('doomed', 1, 0, 10),
        producers: [producer],
      });
      await store.commitOffsets('g1', -1, '', [
        { topic: 'doomed', partition: 1, offset: 5, metadata: 'm' },
        { topic: 'kept', partition: 0, offset: 3, metadata: '' },
      ]);
      await store.commitOffsets('only-doomed', -1, '', [{ topic: 'doomed', partition: 0, offset: 1, metadata: '' }]);

      await store.deleteTopic('doomed');

      expect(await store.getTopic('doomed')).to.equal(undefined);
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['kept']);
      await rejection(store.getPartition('doomed', 1), UnknownTopicOrPartitionError, 'UNKNOWN_TOPIC_OR_PARTITION');
      expect((await store.fetchOffsets('g1')).map((o) => `${o.topic}/${o.partition}=${o.offset}`)).to.deep.equal([
        'kept/0=3',
      ]);
      expect(await store.fetchOffsets('only-doomed')).to.deep.equal([]);
      expect(await store.listGroups()).to.deep.equal(['g1']);

      // The same name starts from scratch, unleased at the old topic's largest lease epoch (see the leases contract).
      await store.createTopic('doomed', 2);
      expect(await store.getPartition('doomed', 1)).to.deep.include({
        highWatermark: 0,
        leaseEpoch: 1,
        leaseHolder: undefined,
      });
      expect(await store.listSegments('doomed', 1)).to.deep.equal([]);
      expect(await store.getProducerState('doomed', 1, 7)).to.equal(undefined);
    });

    it('keeps everything across closing and reopening', async () => {
      const { harness, store, clock } = ctx();
      await store.createTopic('durable', 2, { segmentBytes: 8 * 1024 * 1024 });
      const lease = await store.acquireLease('durable', 0, 'agent-a', 10_000);
      await store.commitSegment({
        topic: 'durable',
        partition: 0,
        epoch: lease.epoch,
        expectedHighWatermark: 0,
        segment: segment('durable', 0, 0, 42),
      });
      const producer = await store.allocateProducerId();
      await store.commitOffsets('g', -1, '', [{ topic: 'durable', partition: 1, offset: 17, metadata: 'kept' }]);
      await store.close();

      const reopened = await harness.open(clock.read);
      expect((await reopened.getTopic('durable'))?.config.segmentBytes).to.equal(8 * 1024 * 1024);
      expect(await reopened.getPartition('durable', 0)).to.deep.equal({
        topic: 'durable',
        partition: 0,
        highWatermark: 42,
        logStartOffset: 0,
        leaseHolder: 'agent-a',
        leaseEpoch: 1,
        leaseExpiresAt: clock.now + 10_000,
      });
      expect(await reopened.listSegments('durable', 0)).to.deep.equal([segment('durable', 0, 0, 42)]);
      expect((await reopened.fetchOffsets('g'))[0]).to.deep.equal({
        topic: 'durable',
        partition: 1,
        offset: 17,
        metadata: 'kept',
        commitTime: clock.now,
      });
      expect((await reopened.allocateProducerId()).producerId).to.equal(producer.producerId + 1);
      // The lease taken before closing still fences and still works.
      expect(
        await reopened.commitSegment({
          topic: 'durable',
          partition: 0,
          epoch: lease.epoch,
          expectedHighWatermark: 42,
          segment: segment('durable', 0, 42, 50),
        }),
      ).to.equal(50);
    });
  });
}
