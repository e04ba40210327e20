/**
 * Type tests of typed keys and values, checked by `npm run typecheck` (never
 * run): the generics of createProducer/createConsumer flow to send, produceTo,
 * records$, batches$, run's handlers, the async iterator and deadLetter, and
 * today's untyped use keeps its types. A `@ts-expect-error` that stops being
 * an error fails the typecheck.
 */
import { lastValueFrom, of } from 'rxjs';
import {
  createConsumer,
  createProducer,
  deadLetter,
  deserializers,
  produceTo,
  serializers,
  type ConsumerBatch,
  type ConsumerRecord,
  type Payload,
  type Producer,
  type Consumer,
  type DeadLetterOutcome,
} from '../../../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `T` is exactly `Expected`. */
const is =
  <Expected>() =>
  <T>(_value: T, ..._check: Equal<T, Expected> extends true ? [] : [never]): void => {};

type Order = { id: string; total: number };
const bootstrap = ['127.0.0.1:1'];

export async function typeChecks(): Promise<void> {
  // Untyped use keeps today's types: Payload in, Uint8Array out.
  const plain = await createProducer({ bootstrap });
  is<Producer<Payload, Payload>>()(plain);
  await plain.send({ topic: 't', key: 'k', value: Buffer.from('v') });
  const bytes = createConsumer({ bootstrap, assignment: [{ topic: 't', partition: 0 }] });
  is<Consumer<Uint8Array, Uint8Array>>()(bytes);
  bytes.records$.subscribe((record) => {
    is<Uint8Array | null>()(record.key);
    is<Uint8Array | null>()(record.value);
  });
  is<ConsumerRecord>()({} as ConsumerRecord<Uint8Array, Uint8Array>);

  // Types follow the serialisers given.
  const orders = await createProducer({
    bootstrap,
    keySerializer: serializers.string,
    valueSerializer: serializers.json<Order>(),
  });
  is<Producer<string, Order>>()(orders);
  await orders.send({ topic: 'orders', key: 'o-1', value: { id: 'o-1', total: 3 } });
  await orders.send({ topic: 'orders', key: null, value: null });
  // @ts-expect-error: the value must be an Order
  await orders.send({ topic: 'orders', key: 'o-1', value: 'not an order' });
  // @ts-expect-error: the key must be a string
  await orders.send({ topic: 'orders', key: 7, value: { id: 'o-1', total: 3 } });

  // produceTo: values of the sink's type need no mapping; others do.
  const acks = of<Order>({ id: 'o-2', total: 1 }).pipe(produceTo(orders, 'orders', { key: (o) => o.id }));
  is<Order>()((await lastValueFrom(acks)).value);
  of(1).pipe(produceTo(orders, 'orders', { value: (n) => ({ id: String(n), total: n }) }));
  // @ts-expect-error: numbers are not Orders: a value mapping is needed
  of(1).pipe(produceTo(orders, 'orders'));
  // @ts-expect-error: the key mapping must give a string
  of<Order>({ id: 'o', total: 1 }).pipe(produceTo(orders, 'orders', { key: (o) => o.total }));
  // A default producer still sends any value (as JSON) without a mapping, as before.
  of<Order>({ id: 'o', total: 1 }).pipe(produceTo(plain, 'orders'));

  // The consumer's types follow its deserialisers to every reading style.
  const typed = createConsumer({
    bootstrap,
    groupId: 'g',
    topics: ['orders'],
    keyDeserializer: deserializers.string,
    valueDeserializer: deserializers.json<Order>(),
  });
  is<Consumer<string, Order>>()(typed);
  typed.records$.subscribe((record) => {
    is<string | null>()(record.key);
    is<Order | null>()(record.value);
  });
  typed.batches$.subscribe((batch) => is<ConsumerBatch<string, Order>>()(batch));
  await typed.run({ eachRecord: async (record) => is<Order | null>()(record.value) });
  await typed.run({
    partitionsConsumedConcurrently: 2,
    eachBatch: async (batch) => is<ConsumerRecord<string, Order>[]>()(batch.records),
  });
  // @ts-expect-error: the handler takes records of strings and Orders, not bytes
  await typed.run({ eachRecord: async (record: ConsumerRecord<Uint8Array, Uint8Array>) => void record });
  for await (const record of typed) is<ConsumerRecord<string, Order>>()(record);

  // Explicit type arguments work too.
  const explicit = createConsumer<string, Order>({
    bootstrap,
    assignment: [{ topic: 'orders', partition: 0 }],
    keyDeserializer: deserializers.string,
    valueDeserializer: deserializers.json<Order>(),
  });
  is<Consumer<string, Order>>()(explicit);
  createConsumer<string, Order>({
    bootstrap,
    assignment: [{ topic: 'orders', partition: 0 }],
    // @ts-expect-error: a string deserialiser does not make Orders
    valueDeserializer: deserializers.string,
  });

  // deadLetter: records keep their types, and the dead letter goes through a producer of the same types.
  typed.records$
    .pipe(deadLetter({ process: async (record) => is<Order | null>()(record.value), producer: orders, topic: 'dlq' }))
    .subscribe((outcome) => is<DeadLetterOutcome<string, Order>>()(outcome));
  const numbers = await createProducer({ bootstrap, valueSerializer: (n: number) => Buffer.from(String(n)) });
  // @ts-expect-error: a producer of numbers cannot carry Orders
  typed.records$.pipe(deadLetter({ process: async () => {}, producer: numbers, topic: 'dlq' }));
  // Records that do not deserialise go, as bytes, through a producer of bytes.
  createConsumer({
    bootstrap,
    assignment: [{ topic: 'orders', partition: 0 }],
    valueDeserializer: deserializers.json<Order>(),
    onDeserializationError: { deadLetter: { producer: plain, topic: 'orders.dlq' } },
  });
}
