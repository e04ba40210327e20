import { expect } from 'chai';
import { AckMode, OffsetSpec } from '../../src/protocol/generated/streamhouse.js';
import {
  CorruptMessageError,
  InvalidRequestError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  TopicAlreadyExistsError,
  UnknownTopicOrPartitionError,
  fromErrorInfo,
} from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';
import {
  createTestStores,
  fetchOnce,
  nextLongPoll,
  produce,
  readAll,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

describe('agent: one agent on the embedded stores', () => {
  let stores: TestStores;
  let a: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores, { walDir: `${stores.dir}/wal` });
    await a.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
  });
  afterEach(async () => {
    await a.stop();
    await stores.cleanup();
  });

  it('assigns dense offsets across batches and returns the records at them', async () => {
    expect(await produce(a.connection, 'orders', 0, records(3, 'a'))).to.equal(0);
    expect(await produce(a.connection, 'orders', 0, records(2, 'b'))).to.equal(3);
    expect(await produce(a.connection, 'orders', 1, records(1, 'c'))).to.equal(0);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([
      [0, 'a-0'],
      [1, 'a-1'],
      [2, 'a-2'],
      [3, 'b-0'],
      [4, 'b-1'],
    ]);
    expect(await readAll(a.connection, 'orders', 0, 4)).to.deep.equal([[4, 'b-1']]);
    expect(await readAll(a.connection, 'orders', 1)).to.deep.equal([[0, 'c-0']]);
  });

  it('gives concurrent producers to one partition unique, dense offsets', async () => {
    const bases = await Promise.all(
      Array.from({ length: 20 }, (_, i) => produce(a.connection, 'orders', 0, records(5, `p${i}`))),
    );
    expect([...bases].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i * 5));
    const all = await readAll(a.connection, 'orders', 0);
    expect(all.map(([o]) => o)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    for (const [i, base] of bases.entries()) expect(all[base]![1]).to.equal(`p${i}-0`);
  });

  it('rejects unknown topics and partitions, corrupt batches and bad acks with typed errors', async () => {
    let error: unknown = await produce(a.connection, 'nope', 0, records(1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    error = await produce(a.connection, 'orders', 2, records(1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    const batch = encodeRecordBatch(records(2));
    batch[batch.length - 1]! ^= 0xff;
    const { results } = await a.connection.client.produce({
      acks: AckMode.ACK_MODE_DURABLE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [{ topic: 'orders', partition: 0, batch }],
    });
    expect(fromErrorInfo(results[0]!.error)).to.be.instanceOf(CorruptMessageError);
    error = await a.connection.client
      .produce({ acks: 7 as AckMode, producerId: -1, producerEpoch: -1, timeoutMs: 0, partitions: [] })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).message).to.equal('unknown acks mode 7');
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([]);
  });

  it('answers fetches outside the log with OFFSET_OUT_OF_RANGE', async () => {
    await produce(a.connection, 'orders', 0, records(2));
    const { results } = await a.connection.client.fetch({
      partitions: [{ topic: 'orders', partition: 0, offset: 3, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    const error = fromErrorInfo(results[0]!.error);
    expect(error).to.be.instanceOf(OffsetOutOfRangeError);
    expect(error!.message).to.equal('offset 3 is outside the log of orders/0 [0, 2]');
  });

  it('answers concurrent large fetches each with its own records (encoded into one reused buffer)', async () => {
    // 20 KiB values: each answer is about a MiB, so the transport is still writing one while the next is encoded.
    const big = (partition: number, batch: number) =>
      Array.from({ length: 50 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.alloc(20 * 1024, partition * 16 + batch + 1),
        timestamp: 1_700_000_000_000 + i,
      }));
    for (let batch = 0; batch < 4; batch++) {
      for (const partition of [0, 1]) await produce(a.connection, 'orders', partition, big(partition, batch));
    }
    const fetchOne = (partition: number, offset: number) =>
      a.connection.client.fetch({
        partitions: [{ topic: 'orders', partition, offset, maxBytes: 512 * 1024 }],
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 0,
      });
    const targets = Array.from({ length: 16 }, (_, i) => ({ partition: i % 2, offset: 50 * ((i >> 1) % 4) }));
    const alone: Buffer[] = [];
    for (const { partition, offset } of targets)
      alone.push(Buffer.from((await fetchOne(partition, offset)).results[0]!.records));
    const together = await Promise.all(targets.map(({ partition, offset }) => fetchOne(partition, offset)));
    together.forEach(({ results }, i) => {
      const records = Buffer.from(results[0]!.records);
      expect(records.length).to.be.greaterThan(1_000_000);
      expect(records.equals(alone[i]!)).to.equal(true);
      // the last value's last byte (before the record's header count) tells the partition and batch the answer came
      // from
      expect(records[records.length - 2]).to.equal(targets[i]!.partition * 16 + targets[i]!.offset / 50 + 1);
    });
  });

  it('lists offsets: earliest, latest and by timestamp', async () => {
    await produce(a.connection, 'orders', 0, records(4, 'x', 1000));
    await produce(a.connection, 'orders', 0, records(4, 'y', 2000));
    const ask = (spec: OffsetSpec, timestampMs = 0) =>
      a.connection.client
        .listOffsets({ partitions: [{ topic: 'orders', partition: 0, spec, timestampMs }] })
        .then((r) => [r.results[0]!.offset, r.results[0]!.timestampMs]);
    expect(await ask(OffsetSpec.OFFSET_SPEC_EARLIEST)).to.deep.equal([0, -1]);
    expect(await ask(OffsetSpec.OFFSET_SPEC_LATEST)).to.deep.equal([8, -1]);
    expect(await ask(OffsetSpec.OFFSET_SPEC_TIMESTAMP, 1002)).to.deep.equal([2, 1002]);
    expect(await ask(OffsetSpec.OFFSET_SPEC_TIMESTAMP, 1500)).to.deep.equal([4, 2000]);
    expect(await ask(OffsetSpec.OFFSET_SPEC_TIMESTAMP, 9999)).to.deep.equal([-1, -1]);
  });

  it('wakes a long-polling fetch as soon as data arrives', async function () {
    // The fetch may wait 30 s, three times this test's timeout: only the commit can answer it in time.
    this.timeout(10_000);
    await produce(a.connection, 'orders', 0, records(1));
    const parked = nextLongPoll(a.agent);
    const fetching = fetchOnce(a.connection, 'orders', 0, 1, 30_000);
    await parked;
    await produce(a.connection, 'orders', 0, records(1, 'late'));
    const { records: woken, highWatermark } = await fetching;
    expect(woken).to.deep.equal([[1, 'late-0']]);
    expect(highWatermark).to.equal(2);
  });

  it('returns after maxWaitMs with no records when nothing arrives', async () => {
    const { results } = await a.connection.client.fetch({
      partitions: [{ topic: 'orders', partition: 0, offset: 0, maxBytes: 0 }],
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 0,
    });
    expect(results[0]!.records.length).to.equal(0);
    expect(results[0]!.highWatermark).to.equal(0);
  });

  it('administers topics: create, describe, list, delete', async () => {
    const { topic } = await a.connection.client.createTopic({
      name: 'events',
      partitions: 3,
      config: { retentionMs: 60_000, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 },
    });
    expect(topic!.partitions.map((p) => p.partition)).to.deep.equal([0, 1, 2]);
    expect(topic!.config!.retentionMs).to.equal(60_000);
    expect(topic!.config!.maxMessageBytes).to.equal(1024 * 1024);
    const error = await a.connection.client
      .createTopic({ name: 'events', partitions: 1, config: undefined })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TopicAlreadyExistsError);
    expect((await a.connection.client.listTopics({})).names).to.deep.equal(['events', 'orders']);
    await produce(a.connection, 'events', 1, records(2));
    await a.connection.client.deleteTopic({ name: 'events' });
    expect((await a.connection.client.listTopics({})).names).to.deep.equal(['orders']);
    expect(await stores.objectStore.list('topics/events/')).to.deep.equal([]);
  });

  it('tells clients who leads each partition and which agents are live', async () => {
    await produce(a.connection, 'orders', 1, records(1));
    const meta = await a.connection.client.metadata({ topics: ['orders'] });
    expect(meta.agentId).to.equal(a.agent.agentId);
    expect(meta.agents.map((x) => [x.agentId, x.address])).to.deep.equal([[a.agent.agentId, a.agent.address]]);
    const [p0, p1] = meta.topics[0]!.partitions;
    expect([p0!.leaderAgentId, p0!.highWatermark]).to.deep.equal(['', 0]);
    expect([p1!.leaderAgentId, p1!.leaderAddress, p1!.highWatermark, p1!.leaseEpoch]).to.deep.equal([
      a.agent.agentId,
      a.agent.address,
      1,
      1,
    ]);
  });

  it('drops a retried idempotent batch and answers with its original offset', async () => {
    const { producerId, producerEpoch } = await a.connection.client.initProducerId({
      producerId: -1,
      producerEpoch: -1,
    });
    const idem = (baseSequence: number) => ({ producerId, producerEpoch, baseSequence });
    expect(await produce(a.connection, 'orders', 0, records(3, 'one'), AckMode.ACK_MODE_DURABLE, idem(0))).to.equal(0);
    expect(await produce(a.connection, 'orders', 0, records(3, 'one'), AckMode.ACK_MODE_DURABLE, idem(0))).to.equal(0);
    expect(await produce(a.connection, 'orders', 0, records(2, 'two'), AckMode.ACK_MODE_DURABLE, idem(3))).to.equal(3);
    const error = await produce(a.connection, 'orders', 0, records(1, 'gap'), AckMode.ACK_MODE_DURABLE, idem(9)).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(OutOfOrderSequenceError);
    expect((await readAll(a.connection, 'orders', 0)).map(([, v]) => v)).to.deep.equal([
      'one-0',
      'one-1',
      'one-2',
      'two-0',
      'two-1',
    ]);
  });

  it('keeps every acknowledged record readable at its offset after a restart', async () => {
    const acked: [number, string][] = [];
    for (let i = 0; i < 10; i++) {
      const base = await produce(a.connection, 'orders', 0, records(3, `r${i}`));
      acked.push([base, `r${i}-0`], [base + 1, `r${i}-1`], [base + 2, `r${i}-2`]);
    }
    await a.stop();
    a = await startTestAgent(stores, { walDir: `${stores.dir}/wal` });
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal(acked);
    expect(await produce(a.connection, 'orders', 0, records(1, 'after'))).to.equal(30);
  });
});
