/**
 * A marble test of a producer pipeline, with no agent running: the real
 * Producer on streamhouse/testing's in-memory cluster, in virtual time.
 * The pipeline under test batches readings with a 5 ms linger; the first
 * Produce fails once (an injected STORAGE_ERROR) and is retried after the
 * 100 ms backoff, and the idempotent producer keeps the partition in order.
 *
 *   npx tsx examples/testing-producer.ts
 */
import assert from 'node:assert/strict';
import { finalize, map, mergeMap, type Observable } from 'rxjs';
import type { Producer } from '../src/index.js';
import { StorageError } from '../src/protocol/errors.js';
import { PipelineTestScheduler, createInMemoryCluster } from '../src/testing/index.js';

/** The application's pipeline: each reading is sent, and its offset emitted once acknowledged. */
function recordReadings(producer: Producer, readings: Observable<string>): Observable<number> {
  return readings.pipe(
    mergeMap((value) => producer.send$({ topic: 'readings', key: 'sensor-1', value })),
    map((meta) => meta.offset),
  );
}

const testScheduler = new PipelineTestScheduler((actual, expected) => assert.deepEqual(actual, expected));

await testScheduler.runAsync(async ({ cold, expectObservable }) => {
  const cluster = await createInMemoryCluster({ scheduler: testScheduler, topics: { readings: 1 } });
  const producer = await cluster.producer({ lingerMs: 5, retry: { initialBackoffMs: 100, jitter: 0 } });
  cluster.failNext({ call: 'produce' }, new StorageError('disk hiccup'));

  const offsets = recordReadings(producer, cold('a b c 20ms d|')).pipe(finalize(() => void producer.close()));

  // a, b, c close a batch at 5 ms, whose Produce fails and is retried at 105 ms. d's batch, sent at 28 ms
  // ahead of theirs, is refused as out of order and retried 100 ms later: the partition keeps send order.
  expectObservable(offsets).toBe('105ms (abc) 18ms (d|)', { a: 0, b: 1, c: 2, d: 3 });
});
console.log('producer pipeline: marble test passed');
