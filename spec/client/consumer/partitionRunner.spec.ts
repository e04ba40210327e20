import { expect } from 'chai';
import { Observable, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  FetchPipeline,
  type FetchTarget,
  type PartitionFetchResult,
} from '../../../src/client/consumer/fetchPipeline.js';
import type { ConsumerBatch } from '../../../src/client/consumer/consumerTypes.js';
import { PartitionRunner } from '../../../src/client/consumer/partitionRunner.js';
import { retryPolicy } from '../../../src/client/retryPolicy.js';

function batchOf(partition: number, first: number, n: number): ConsumerBatch {
  const records = Array.from({ length: n }, (_, i) => ({
    topic: 't',
    partition,
    offset: first + i,
    key: null,
    value: null,
    headers: [],
    timestamp: 0,
    ack: () => {},
  }));
  return {
    topic: 't',
    partition,
    records,
    firstOffset: first,
    lastOffset: first + n - 1,
    nextOffset: first + n,
    highWatermark: 1000,
    ack: () => {},
  };
}

describe('client/consumer PartitionRunner (marble)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /**
   * A pipeline over partitions 0..count-1 (2 records per fetch, answered after 1 frame) run through a PartitionRunner.
   */
  function harness(
    concurrency: number,
    partitions: number,
    handling: (batch: ConsumerBatch) => string,
    error?: unknown,
  ) {
    const log: string[] = [];
    let active = 0;
    let peak = 0;
    const pipeline = new FetchPipeline({
      maxPrefetchBatches: 8,
      routeOf: () => 'agent',
      fetch: (_address, targets: FetchTarget[]) => {
        const results: PartitionFetchResult[] = targets.map((t) => ({
          topic: 't',
          partition: t.partition,
          batch: batchOf(t.partition, t.offset, 2),
          nextOffset: t.offset + 2,
          highWatermark: 1000,
        }));
        return scheduler.createColdObservable('-(r|)', { r: results });
      },
      resetOffset: () => of(0),
      positionOf: () => 0,
      retry: retryPolicy({ maxRetries: 1, initialBackoffMs: 1, maxBackoffMs: 1, jitter: 0 }),
      scheduler,
    });
    const runner = new PartitionRunner({
      concurrency,
      setBusy: (topic, partition, busy) => pipeline.setBusy(topic, partition, busy),
      handle: (batch) =>
        new Observable<never>((subscriber) => {
          log.push(`${scheduler.now()} start ${batch.partition}@${batch.firstOffset}`);
          peak = Math.max(peak, ++active);
          return scheduler.createColdObservable(handling(batch), undefined, error).subscribe({
            error: (e: unknown) => {
              active--;
              subscriber.error(e);
            },
            complete: () => {
              active--;
              log.push(`${scheduler.now()} end ${batch.partition}@${batch.firstOffset}`);
              subscriber.complete();
            },
          });
        }),
    });
    pipeline.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: 't', partition, offset: 0 })));
    const run = new Observable<never>((subscriber) => {
      subscriber.add(runner.failures$.subscribe({ error: (e: unknown) => subscriber.error(e) }));
      subscriber.add(pipeline.run(runner.process).subscribe(subscriber));
      subscriber.add(() => runner.stop());
    });
    return { log, run, peak: () => peak, runner };
  }

  it('runs partitions concurrently up to the limit, one batch at a time per partition, in offset order', () => {
    scheduler.run(({ expectObservable }) => {
      // partition 0 is slow (4 frames a batch), 1 and 2 fast (1 frame)
      const h = harness(2, 3, (batch) => (batch.partition === 0 ? '----|' : '-|'));
      expectObservable(h.run, '^ 7ms !').toBe('');
      scheduler.flush();
      expect(h.peak()).to.equal(2);
      const of = (partition: number) =>
        h.log.filter((line) => line.includes(` ${partition}@`)).map((line) => line.replace(/^\d+ /, ''));
      for (const partition of [0, 1, 2]) {
        const lines = of(partition);
        // start and end alternate, offsets ascending: never two batches of one partition at once
        for (const [i, line] of lines.entries()) {
          expect(line).to.equal(`${i % 2 === 0 ? 'start' : 'end'} ${partition}@${2 * Math.floor(i / 2)}`);
        }
      }
      expect(h.log.slice(0, 6)).to.deep.equal([
        '1 start 0@0',
        '1 start 1@0',
        '2 end 1@0',
        '2 start 2@0',
        '3 end 2@0',
        '3 start 1@2',
      ]);
    });
  });

  it('with a limit of one, processes one batch at a time', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness(1, 2, () => '--|');
      expectObservable(h.run, '^ 7ms !').toBe('');
      scheduler.flush();
      expect(h.peak()).to.equal(1);
      expect(h.log).to.deep.equal([
        '1 start 0@0',
        '3 end 0@0',
        '3 start 1@0',
        '5 end 1@0',
        '5 start 0@2',
        '7 end 0@2',
        '7 start 1@2',
      ]);
    });
  });

  it('ends the run with the first handler error and drops the batches under way', () => {
    scheduler.run(({ expectObservable }) => {
      const failure = new Error('handler failed');
      const h = harness(3, 3, (batch) => (batch.partition === 1 ? '--#' : '-----|'), failure);
      expectObservable(h.run).toBe('---#', undefined, failure);
      scheduler.flush();
      expect(h.log).to.deep.equal(['1 start 0@0', '1 start 1@0', '1 start 2@0']);
    });
  });
});
