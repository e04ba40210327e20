/**
 * The agent's Prometheus /metrics after known traffic, against a real agent
 * (in-process, real stores, real gRPC and HTTP ports): exact counters.
 */
import { expect } from 'chai';
import {
  createTestStores,
  startTestAgent,
  produce,
  records,
  readAll,
  rejection,
  type TestStores,
  type TestAgent,
} from '../support/agentHarness.js';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { FencedLeaseEpochError, LimitExceededError, UnknownTopicOrPartitionError } from '../../src/protocol/errors.js';
import { join } from 'node:path';
import { waitFor } from '../support/waitFor.js';
import { BoundedLabels } from '../../src/http/boundedLabels.js';
import { AgentMetrics } from '../../src/http/agentMetrics.js';
import { instrumentMetadataStore } from '../../src/http/instrumentedStores.js';
import { httpCall, sample } from './support.js';
import { MAX_LAG_SERIES, readGroupLag } from '../../src/http/groupLag.js';

describe('http: /metrics', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let test: TestAgent;
  const metrics = async () => {
    const answer = await httpCall(test.agent.httpAddress!, '/metrics');
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    return answer.body;
  };

  beforeEach(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, maxPartitionsPerRequest: 2, groupInitialRebalanceDelayMs: 0 });
    await test.metadataStore.createTopic('t', 1);
  });
  afterEach(async () => {
    await test.stop();
    await stores.cleanup();
  });

  it('counts produce requests, batches, records and bytes by topic and result', async () => {
    const batchBytes = encodeRecordBatch(records(5)).length;
    for (let i = 0; i < 3; i++) await produce(test.connection, 't', 0, records(5));
    const text = await metrics();
    const ok = { topic: 't', result: 'ok' };
    expect(sample(text, 'streamhouse_produce_requests_total', { result: 'ok' })).to.equal(3);
    expect(sample(text, 'streamhouse_produce_batches_total', ok)).to.equal(3);
    expect(sample(text, 'streamhouse_produce_records_total', ok)).to.equal(15);
    expect(sample(text, 'streamhouse_produce_bytes_total', ok)).to.equal(3 * batchBytes);
    expect(sample(text, 'streamhouse_produce_duration_seconds_count')).to.equal(3);
    // One durable produce at a time: one segment each.
    expect(sample(text, 'streamhouse_flush_bytes_count')).to.equal(3);
    expect(sample(text, 'streamhouse_flush_bytes_sum')).to.equal(3 * batchBytes);
    expect(sample(text, 'streamhouse_flush_duration_seconds_count')).to.equal(3);
    expect(sample(text, 'streamhouse_object_store_operations_total', { op: 'put', result: 'ok' })).to.equal(3);
    expect(sample(text, 'streamhouse_object_store_operation_duration_seconds_count', { op: 'put' })).to.equal(3);
    expect(sample(text, 'streamhouse_lease_acquisitions_total')).to.equal(1);
    expect(sample(text, 'streamhouse_metadata_store_operations_total', { op: 'acquireLease', result: 'ok' })).to.equal(
      1,
    );
    expect(sample(text, 'streamhouse_leases_held')).to.equal(1);
    expect(sample(text, 'streamhouse_lease_losses_total')).to.equal(0);
  });

  it('counts a refused batch with its error code, an unknown topic under `other`', async () => {
    await produce(test.connection, 't', 0, records(5));
    expect(await rejection(produce(test.connection, 't', 7, records(4)))).to.be.instanceOf(
      UnknownTopicOrPartitionError,
    );
    expect(await rejection(produce(test.connection, 'no-such-topic', 0, records(3)))).to.be.instanceOf(
      UnknownTopicOrPartitionError,
    );
    const text = await metrics();
    const refused = 'UNKNOWN_TOPIC_OR_PARTITION';
    expect(sample(text, 'streamhouse_produce_records_total', { topic: 't', result: 'ok' })).to.equal(5);
    expect(sample(text, 'streamhouse_produce_records_total', { topic: 't', result: refused })).to.equal(4);
    expect(sample(text, 'streamhouse_produce_records_total', { topic: 'other', result: refused })).to.equal(3);
    expect(sample(text, 'streamhouse_produce_batches_total', { topic: 'other', result: refused })).to.equal(1);
    expect(text).not.to.contain('no-such-topic');
    // The calls themselves were answered.
    expect(sample(text, 'streamhouse_produce_requests_total', { result: 'ok' })).to.equal(3);
  });

  it('counts a whole refused call by its code, and none of its batches', async () => {
    const batch = encodeRecordBatch(records(2));
    const call = test.connection.client.produce({
      acks: AckMode.ACK_MODE_DURABLE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [0, 0, 0].map((partition) => ({ topic: 't', partition, batch })),
    });
    expect(await rejection(call)).to.be.instanceOf(LimitExceededError);
    const text = await metrics();
    expect(sample(text, 'streamhouse_produce_requests_total', { result: 'LIMIT_EXCEEDED' })).to.equal(1);
    expect(sample(text, 'streamhouse_produce_batches_total', { topic: 't', result: 'ok' })).to.equal(undefined);
  });

  it('counts fetched records and bytes by topic', async () => {
    const batchBytes = encodeRecordBatch(records(5)).length;
    for (let i = 0; i < 3; i++) await produce(test.connection, 't', 0, records(5));
    expect(await readAll(test.connection, 't', 0)).to.have.length(15);
    const text = await metrics();
    expect(sample(text, 'streamhouse_fetch_requests_total', { result: 'ok' })).to.equal(1);
    expect(sample(text, 'streamhouse_fetch_records_total', { topic: 't' })).to.equal(15);
    expect(sample(text, 'streamhouse_fetch_bytes_total', { topic: 't' })).to.equal(3 * batchBytes);
    expect(sample(text, 'streamhouse_fetch_duration_seconds_count')).to.equal(1);
    expect(sample(text, 'streamhouse_object_store_bytes_total', { op: 'getRange' })).to.be.greaterThan(0);
  });

  it('reports long-poll waiters while a Fetch waits', async () => {
    const waiting = test.connection.client.fetch({
      partitions: [{ topic: 't', partition: 0, offset: 0, maxBytes: 0 }],
      maxWaitMs: 10_000,
      minBytes: 1,
      maxBytes: 0,
    });
    await waitFor(
      async () => sample(await metrics(), 'streamhouse_fetch_long_poll_waiters') === 1,
      'the Fetch to wait',
    );
    await produce(test.connection, 't', 0, records(1));
    await waiting;
    expect(sample(await metrics(), 'streamhouse_fetch_long_poll_waiters')).to.equal(0);
  });

  it('reports a consumer group’s members and generation', async () => {
    await test.connection.client.joinGroup({
      groupId: 'g1',
      memberId: '',
      clientId: 'c',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    const text = await metrics();
    expect(sample(text, 'streamhouse_group_members', { group: 'g1' })).to.equal(1);
    expect(sample(text, 'streamhouse_group_generation', { group: 'g1' })).to.equal(1);
  });

  it('reports each group’s committed offset and lag per partition, computed at scrape time', async () => {
    await test.metadataStore.createTopic('two', 2);
    for (let i = 0; i < 2; i++) await produce(test.connection, 't', 0, records(5));
    await produce(test.connection, 'two', 0, records(3));
    await produce(test.connection, 'two', 1, records(4));
    await test.metadataStore.commitOffsets('g1', -1, '', [
      { topic: 't', partition: 0, offset: 6, metadata: '' },
      { topic: 'two', partition: 1, offset: 4, metadata: '' },
    ]);
    await test.metadataStore.commitOffsets('g2', -1, '', [{ topic: 'two', partition: 0, offset: 1, metadata: '' }]);
    let text = await metrics();
    const lag = (group: string, topic: string, partition: string) =>
      sample(text, 'streamhouse_consumer_group_lag', { group, topic, partition });
    const committed = (group: string, topic: string, partition: string) =>
      sample(text, 'streamhouse_consumer_group_committed_offset', { group, topic, partition });
    expect([lag('g1', 't', '0'), lag('g1', 'two', '1'), lag('g2', 'two', '0')]).to.deep.equal([4, 0, 2]);
    expect([committed('g1', 't', '0'), committed('g1', 'two', '1'), committed('g2', 'two', '0')]).to.deep.equal([
      6, 4, 1,
    ]);
    expect(lag('g1', 'two', '0')).to.equal(undefined);
    expect(sample(text, 'streamhouse_consumer_group_lag_truncated')).to.equal(0);
    // More records raise the lag at the next scrape; a deleted group's series are gone.
    await produce(test.connection, 't', 0, records(2));
    await test.metadataStore.deleteGroup('g2');
    text = await metrics();
    expect(lag('g1', 't', '0')).to.equal(6);
    expect(lag('g2', 'two', '0')).to.equal(undefined);
    // Scrape-time reads are not counted as the agent's own store calls.
    expect(sample(text, 'streamhouse_metadata_store_operations_total', { op: 'fetchOffsets', result: 'ok' })).to.equal(
      undefined,
    );
  });

  it(`reports at most ${MAX_LAG_SERIES} lag series and says when it left some out`, async () => {
    await test.metadataStore.createTopic('wide', 3);
    const store = test.metadataStore;
    const commit = (group: string) =>
      store.commitOffsets(
        group,
        -1,
        '',
        [0, 1, 2].map((partition) => ({ topic: 'wide', partition, offset: 0, metadata: '' })),
      );
    await Promise.all(['a', 'b', 'c'].map(commit));
    expect(await readGroupLag(store, 7)).to.deep.include({ truncated: true });
    expect((await readGroupLag(store, 7)).lags.map((l) => `${l.group}/${l.partition}`)).to.deep.equal([
      'a/0',
      'a/1',
      'a/2',
      'b/0',
      'b/1',
      'b/2',
      'c/0',
    ]);
    expect(await readGroupLag(store, 9)).to.deep.include({ truncated: false });
    // A topic deleted after its offsets were committed is left out, not an error.
    await store.commitOffsets('d', -1, '', [{ topic: 't', partition: 0, offset: 0, metadata: '' }]);
    await store.deleteTopic('t');
    expect((await readGroupLag(store)).lags.filter((l) => l.group === 'd')).to.deep.equal([]);
  });

  it('times getTopicById, which Kafka clients naming topics by id call per unknown id', async () => {
    const metrics = new AgentMetrics({ leasesHeld: () => 0, longPollWaiters: () => 0 });
    const store = instrumentMetadataStore(test.metadataStore, metrics);
    const id = (await test.metadataStore.getTopic('t'))!.id;
    expect((await store.getTopicById(id))?.name).to.equal('t');
    expect(await store.getTopicById('0123abcd-0000-4000-8000-000000000001')).to.equal(undefined);
    const text = await metrics.text();
    expect(sample(text, 'streamhouse_metadata_store_operations_total', { op: 'getTopicById', result: 'ok' })).to.equal(
      2,
    );
  });

  it('includes process and Node runtime metrics', async () => {
    const text = await metrics();
    expect(sample(text, 'process_cpu_user_seconds_total')).to.be.a('number');
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).to.be.a('number');
    expect(text).to.contain('nodejs_heap_size_used_bytes');
  });

  it('keeps metrics apart per agent in one process', async () => {
    const other = await startTestAgent(stores, { httpPort: 0 });
    try {
      await produce(test.connection, 't', 0, records(2));
      const text = (await httpCall(other.agent.httpAddress!, '/metrics')).body;
      expect(sample(text, 'streamhouse_produce_records_total', { topic: 't', result: 'ok' })).to.equal(undefined);
      expect(sample(await metrics(), 'streamhouse_produce_records_total', { topic: 't', result: 'ok' })).to.equal(2);
    } finally {
      await other.stop();
    }
  });
});

