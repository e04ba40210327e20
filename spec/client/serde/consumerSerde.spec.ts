import { expect } from 'chai';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import type { ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import { DEAD_LETTER_HEADERS } from '../../../src/client/consumer/deadLetter.js';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import type { Payload } from '../../../src/client/producer/producerRecord.js';
import { deserializers, serializers } from '../../../src/client/serde/builtins.js';
import { DeserializationError } from '../../../src/client/serde/errors.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { createTopic, startCluster, waitFor, type Cluster } from '../consumer/consumerSupport.js';

type Order = { id: string; total: number };

describe('client/serde: typed consumers against a real agent', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  let raw: Producer;
  const closers: (() => Promise<void>)[] = [];

  const consumer = <K = Uint8Array, V = Uint8Array>(options: Partial<ConsumerOptions<K, V>>): Consumer<K, V> => {
    const created = createConsumer<K, V>({
      bootstrap: [cluster.address],
      groupId: 'g',
      assignment: [{ topic: 'orders', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
      commitStrategy: { type: 'periodic', intervalMs: 600_000 }, // commits on close
      ...options,
    });
    closers.push(() => created.close());
    return created;
  };
  const committed = async (topic = 'orders') => {
    const partitions = [{ topic, partition: 0 }];
    const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({ groupId: 'g', partitions });
    return offsets[0]!.offset;
  };
  /** Sends raw records to orders/0 in order (one request each, so each is its own stored batch). */
  const sendRaw = async (records: { key?: Payload | null; value: Payload | null }[], topic = 'orders') => {
    for (const record of records) await raw.sendAndWait({ topic, partition: 0, ...record });
  };
  const order = (n: number): Order => ({ id: `o-${n}`, total: n * 10 });

  beforeEach(async () => {
    cluster = await startCluster('sqlite');
    await createTopic(cluster, 'orders', 1);
    await createTopic(cluster, 'orders.dlq', 1);
    raw = await createProducer({ bootstrap: [cluster.address], lingerMs: 0 });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await raw.close();
    await cluster.stop();
  });

  it('a typed producer and consumer round-trip keys and values, nulls included, in every reading style', async () => {
    const producer = await createProducer({
      bootstrap: [cluster.address],
      lingerMs: 0,
      keySerializer: serializers.string,
      valueSerializer: serializers.json<Order>(),
    });
    closers.push(() => producer.close());
    await producer.sendAndWait({ topic: 'orders', partition: 0, key: 'o-0', value: order(0) });
    await producer.sendAndWait({ topic: 'orders', partition: 0, key: null, value: order(1) });
    await producer.sendAndWait({ topic: 'orders', partition: 0, key: 'o-2', value: null });
    const expected = [
      [0, 'o-0', order(0)],
      [1, null, order(1)],
      [2, 'o-2', null],
    ];
    // A group each: each reader commits what it read on close.
    const typed = (groupId: string) =>
      consumer({ groupId, keyDeserializer: deserializers.string, valueDeserializer: deserializers.json<Order>() });
    const view = (r: ConsumerRecord<string, Order>) => [r.offset, r.key, r.value];

    const viaRecords = await firstValueFrom(typed('records').records$.pipe(take(3), toArray()));
    expect(viaRecords.map(view)).to.deep.equal(expected);

    const viaBatches: (string | Order | number | null)[][] = [];
    const c1 = typed('batches');
    const batches = c1.run({ eachBatch: async (batch) => void viaBatches.push(...batch.records.map(view)) });
    await waitFor(() => viaBatches.length === 3, 'three records in batches');
    await c1.close();
    await batches;
    expect(viaBatches).to.deep.equal(expected);

    const viaIterator: (string | Order | number | null)[][] = [];
    for await (const record of typed('iterator')) if (viaIterator.push(view(record)) === 3) break;
    expect(viaIterator).to.deep.equal(expected);
  });

  it("a value that does not deserialise errors the reader with DeserializationError ('error', default)", async () => {
    await sendRaw([{ value: JSON.stringify(order(0)) }, { value: '{"id":' }, { value: JSON.stringify(order(2)) }]);
    const c = consumer({ valueDeserializer: deserializers.json<Order>() });
    const seen: (Order | null)[] = [];
    const error = await lastValueFrom(c.records$.pipe(tap((record) => seen.push(record.value)))).catch((e) => e);
    // The records before the bad one are delivered (and processed) first.
    expect(seen).to.deep.equal([order(0)]);
    expect(error).to.be.instanceOf(DeserializationError);
    const failure = error as DeserializationError;
    expect([failure.topic, failure.partition, failure.offset, failure.side]).to.deep.equal(['orders', 0, 1, 'value']);
    expect([failure.code, failure.retriable]).to.deep.equal(['INVALID_RECORD', false]);
    expect(failure.context).to.deep.equal({ topic: 'orders', partition: 0, offset: 1 });
    expect(failure.cause).to.be.instanceOf(SyntaxError);
    expect(failure.message).to.match(/^record value at orders\/0@1 could not be deserialized: SyntaxError: /);
    // The bad record is not processed: reading again (run) stops at it at once, and nothing from it on is committed.
    const again = await c
      .run({ eachRecord: async (record) => void seen.push(record.value) })
      .catch((e: unknown) => e as DeserializationError);
    expect(again).to.be.instanceOf(DeserializationError);
    expect((again as DeserializationError).offset).to.equal(1);
    expect(seen).to.deep.equal([order(0)]);
    await c.close();
    expect(await committed()).to.equal(1);
  });

  it('names the key when the key does not deserialise', async () => {
    await sendRaw([{ key: Uint8Array.of(0xc3, 0x28), value: 'v' }]);
    const c = consumer({ keyDeserializer: deserializers.string });
    const error = (await lastValueFrom(c.records$).catch((e: unknown) => e)) as DeserializationError;
    expect(error).to.be.instanceOf(DeserializationError);
    expect([error.offset, error.side, (error.cause as Error).name]).to.deep.equal([0, 'key', 'TypeError']);
  });

  it("'skip' leaves bad records out, those after the last good one included, and commits past them", async () => {
    await sendRaw([
      { value: JSON.stringify(order(0)) },
      { value: 'not json' },
      { value: JSON.stringify(order(2)) },
      { value: 'not json either' },
    ]);
    const c = consumer({ valueDeserializer: deserializers.json<Order>(), onDeserializationError: 'skip' });
    const seen: [number, Order | null][] = [];
    const done = c.run({ eachRecord: async (record) => void seen.push([record.offset, record.value]) });
    await waitFor(() => c.position('orders', 0) === 4, 'position past the last bad record');
    await c.close();
    await done;
    expect(seen).to.deep.equal([
      [0, order(0)],
      [2, order(2)],
    ]);
    expect(await committed()).to.equal(4);
  });

  it('{ deadLetter } sends bad records as stored, with deadLetter headers, before processing the rest', async () => {
    await sendRaw([
      { key: 'k0', value: JSON.stringify(order(0)) },
      { key: 'k1', value: '{oops' },
      { key: 'k2', value: JSON.stringify(order(2)) },
    ]);
    await raw.sendAndWait({
      topic: 'orders',
      partition: 0,
      key: null,
      value: Uint8Array.of(0xff),
      headers: { trace: 't-3' },
    });
    const c = consumer({
      ackMode: 'explicit',
      valueDeserializer: deserializers.json<Order>(),
      onDeserializationError: { deadLetter: { producer: raw, topic: 'orders.dlq' } },
    });
    const good: ConsumerRecord<Uint8Array, Order>[] = [];
    const reading = c.records$.subscribe((record) => good.push(record));
    closers.push(async () => reading.unsubscribe());
    await waitFor(() => good.length === 2, 'the two good records');
    expect(good.map((r) => [r.offset, r.value])).to.deep.equal([
      [0, order(0)],
      [2, order(2)],
    ]);
    // Nothing is committable before the application acknowledges: the dead letters wait behind offset 0.
    expect(c.position('orders', 0)).to.equal(0);
    for (const record of good) record.ack();
    // The last record was bad and alone in its batch: acknowledged once its dead letter is stored.
    await waitFor(() => c.position('orders', 0) === 4, 'position past the dead-lettered records');
    await c.close();
    expect(await committed()).to.equal(4);

    const dlq = createConsumer({
      bootstrap: [cluster.address],
      assignment: [{ topic: 'orders.dlq', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
    });
    closers.push(() => dlq.close());
    const letters = await firstValueFrom(dlq.records$.pipe(take(2), toArray()));
    const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('latin1'));
    const headers = (record: ConsumerRecord) => record.headers.map((h) => [h.key, text(h.value)]);
    expect(letters.map((r) => [text(r.key), text(r.value)])).to.deep.equal([
      ['k1', '{oops'],
      [null, '\xff'],
    ]);
    expect(headers(letters[0]!).slice(0, 3)).to.deep.equal([
      [DEAD_LETTER_HEADERS.topic, 'orders'],
      [DEAD_LETTER_HEADERS.partition, '0'],
      [DEAD_LETTER_HEADERS.offset, '1'],
    ]);
    expect(headers(letters[0]!)[3]![1]).to.match(
      /^DeserializationError: record value at orders\/0@1 could not be deserialized: SyntaxError: /,
    );
    expect(headers(letters[1]!).slice(0, 4)).to.deep.equal([
      ['trace', 't-3'],
      [DEAD_LETTER_HEADERS.topic, 'orders'],
      [DEAD_LETTER_HEADERS.partition, '0'],
      [DEAD_LETTER_HEADERS.offset, '3'],
    ]);
  });

  it('a dead letter that cannot be sent errors the reader and leaves the bad record uncommitted', async () => {
    await sendRaw([{ value: JSON.stringify(order(0)) }, { value: '{oops' }]);
    const c = consumer({
      valueDeserializer: deserializers.json<Order>(),
      onDeserializationError: { deadLetter: { producer: raw, topic: 'no-such-topic' } },
      requestTimeoutMs: 2000,
    });
    const seen: number[] = [];
    const error = await c.run({ eachRecord: async (record) => void seen.push(record.offset) }).catch((e) => e);
    expect((error as Error).name).to.equal('UnknownTopicOrPartitionError');
    await c.close();
    // Both records came in one fetch: none of its records is processed before its dead letters are stored.
    expect(seen).to.deep.equal([]);
    expect(await committed()).to.equal(-1);
  });

  const badOptions: [string, Record<string, unknown>, string][] = [
    [
      'a key deserialiser that is not a function',
      { keyDeserializer: 'json' },
      'consumer option keyDeserializer must be a function (bytes, topic, headers) => value',
    ],
    [
      'an unknown policy',
      { onDeserializationError: 'drop' },
      `consumer option onDeserializationError must be 'error', 'skip' or { deadLetter: { producer, topic } }, got ` +
        `"drop"`,
    ],
    [
      'a dead letter without producer',
      { onDeserializationError: { deadLetter: { topic: 'dlq' } } },
      'onDeserializationError.deadLetter needs a producer with send$',
    ],
    [
      'a dead letter without topic',
      { onDeserializationError: { deadLetter: { producer: { send$: () => 1 }, topic: '' } } },
      'onDeserializationError.deadLetter.topic must be a non-empty string, got ""',
    ],
  ];
  for (const [what, options, message] of badOptions) {
    it(`createConsumer refuses ${what} with InvalidConfigError`, () => {
      expect(() => consumer(options as Partial<ConsumerOptions>)).to.throw(InvalidConfigError, message);
    });
  }
});
