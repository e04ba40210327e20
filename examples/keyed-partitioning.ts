/**
 * Keyed partitioning: records with the same key always land on the same
 * partition (murmur2, as Kafka's clients hash), so per-key order holds.
 * Null keys stick to one partition per batch; an explicit partition wins.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/keyed-partitioning.ts
 */
import { connectAgent, createProducer, partitionForKey, TopicAlreadyExistsError } from '../src/index.js';

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const admin = connectAgent(agent);
await admin.client.createTopic({ name: 'accounts', partitions: 6, config: undefined }).catch((e: unknown) => {
  if (!(e instanceof TopicAlreadyExistsError)) throw e;
});
admin.close();

const producer = await createProducer({ bootstrap: [agent] });
for (const account of ['alice', 'bob', 'carol']) {
  const expected = partitionForKey(Buffer.from(account), 6);
  for (let i = 0; i < 3; i++) {
    const meta = await producer.sendAndWait({ topic: 'accounts', key: account, value: `event ${i} of ${account}` });
    console.log(`${account}: partition ${meta.partition} (murmur2 says ${expected}), offset ${meta.offset}`);
  }
}
const pinned = await producer.sendAndWait({ topic: 'accounts', partition: 5, value: 'pinned to 5' });
console.log('explicit partition:', pinned.partition);
await producer.close();
