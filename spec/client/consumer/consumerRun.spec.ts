import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import type { RunHandlers } from '../../../src/client/consumer/consumerTypes.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { createTopic, produceValues, startCluster, waitFor, type Cluster } from './consumerSupport.js';

describe('client/consumer: run({ eachRecord }) against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  const consumers: Consumer[] = [];

  const consumer = (options: Partial<ConsumerOptions> = {}): Consumer => {
    const created = createConsumer({
      bootstrap: [cluster.address],
      groupId: 'g',
      assignment: [0, 1, 2].map((partition) => ({ topic: 't', partition })),
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
      commitStrategy: { type: 'periodic', intervalMs: 600_000 }, // commits on close
      ...options,
    });
    consumers.push(created);
    return created;
  };
  const committed = async () => {
    const partitions = [0, 1, 2].map((partition) => ({ topic: 't', partition }));
    const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({ groupId: 'g', partitions });
    return offsets.map((o) => o.offset);
  };

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 't', 3);
    for (const partition of [0, 1, 2]) await produceValues(cluster, 't', partition, 6, `p${partition}`, 2);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await cluster.stop();
  });

  it('keeps order in a partition and runs partitions concurrently up to partitionsConsumedConcurrently', async () => {
    const c = consumer();
    const seen: number[][] = [[], [], []];
    let active = 0;
    let peak = 0;
    const done = c.run({
      partitionsConsumedConcurrently: 2,
      eachRecord: async (record) => {
        peak = Math.max(peak, ++active);
        seen[record.partition]!.push(record.offset);
        await sleep(5);
        active--;
      },
    });
    await waitFor(() => seen.flat().length === 18 && active === 0, 'every record handled');
    await c.close();
    await done;
    expect(seen).to.deep.equal([0, 1, 2].map(() => [0, 1, 2, 3, 4, 5]));
    expect(peak).to.equal(2);
    expect(await committed()).to.deep.equal([6, 6, 6]);
  });

  it('eachBatch: batches of a partition in offset order, partitions concurrently up to the bound', async () => {
    const c = consumer();
    const seen: number[][] = [[], [], []];
    let active = 0;
    let peak = 0;
    const done = c.run({
      partitionsConsumedConcurrently: 2,
      eachBatch: async (batch) => {
        peak = Math.max(peak, ++active);
        await sleep(5);
        seen[batch.partition]!.push(...batch.records.map((r) => r.offset));
        active--;
      },
    });
    await waitFor(() => seen.flat().length === 18 && active === 0, 'every batch handled');
    await c.close();
    await done;
    expect(seen).to.deep.equal([0, 1, 2].map(() => [0, 1, 2, 3, 4, 5]));
    expect(peak).to.equal(2);
    expect(await committed()).to.deep.equal([6, 6, 6]);
  });

  it('a handler rejection stops run() with that error, and the record is not committed', async () => {
    const c = consumer({ assignment: [{ topic: 't', partition: 0 }] });
    const failure = new Error('handler failed');
    const seen: number[] = [];
    const result = await c
      .run({
        eachRecord: async (record) => {
          seen.push(record.offset);
          if (record.offset === 3) throw failure;
        },
      })
      .catch((error: unknown) => error);
    expect(result).to.equal(failure);
    expect(seen).to.deep.equal([0, 1, 2, 3]);
    expect(c.position('t', 0)).to.equal(3);
    await c.close();
    expect(await committed()).to.deep.equal([3, -1, -1]);
  });

  const bad: [string, unknown, string][] = [
    ['no handler', {}, 'run needs one handler: eachBatch or eachRecord (a function), not both'],
    [
      'both handlers',
      { eachBatch: async () => {}, eachRecord: async () => {} },
      'run needs one handler: eachBatch or eachRecord (a function), not both',
    ],
    [
      'a handler that is not a function',
      { eachRecord: 'save' },
      'run needs one handler: eachBatch or eachRecord (a function), not both',
    ],
    [
      'no concurrency',
      { eachRecord: async () => {}, partitionsConsumedConcurrently: 0 },
      'partitionsConsumedConcurrently must be a positive integer, got 0',
    ],
    [
      'a fractional concurrency',
      { eachRecord: async () => {}, partitionsConsumedConcurrently: 1.5 },
      'partitionsConsumedConcurrently must be a positive integer, got 1.5',
    ],
  ];
  for (const [what, handlers, message] of bad) {
    it(`refuses ${what} with InvalidConfigError, and reading still works afterwards`, async () => {
      const c = consumer({ assignment: [{ topic: 't', partition: 0 }] });
      const error = await c.run(handlers as RunHandlers).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InvalidConfigError);
      expect((error as Error).message).to.equal(message);
      const seen: number[] = [];
      const done = c.run({ eachRecord: async (record) => void seen.push(record.offset) });
      await waitFor(() => seen.length === 6, 'six records');
      await c.close();
      await done;
    });
  }
});