describe('http: /metrics of the write-ahead log', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let test: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, walDir: join(stores.dir, 'wal') });
    await test.metadataStore.createTopic('t', 1);
  });
  afterEach(async () => {
    await test.stop();
    await stores.cleanup();
  });

  it('counts buffered appends, their bytes and fsyncs', async () => {
    const batchBytes = encodeRecordBatch(records(5)).length;
    await produce(test.connection, 't', 0, records(5), AckMode.ACK_MODE_BUFFERED);
    const text = (await httpCall(test.agent.httpAddress!, '/metrics')).body;
    expect(sample(text, 'streamhouse_wal_appends_total')).to.equal(1);
    // Entry header (length, CRC), topic length and name, partition, batch.
    expect(sample(text, 'streamhouse_wal_bytes_total')).to.equal(8 + 2 + 1 + 4 + batchBytes);
    expect(sample(text, 'streamhouse_wal_fsync_duration_seconds_count')).to.equal(1);
  });
});

describe('http/boundedLabels', () => {
  it('keeps the first names admitted, and names everything else `other`', () => {
    const labels = new BoundedLabels(2);
    expect(labels.label('refused', false)).to.equal('other');
    expect(labels.label('a', true)).to.equal('a');
    expect(labels.label('b', true)).to.equal('b');
    expect(labels.label('c', true)).to.equal('other');
    expect(labels.label('a', false)).to.equal('a');
    expect(labels.label('refused', true)).to.equal('other');
  });
});

