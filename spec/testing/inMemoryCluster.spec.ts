import { expect } from 'chai';
import { interval } from 'rxjs';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';
import {
  AgentUnavailableError,
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidRequestError,
  InvalidTopicError,
  StorageError,
} from '../../src/protocol/errors.js';
import { AckMode, ErrorCode } from '../../src/protocol/generated/streamhouse.js';
import { PipelineTestScheduler, createInMemoryCluster, type InMemoryCluster } from '../../src/testing/index.js';
import { records } from '../support/agentHarness.js';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

function produceRequest(topic: string, batch: Buffer, partition = 0) {
  return {
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: -1,
    producerEpoch: -1,
    partitions: [{ topic, partition, batch }],
  };
}

describe('InMemoryCluster', () => {
  let testScheduler: PipelineTestScheduler;
  beforeEach(() => {
    testScheduler = new PipelineTestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('refuses bad options and fault targets with typed errors naming what to change', async () => {
    for (const agents of [0, 1.5, 65]) {
      const error = await rejection(createInMemoryCluster({ agents }));
      expect(error).to.be.instanceOf(InvalidConfigError);
      expect((error as InvalidConfigError).retriable).to.equal(false);
    }
    expect(await rejection(createInMemoryCluster({ topics: { 'bad name!': 1 } }))).to.be.instanceOf(InvalidTopicError);
    expect(await rejection(createInMemoryCluster({ topics: { t: 0 } }))).to.be.instanceOf(InvalidPartitionsError);
    const cluster = await createInMemoryCluster();
    try {
      expect(() => cluster.stopAgent('elsewhere:1')).to.throw(InvalidConfigError, /agent-1\.in-memory:9660/);
      expect(() => cluster.failNext({ call: 'nope' as 'produce' }, new StorageError('x'))).to.throw(InvalidConfigError);
      expect(() => cluster.failNext({}, new StorageError('x'), 0)).to.throw(InvalidConfigError);
      expect(() => cluster.setLatency({}, -1)).to.throw(InvalidConfigError);
      expect(() => cluster.setLatency({}, Number.NaN)).to.throw(InvalidConfigError);
    } finally {
      await cluster.close();
    }
  });

  it('refuses hostile produce requests, writes nothing and keeps serving', async () => {
    const cluster = await createInMemoryCluster({ topics: { t: 1 } });
    try {
      const client = cluster.client(cluster.bootstrap[0]!);
      const corrupt = encodeRecordBatch(records(2));
      corrupt[corrupt.length - 1]! ^= 0xff;
      const { results } = await client.produce(produceRequest('t', corrupt));
      expect([results[0]!.error?.code, results[0]!.baseOffset]).to.deep.equal([ErrorCode.CORRUPT_MESSAGE, -1]);
      const truncated = encodeRecordBatch(records(2)).subarray(0, 30);
      expect((await client.produce(produceRequest('t', truncated))).results[0]!.error?.code).to.equal(
        ErrorCode.CORRUPT_MESSAGE,
      );
      expect(await rejection(client.produce({ acks: AckMode.ACK_MODE_DURABLE, partitions: [] }))).to.be.instanceOf(
        InvalidRequestError,
      );
      expect(await rejection(client.produce({ ...produceRequest('t', corrupt), acks: 7 as AckMode }))).to.be.instanceOf(
        InvalidRequestError,
      );
      expect(await rejection(client.fetch({ partitions: [] }))).to.be.instanceOf(InvalidRequestError);
      expect(cluster.records('t', 0)).to.deep.equal([]);
      const ok = await client.produce(produceRequest('t', encodeRecordBatch(records(1))));
      expect([ok.results[0]!.error, ok.results[0]!.baseOffset]).to.deep.equal([undefined, 0]);
      const unknown = await rejection(cluster.client('elsewhere:1').metadata({}));
      expect(unknown).to.be.instanceOf(AgentUnavailableError);
      expect((unknown as AgentUnavailableError).retriable).to.equal(true);
    } finally {
      await cluster.close();
    }
  });

  it('spreads leaders over agents; a stopped agent leaves Metadata and its partitions move on', async () => {
    const cluster = await createInMemoryCluster({ agents: 2, topics: { t: 2 } });
    try {
      const [first, second] = cluster.bootstrap as [string, string];
      const leaders = async () =>
        (await cluster.client(second).metadata({ topics: ['t'] })).topics[0]!.partitions.map((p) => p.leaderAddress);
      expect(await leaders()).to.deep.equal([first, second]);
      const batch = encodeRecordBatch(records(1));
      const refused = await cluster.client(second).produce(produceRequest('t', batch));
      expect(refused.results[0]!.error?.code).to.equal(ErrorCode.NOT_LEADER);
      cluster.stopAgent(first);
      expect(await rejection(cluster.client(first).metadata({}))).to.be.instanceOf(AgentUnavailableError);
      const { agents } = await cluster.client(second).metadata({});
      expect(agents.map((a) => a.address)).to.deep.equal([second]);
      expect(await leaders()).to.deep.equal(['', second]);
      expect((await cluster.client(second).produce(produceRequest('t', batch))).results[0]!.baseOffset).to.equal(0);
      cluster.startAgent(first);
      expect(await leaders()).to.deep.equal([second, second]);
      const moved = await cluster.client(first).produce(produceRequest('t', batch));
      expect(moved.results[0]!.error?.code).to.equal(ErrorCode.NOT_LEADER);
    } finally {
      await cluster.close();
    }
  });

  it('long-polls a fetch on the scheduler until a produce arrives or the wait ends', async () => {
    const answers: string[] = [];
    await testScheduler.runAsync(async () => {
      const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { t: 1 } });
      const client = cluster.client(cluster.bootstrap[0]!);
      const poll = (label: string) =>
        client
          .fetch({ partitions: [{ topic: 't', partition: 0, offset: 0 }], maxWaitMs: 1000, minBytes: 1 })
          .then(({ results }) => answers.push(`${label}: ${results[0]!.records.length > 0}@${testScheduler.now()}`));
      await poll('empty');
      testScheduler.schedule(() => void client.produce(produceRequest('t', encodeRecordBatch(records(1)))), 300);
      await poll('woken');
    });
    expect(answers).to.deep.equal(['empty: false@1000', 'woken: true@1300']);
  });

  it('applies latencies and injected errors to the calls they target, as many times as asked', async () => {
    let cluster!: InMemoryCluster;
    const outcomes: string[] = [];
    await testScheduler.runAsync(async () => {
      cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { t: 1 } });
      const client = cluster.client(cluster.bootstrap[0]!);
      cluster.setLatency({ call: 'listTopics' }, 250);
      cluster.failNext({ call: 'listTopics' }, () => new StorageError('injected'), 2);
      for (let i = 0; i < 3; i++) {
        const outcome = await client.listTopics({}).then(
          ({ names }) => names.join(),
          (error: StorageError) => error.code,
        );
        outcomes.push(`${outcome}@${testScheduler.now()}`);
      }
      cluster.setLatency({ call: 'listTopics' }, 0);
      outcomes.push(`${(await client.listTopics({})).names.join()}@${testScheduler.now()}`);
      await cluster.close();
    });
    expect(outcomes).to.deep.equal(['STORAGE_ERROR@250', 'STORAGE_ERROR@500', 't@750', 't@750']);
    expect(cluster.calls.map((c) => `${c.call}@${c.at}`)).to.deep.equal([
      'listTopics@0',
      'listTopics@250',
      'listTopics@500',
      'listTopics@750',
    ]);
  });

  it('makes runAsync fail, naming the cause, when a timer is left running', async () => {
    const error = await rejection(
      testScheduler.runAsync(() => {
        interval(1000).subscribe();
      }, 10_000),
    );
    expect((error as Error).message).to.equal(
      'timers still pending at 10000 ms of virtual time: close every producer and consumer the test opens',
    );
  });

  it("rejects runAsync with the callback's error, after virtual time ran out", async () => {
    const seen: number[] = [];
    const error = await rejection(
      testScheduler.runAsync(async ({ cold }) => {
        cold('5ms a').subscribe(() => seen.push(testScheduler.now()));
        throw new InvalidConfigError('bad test');
      }),
    );
    expect([(error as Error).message, seen]).to.deep.equal(['bad test', [5]]);
  });
});
