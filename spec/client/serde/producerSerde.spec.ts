import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createConsumer } from '../../../src/client/consumer/consumer.js';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { deserializers } from '../../../src/client/serde/builtins.js';
import { SerializationError } from '../../../src/client/serde/errors.js';
import type { Serializer } from '../../../src/client/serde/serde.js';
import { InvalidConfigError, InvalidRequestError } from '../../../src/protocol/errors.js';
import { createTopic, startCluster, type Cluster } from '../consumer/consumerSupport.js';

describe('client/serde: typed producers against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  const producers: Producer<unknown, unknown>[] = [];

  const open = async <K, V>(serializers: { keySerializer?: Serializer<K>; valueSerializer?: Serializer<V> }) => {
    const producer = await createProducer<K, V>({ bootstrap: [cluster.address], lingerMs: 0, ...serializers });
    producers.push(producer as Producer<unknown, unknown>);
    return producer;
  };
  /** `[key, value]` as text of the records stored in orders/0. */
  const stored = async (count: number) => {
    const c = createConsumer({
      bootstrap: [cluster.address],
      assignment: [{ topic: 'orders', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
      keyDeserializer: deserializers.string,
      valueDeserializer: deserializers.string,
    });
    try {
      const records = await firstValueFrom(c.records$.pipe(take(count), toArray()));
      return records.map((r) => [r.offset, r.key, r.value]);
    } finally {
      await c.close();
    }
  };

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 'orders', 1);
  });
  afterEach(async () => {
    for (const producer of producers.splice(0)) await producer.close();
    await cluster.stop();
  });

  it('the default serialiser sends strings and bytes as they are and anything else as JSON', async () => {
    const producer = await open({});
    for (const value of ['text', Buffer.from('bytes'), { total: 4 }, [1, 2], 7, true] as unknown[]) {
      await producer.sendAndWait({ topic: 'orders', partition: 0, key: null, value: value as string });
    }
    expect(await stored(6)).to.deep.equal([
      [0, null, 'text'],
      [1, null, 'bytes'],
      [2, null, '{"total":4}'],
      [3, null, '[1,2]'],
      [4, null, '7'],
      [5, null, 'true'],
    ]);
  });

  it('a serialiser that throws refuses the record with SerializationError; nothing buffered or written', async () => {
    const failure = new RangeError('total out of range');
    const producer = await open({
      keySerializer: (key: number) => Buffer.from(`k${key}`),
      valueSerializer: (total: number) => {
        if (total < 0) throw failure;
        return Buffer.from(String(total));
      },
    });
    const error = await producer.send({ topic: 'orders', partition: 0, key: 1, value: -5 }).catch((e) => e);
    expect(error).to.be.instanceOf(SerializationError).and.instanceOf(InvalidRequestError);
    const refused = error as SerializationError;
    expect([refused.topic, refused.side, refused.cause, refused.retriable]).to.deep.equal([
      'orders',
      'value',
      failure,
      false,
    ]);
    expect(refused.message).to.equal(
      'record value for topic orders could not be serialized: RangeError: total out of range',
    );
    expect(producer.metrics().pendingRecords).to.equal(0);
    // The producer keeps serving: the next record is the partition's first, and tombstones skip the serialiser.
    expect((await producer.sendAndWait({ topic: 'orders', partition: 0, key: 2, value: 20 })).offset).to.equal(0);
    expect((await producer.sendAndWait({ topic: 'orders', partition: 0, key: 3, value: null })).offset).to.equal(1);
    expect(await stored(2)).to.deep.equal([
      [0, 'k2', '20'],
      [1, 'k3', null],
    ]);
  });

  it('a serialiser that returns something other than bytes refuses the record, naming the side', async () => {
    const producer = await open({ keySerializer: (key: string) => key as unknown as Uint8Array });
    const error = (await producer.send({ topic: 'orders', key: 'k', value: 'v' }).catch((e) => e)) as Error;
    expect(error).to.be.instanceOf(SerializationError);
    expect(error.message).to.equal(
      'record key for topic orders could not be serialized: TypeError: the serializer returned string, not a ' +
        'Uint8Array',
    );
  });

  it('createProducer refuses a serialiser that is not a function with InvalidConfigError', async () => {
    const error = await open({ valueSerializer: 'json' as unknown as Serializer<string> }).catch((e) => e);
    expect(error).to.be.instanceOf(InvalidConfigError);
    expect((error as Error).message).to.equal(
      'producer option valueSerializer must be a function (value, topic) => Uint8Array',
    );
  });
});
