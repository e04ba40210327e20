import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import { deadLetter } from '../../../src/client/consumer/deadLetter.js';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { createTopic, produceValues, startCluster, waitFor, type Cluster } from './consumerSupport.js';

describe('client/consumer deadLetter against a real agent and Producer', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  let producer: Producer | undefined;
  const consumers: Consumer[] = [];

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 'orders', 1);
    await createTopic(cluster, 'orders.dlq', 1);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await producer?.close();
    producer = undefined;
    await cluster.stop();
  });

  it('sends a record that keeps failing to the dead-letter topic with exact headers, and commits past it', async () => {
    await produceValues(cluster, 'orders', 0, 4, 'o');
    producer = await createProducer({ bootstrap: [cluster.address], lingerMs: 1 });
    const c = createConsumer({
      bootstrap: [cluster.address],
      groupId: 'billing',
      assignment: [{ topic: 'orders', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
      ackMode: 'explicit',
      commitStrategy: { type: 'every-n', count: 1 },
    });
    consumers.push(c);
    let attempts = 0;
    const outcomes = await firstValueFrom(
      c.records$.pipe(
        deadLetter({
          process: async (record) => {
            if (record.offset !== 2) return;
            attempts++;
            throw new RangeError(`no room for order ${record.offset}`);
          },
          producer,
          topic: 'orders.dlq',
          retries: { count: 1, delayMs: 1 },
        }),
        take(4),
        toArray(),
      ),
    );
    expect(outcomes.map((o) => [o.record.offset, o.ok])).to.deep.equal([
      [0, true],
      [1, true],
      [2, false],
      [3, true],
    ]);
    const failed = outcomes[2]!;
    expect(failed.ok === false && failed.deadLetter.topic).to.equal('orders.dlq');
    expect(failed.ok === false && failed.deadLetter.offset).to.equal(0);
    expect(attempts).to.equal(2);
    await waitFor(() => c.position('orders', 0) === 4, 'every record acknowledged');

    const reader = createConsumer({
      bootstrap: [cluster.address],
      assignment: [{ topic: 'orders.dlq', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
    });
    consumers.push(reader);
    const letter = await firstValueFrom(reader.records$);
    expect([letter.offset, Buffer.from(letter.value!).toString()]).to.deep.equal([0, 'o-2']);
    expect(letter.headers.map((h) => [h.key, Buffer.from(h.value!).toString()])).to.deep.equal([
      ['streamhouse.dlq.topic', 'orders'],
      ['streamhouse.dlq.partition', '0'],
      ['streamhouse.dlq.offset', '2'],
      ['streamhouse.dlq.error', 'RangeError: no room for order 2'],
    ]);
    await c.close();
    const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({
      groupId: 'billing',
      partitions: [{ topic: 'orders', partition: 0 }],
    });
    expect(offsets.map((o) => o.offset)).to.deep.equal([4]);
  });
});
