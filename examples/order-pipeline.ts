/**
 * An end-to-end order pipeline:
 *
 * 1. a keyed producer writes orders (key = customer, so one customer's orders
 *    stay in order on one partition);
 * 2. a consumer group reads them with manual commits: each batch is turned
 *    into invoices, the invoices are written to another topic with
 *    `produceTo`, and only then are the orders' offsets committed;
 * 3. a second consumer with a manual assignment shows `seek` and `position`:
 *    it rewinds one partition of the invoices and reads it again.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/order-pipeline.ts
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  connectAgent,
  createConsumer,
  createProducer,
  partitionForKey,
  produceTo,
  TopicAlreadyExistsError,
} from '../src/index.js';

type Order = { id: string; customer: string; amount: number };
type Invoice = { order: string; customer: string; total: number };

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const run = Date.now().toString(36);
const ordersTopic = `orders-${run}`;
const invoicesTopic = `invoices-${run}`;

const admin = connectAgent(agent);
for (const name of [ordersTopic, invoicesTopic]) {
  await admin.client.createTopic({ name, partitions: 3, config: undefined }).catch((e: unknown) => {
    if (!(e instanceof TopicAlreadyExistsError)) throw e;
  });
}
admin.close();

// 1. Keyed producer.
const producer = await createProducer({ bootstrap: [agent] });
const orders: Order[] = Array.from({ length: 30 }, (_, i) => ({
  id: `o-${i}`,
  customer: `c-${i % 4}`,
  amount: 10 + i,
}));
await lastValueFrom(from(orders).pipe(produceTo(producer, ordersTopic, { key: (o) => o.customer }), toArray()));
console.log(`wrote ${orders.length} orders to ${ordersTopic}`);

// 2. Consumer group with manual commits: invoices first, then the commit.
const invoicer = createConsumer({
  bootstrap: [agent],
  clientId: 'invoicer',
  groupId: `invoicer-${run}`,
  topics: [ordersTopic],
  commitStrategy: { type: 'manual' },
  resetStrategy: { type: 'earliest' },
});
let invoiced = 0;
const invoicing = invoicer.run({
  eachBatch: async (batch) => {
    const invoices = batch.records.map((record): Invoice => {
      const order = JSON.parse(Buffer.from(record.value!).toString()) as Order;
      return { order: order.id, customer: order.customer, total: Math.round(order.amount * 1.2 * 100) / 100 };
    });
    await lastValueFrom(
      from(invoices).pipe(produceTo(producer, invoicesTopic, { key: (inv) => inv.customer }), toArray()),
    );
    // Manual commit of exactly this batch, now that its invoices are stored.
    const committed = await invoicer.commit([
      { topic: batch.topic, partition: batch.partition, offset: batch.lastOffset + 1, metadata: 'invoiced' },
    ]);
    invoiced += invoices.length;
    console.log(
      `${batch.topic}/${batch.partition}: ${invoices.length} invoices written, committed`,
      committed.map((c) => `${c.partition}@${c.offset}`).join(' '),
    );
    if (invoiced >= orders.length) void invoicer.close();
  },
});
await invoicing;
console.log(`invoiced ${invoiced} orders; lag now`, invoicer.lag().total);

// 3. seek and position on a manually assigned consumer: the partition customer c-0's invoices went to.
const partition = partitionForKey(Buffer.from('c-0'), 3);
const reader = createConsumer({
  bootstrap: [agent],
  assignment: [{ topic: invoicesTopic, partition }],
  resetStrategy: { type: 'earliest' },
});
const iterator = reader.records();
for (let i = 0; i < 3; i++) {
  const { value } = await iterator.next();
  console.log(`read ${invoicesTopic}/${partition}@${value!.offset}: ${Buffer.from(value!.value!).toString()}`);
}
// Position: every record below it is processed; the third one is still in hand.
console.log('position after taking three records:', reader.position(invoicesTopic, partition));
reader.seek(invoicesTopic, partition, 1);
const again = await iterator.next();
console.log(
  'after seek(1): read offset',
  again.value!.offset,
  '- position now',
  reader.position(invoicesTopic, partition),
);
await iterator.return?.();
await reader.close();
await producer.close();
