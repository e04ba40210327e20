/**
 * A marble test of a consume-transform-produce pipeline, with no agent
 * running: a consumer group member reads orders, turns each into an invoice
 * and writes it with produceTo; all on streamhouse/testing's in-memory
 * cluster, in virtual time. The member is assigned the partition when the
 * agent's initial rebalance delay (3 s) has passed, picks up a late order
 * as soon as it is written, commits every second and when it closes.
 *
 *   npx tsx examples/testing-consume-transform-produce.ts
 */
import assert from 'node:assert/strict';
import { finalize, map, take, type Observable } from 'rxjs';
import { produceTo, type Consumer, type Producer } from '../src/index.js';
import { PipelineTestScheduler, createInMemoryCluster } from '../src/testing/index.js';

type Order = { id: string; amount: number };
type Invoice = { order: string; total: number };

/** The application's pipeline: orders in, invoices out; emits each invoice's offset once acknowledged. */
function invoiceOrders(consumer: Consumer, producer: Producer): Observable<string> {
  return consumer.records$.pipe(
    map((record): Order => JSON.parse(Buffer.from(record.value ?? []).toString())),
    map((order): Invoice => ({ order: order.id, total: Math.round(order.amount * 120) / 100 })),
    produceTo(producer, 'invoices', { key: (invoice) => invoice.order, value: (invoice) => JSON.stringify(invoice) }),
    map(({ value, offset }) => `${value.order}@${offset}`),
  );
}

const testScheduler = new PipelineTestScheduler((actual, expected) => assert.deepEqual(actual, expected));
let stored: string[] = [];

await testScheduler.runAsync(async ({ cold, expectObservable }) => {
  const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { orders: 1, invoices: 1 } });
  const producer = await cluster.producer({ lingerMs: 0 });
  const consumer = cluster.consumer({
    groupId: 'invoicing',
    topics: ['orders'],
    resetStrategy: { type: 'earliest' },
    commitStrategy: { type: 'periodic', intervalMs: 1000 },
  });
  await producer.sendAndWait({ topic: 'orders', value: JSON.stringify({ id: 'o-1', amount: 10 }) });
  await producer.sendAndWait({ topic: 'orders', value: JSON.stringify({ id: 'o-2', amount: 5 }) });
  cold('4500ms a').subscribe(() => void producer.send({ topic: 'orders', value: '{"id":"o-3","amount":1}' }));

  const invoices = invoiceOrders(consumer, producer).pipe(
    take(3),
    finalize(() => {
      stored = cluster.records('invoices', 0).map((r) => `${r.key}:${r.value}`);
      void consumer.close().then(() => producer.close());
    }),
  );
  const commits = consumer.commits$.pipe(
    map((outcome) => (outcome.type === 'committed' ? outcome.offsets.map((o) => o.offset).join() : outcome.type)),
    take(2),
  );

  expectObservable(invoices).toBe('3000ms (ab) 1496ms (c|)', { a: 'o-1@0', b: 'o-2@1', c: 'o-3@2' });
  // Commits each second from the assignment, and once more when the member closes after the third invoice.
  expectObservable(commits).toBe('4000ms a 499ms (b|)', { a: '2', b: '3' });
});
assert.deepEqual(stored, [
  'o-1:{"order":"o-1","total":12}',
  'o-2:{"order":"o-2","total":6}',
  'o-3:{"order":"o-3","total":1.2}',
]);
console.log('consume-transform-produce pipeline: marble test passed');
