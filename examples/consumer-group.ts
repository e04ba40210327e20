/**
 * A consumer group: two members share the partitions of a topic, each
 * handling batches with an async handler (committed only after it
 * succeeds). A third member joins halfway; the group rebalances and every
 * record is still handled once. Run it twice: the second run starts from the
 * committed offsets and only sees the new records.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/consumer-group.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAgent, createProducer, TopicAlreadyExistsError } from '../src/index.js';
import { createConsumer, type Consumer } from '../src/client/consumer/index.js';

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const admin = connectAgent(agent);
await admin.client.createTopic({ name: 'orders', partitions: 6, config: undefined }).catch((e: unknown) => {
  if (!(e instanceof TopicAlreadyExistsError)) throw e;
});
admin.close();

const handled = new Map<string, number>();

function member(name: string): { consumer: Consumer; done: Promise<void> } {
  const consumer = createConsumer({
    bootstrap: [agent],
    clientId: name,
    groupId: 'order-processors',
    topics: ['orders'],
    // A new group reads the topic from its start; later runs resume from the committed offsets.
    resetStrategy: { type: 'earliest' },
    heartbeatIntervalMs: 500,
  });
  consumer.rebalances$.subscribe(({ type, partitions, generation }) =>
    console.log(`${name}: ${type} ${partitions.map((p) => p.partition).join(',') || '-'} (generation ${generation})`),
  );
  const done = consumer.run({
    eachBatch: async (batch) => {
      await sleep(5); // pretend to store the orders somewhere
      handled.set(name, (handled.get(name) ?? 0) + batch.records.length);
    },
  });
  return { consumer, done };
}

const producer = await createProducer({ bootstrap: [agent] });
const produce = async (count: number) => {
  for (let i = 0; i < count; i++)
    producer.send({ topic: 'orders', key: `order-${Date.now()}-${i}`, value: JSON.stringify({ i }) });
  await producer.flush();
};

const members = [member('alpha'), member('beta')];
await produce(300);
// Longer than the agent's initial rebalance delay (3 s), so gamma joins a group already at work.
await sleep(5000);
members.push(member('gamma'));
await produce(300);
await sleep(3000);
await producer.close();
for (const { consumer } of members) await consumer.close();
await Promise.all(members.map(({ done }) => done));
console.log('records handled per member:', Object.fromEntries(handled));
