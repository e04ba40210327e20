import { expect } from 'chai';
import { asyncScheduler } from 'rxjs';
import { cooperativeStickyAssignor, rangeAssignor } from '../../../src/client/assignors/index.js';
import { resolveConsumerOptions, type ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/client/retryPolicy.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

const base: ConsumerOptions = { bootstrap: ['127.0.0.1:9660'], groupId: 'g', topics: ['b', 'a', 'b'] };

describe('client/consumer options', () => {
  it('applies the documented defaults once', () => {
    const { scheduler, logger, tls, token, ...resolved } = resolveConsumerOptions(base);
    expect(scheduler).to.equal(asyncScheduler);
    expect(logger).to.equal(undefined);
    expect(tls).to.equal(undefined);
    expect(token).to.equal(undefined);
    expect(resolved).to.deep.equal({
      bootstrap: ['127.0.0.1:9660'],
      clientId: 'streamhouse-consumer',
      groupId: 'g',
      topics: ['a', 'b'],
      assignment: undefined,
      assignors: [cooperativeStickyAssignor],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 3_000,
      rebalanceTimeoutMs: 60_000,
      fetchMaxBytes: 16 * 1024 * 1024,
      maxPartitionFetchBytes: 1024 * 1024,
      fetchMaxWaitMs: 500,
      fetchMinBytes: 1,
      maxPrefetchBatches: 16,
      ackMode: 'delivery',
      maxUnackedPerPartition: 10_000,
      commitStrategy: { type: 'periodic' },
      resetStrategy: { type: 'latest' },
      offsetStore: undefined,
      retry: { ...DEFAULT_RETRY_POLICY },
      requestTimeoutMs: 30_000,
      metadataRefreshMs: 30_000,
      // No deserialisers: records carry the fetched bytes.
      serde: { decoder: undefined, deadLetter: undefined },
    });
  });

  it('sorts a manual assignment and allows it without a group', () => {
    const resolved = resolveConsumerOptions({
      bootstrap: ['h:1'],
      assignment: [
        { topic: 'b', partition: 1 },
        { topic: 'a', partition: 3 },
        { topic: 'b', partition: 0 },
      ],
    });
    expect(resolved.assignment).to.deep.equal([
      { topic: 'a', partition: 3 },
      { topic: 'b', partition: 0 },
      { topic: 'b', partition: 1 },
    ]);
    expect(resolved.groupId).to.equal(undefined);
    expect(resolved.topics).to.equal(undefined);
  });

  const cases: [string, Partial<ConsumerOptions>, string][] = [
    ['no agents', { bootstrap: [] }, 'bootstrap must list agents as host:port, got []'],
    [
      'both modes',
      { assignment: [{ topic: 't', partition: 0 }] },
      'give either topics (group mode) or assignment (manual mode), exactly one of them',
    ],
    [
      'topics without a group',
      { groupId: undefined },
      'topics (group mode) need a groupId; use assignment to read partitions without a group',
    ],
    ['an empty group id', { groupId: '' }, 'groupId must be a non-empty string when given'],
    ['no assignors', { assignors: [] }, 'assignors must list at least one assignor, each name once'],
    [
      'an assignor twice',
      { assignors: [rangeAssignor, rangeAssignor] },
      'assignors must list at least one assignor, each name once',
    ],
    ['a zero bound', { maxPrefetchBatches: 0 }, 'consumer option maxPrefetchBatches must be a positive integer, got 0'],
    [
      'a negative wait',
      { fetchMaxWaitMs: -1 },
      'consumer option fetchMaxWaitMs must be a non-negative integer, got -1',
    ],
    [
      'a slow heartbeat',
      { heartbeatIntervalMs: 10_000 },
      'heartbeatIntervalMs (10000) must be below sessionTimeoutMs (10000); a third of it is usual',
    ],
    [
      'a huge fetch',
      { fetchMaxBytes: 128 * 1024 * 1024 },
      'fetchMaxBytes (134217728) must not exceed 67108864, the largest gRPC message a connection takes',
    ],
    [
      'a partition fetch above the whole',
      { fetchMaxBytes: 1000, maxPartitionFetchBytes: 2000 },
      'maxPartitionFetchBytes (2000) must not exceed fetchMaxBytes (1000)',
    ],
    [
      'an unknown ack mode',
      { ackMode: 'auto' as 'explicit' },
      `consumer option ackMode must be 'delivery' or 'explicit', got "auto"`,
    ],
    [
      'a zero ack bound',
      { maxUnackedPerPartition: 0 },
      'consumer option maxUnackedPerPartition must be a positive integer, got 0',
    ],
    [
      'a fractional ack bound',
      { maxUnackedPerPartition: 1.5 },
      'consumer option maxUnackedPerPartition must be a positive integer, got 1.5',
    ],
    ['a bad retry policy', { retry: { jitter: 2 } }, 'retry jitter must be between 0 and 1, got 2'],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} with InvalidConfigError`, () => {
      expect(() => resolveConsumerOptions({ ...base, ...options })).to.throw(InvalidConfigError, message);
    });
  }

  it('refuses a manual assignment with a partition twice', () => {
    const assignment = [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 0 },
    ];
    expect(() => resolveConsumerOptions({ bootstrap: ['h:1'], assignment })).to.throw(
      InvalidConfigError,
      'assignment lists t/0 twice',
    );
  });
});
