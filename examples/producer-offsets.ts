/**
 * Offset tracking: send returns a SendResult at once; its offset arrives when
 * the agent acknowledges the batch. `sendAndWait` does both in one call.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/producer-offsets.ts
 */
import { connectAgent, createProducer, TopicAlreadyExistsError } from '../src/index.js';

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const admin = connectAgent(agent);
await admin.client.createTopic({ name: 'payments', partitions: 3, config: undefined }).catch((e: unknown) => {
  if (!(e instanceof TopicAlreadyExistsError)) throw e;
});
admin.close();

const producer = await createProducer({ bootstrap: [agent] });

// Fire and track: the offset is undefined until the batch is acknowledged.
const results = await Promise.all(
  ['p-1', 'p-2', 'p-3'].map((id) =>
    producer.send({ topic: 'payments', key: id, value: JSON.stringify({ id, amount: 10 }) }),
  ),
);
for (const result of results) {
  const offset = await result.waitOffset(5_000);
  console.log(`payment stored in ${result.topic}/${result.partition} at offset ${offset}`);
}

// One call, one acknowledged record.
const stored = await producer.sendAndWait({ topic: 'payments', key: 'p-4', value: '{"id":"p-4","amount":25}' });
console.log('sendAndWait:', stored);

await producer.close();
