/**
 * Piping an Observable of events into a topic: every acknowledgement carries
 * the event it came from; the pipeline completes once all are stored.
 *
 *   npm start                                  # in another terminal
 *   npx tsx examples/pipe-observable.ts
 */
import { interval, map, take } from 'rxjs';
import { connectAgent, createProducer, produceTo, TopicAlreadyExistsError } from '../src/index.js';

type Click = { user: string; page: string; at: number };

const agent = process.env['STREAMHOUSE_AGENT'] ?? '127.0.0.1:9660';
const admin = connectAgent(agent);
await admin.client.createTopic({ name: 'clicks', partitions: 4, config: undefined }).catch((e: unknown) => {
  if (!(e instanceof TopicAlreadyExistsError)) throw e;
});
admin.close();

const producer = await createProducer({ bootstrap: [agent], lingerMs: 10 });
const clicks$ = interval(5).pipe(
  take(100),
  map((i): Click => ({ user: `user-${i % 7}`, page: `/page/${i % 3}`, at: Date.now() })),
);

clicks$
  .pipe(
    produceTo(producer, 'clicks', {
      key: (c) => c.user,
      value: (c) => JSON.stringify(c),
      headers: () => ({ source: 'example' }),
    }),
  )
  .subscribe({
    next: ({ value, partition, offset }) => console.log(`${value.user} ${value.page} -> clicks/${partition}@${offset}`),
    error: (error: unknown) => console.error('pipeline failed:', error),
    complete: () => {
      console.log('all clicks stored');
      void producer.close();
    },
  });
