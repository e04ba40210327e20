/**
 * Reading a topic with the Consumer: every record of both partitions from
 * the earliest offset (manual assignment, no group), until nothing new comes
 * for a second; then positions and lag.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/consumer-basic.ts
 */
import { EMPTY, lastValueFrom, tap, timeout } from 'rxjs';
import { connectAgent, createProducer, TopicAlreadyExistsError } from '../src/index.js';
import { createConsumer } from '../src/client/consumer/index.js';

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const admin = connectAgent(agent);
await admin.client.createTopic({ name: 'greetings', partitions: 2, config: undefined }).catch((e: unknown) => {
  if (!(e instanceof TopicAlreadyExistsError)) throw e;
});
admin.close();

// A few records to read.
const producer = await createProducer({ bootstrap: [agent] });
for (const name of ['ada', 'grace', 'edsger', 'barbara']) {
  await producer.sendAndWait({ topic: 'greetings', key: name, value: `hello, ${name}` });
}
await producer.close();

const consumer = createConsumer({
  bootstrap: [agent],
  assignment: [
    { topic: 'greetings', partition: 0 },
    { topic: 'greetings', partition: 1 },
  ],
  resetStrategy: { type: 'earliest' },
});

let count = 0;
await lastValueFrom(
  consumer.records$.pipe(
    tap((record) => {
      count++;
      const key = record.key === null ? '' : Buffer.from(record.key).toString();
      console.log(
        `${record.topic}/${record.partition}@${record.offset} ${key}: ${Buffer.from(record.value!).toString()}`,
      );
    }),
    // Stop once nothing arrives for a second (unsubscribing stops the fetching).
    timeout({ each: 1000, with: () => EMPTY }),
  ),
  { defaultValue: undefined },
);
console.log(`${count} records read`);
for (const info of consumer.offsetInfo()) {
  console.log(
    `${info.topic}/${info.partition}: position ${info.offset}, high watermark ${info.highWatermark}, lag ${info.lag}`,
  );
}
await consumer.close();