describe('http: /metrics of leases', function () {
  this.timeout(30_000);

  it('counts a lease lost to fencing, and no longer reports it held', async () => {
    const stores = await createTestStores();
    const real = stores.newMetadataStore();
    let fenced = false;
    // The real store, with renewals answering FENCED_LEASE_EPOCH once `fenced` is set.
    const store = new Proxy(real, {
      get(target, property) {
        if (property === 'renewLease' && fenced) {
          return () => Promise.reject(new FencedLeaseEpochError('injected: another agent leased the partition'));
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const test = await startTestAgent(stores, { httpPort: 0, metadataStore: store, leaseTtlMs: 600 });
    try {
      await real.createTopic('t', 1);
      await produce(test.connection, 't', 0, records(1));
      const metrics = async () => (await httpCall(test.agent.httpAddress!, '/metrics')).body;
      expect(sample(await metrics(), 'streamhouse_leases_held')).to.equal(1);
      fenced = true;
      await waitFor(async () => sample(await metrics(), 'streamhouse_lease_losses_total') === 1, 'the lease loss');
      const text = await metrics();
      expect(sample(text, 'streamhouse_leases_held')).to.equal(0);
      expect(sample(text, 'streamhouse_lease_acquisitions_total')).to.equal(1);
      expect(
        sample(text, 'streamhouse_metadata_store_operations_total', { op: 'renewLease', result: 'error' }),
      ).to.equal(1);
    } finally {
      await test.stop();
      await stores.cleanup();
    }
  });
});
