import { expect } from 'chai';
import { Observable, Subject, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Acknowledgements } from '../../../src/client/consumer/acknowledgements.js';
import { bindRecord } from '../../../src/client/consumer/consumedRecord.js';
import {
  FetchPipeline,
  type FetchTarget,
  type PartitionFetchResult,
} from '../../../src/client/consumer/fetchPipeline.js';
import type { ConsumerBatch } from '../../../src/client/consumer/consumerTypes.js';
import { commitTriggers } from '../../../src/client/offsets/commitStrategy.js';
import type { CommitRequest, ProcessedRecord } from '../../../src/client/offsets/types.js';
import { retryPolicy } from '../../../src/client/retryPolicy.js';

/** `n` records of partition 0 from `first`, as a fetch would return them. */
function batchOf(first: number, n: number, highWatermark = 1000): ConsumerBatch {
  const records = Array.from({ length: n }, (_, i) => ({
    topic: 't',
    partition: 0,
    offset: first + i,
    key: null,
    value: null,
    headers: [],
    timestamp: 0,
    ack: () => {},
  }));
  return {
    topic: 't',
    partition: 0,
    records,
    firstOffset: first,
    lastOffset: first + n - 1,
    nextOffset: first + n,
    highWatermark,
    ack: () => {},
  };
}

describe('client/consumer explicit acknowledgement (marble)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** Acknowledgements whose moves feed `processed$`, and a log of holds and releases. */
  function tracked(maxUnackedPerPartition = 10_000) {
    const processed$ = new Subject<ProcessedRecord>();
    const log: string[] = [];
    const acks = new Acknowledgements({
      maxUnackedPerPartition,
      processed: (topic, partition, offset, count, highWatermark) => {
        log.push(`${scheduler.now()} processed ${offset} (+${count})`);
        processed$.next({ topic, partition, offset, highWatermark });
      },
      hold: (_t, p) => log.push(`${scheduler.now()} hold ${p}`),
      release: (_t, p) => log.push(`${scheduler.now()} release ${p}`),
    });
    return { acks, processed$, log };
  }
  const commit = (offset: number): CommitRequest => ({
    reason: 'periodic',
    offsets: [{ topic: 't', partition: 0, offset, metadata: '' }],
  });

  it('commits only an unbroken run of acknowledged offsets, whatever the order the acknowledgements came in', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { acks, processed$, log } = tracked();
      const window = acks.window('t', 0);
      for (const record of batchOf(10, 5).records) bindRecord(record, window);
      // mergeMap-style completion order: 12, 10, 11, 14, 13 (and 12 twice: idempotent)
      cold('-c-a-c-b----e---d|', { a: 10, b: 11, c: 12, d: 13, e: 14 }).subscribe((offset) => window.ack(offset));
      // periodic commits every 4 frames carry the committable position then
      expectObservable(
        processed$.pipe(commitTriggers({ type: 'periodic', intervalMs: 4 }, { scheduler })),
        '^ 20ms !',
      ).toBe('----a---b-------c', { a: commit(11), b: commit(13), c: commit(15) });
      scheduler.flush();
      expect(log).to.deep.equal(['3 processed 10 (+1)', '7 processed 12 (+2)', '16 processed 14 (+2)']);
      expect(window.size).to.equal(0);
    });
  });

  it('holds the partition when its window reaches the bound and releases it when acknowledgements make room', () => {
    scheduler.run(({ cold }) => {
      const { acks, log } = tracked(3);
      const window = acks.window('t', 0);
      for (const record of batchOf(0, 4).records) bindRecord(record, window);
      window.checkBound();
      // 1 and 3 come first: still 4 records not committable; 0 frees 0..1, leaving 2 (2 and 3): room again
      cold('--b-d-a---c|', { a: 0, b: 1, c: 2, d: 3 }).subscribe((offset) => window.ack(offset));
      scheduler.flush();
      expect(log).to.deep.equal(['0 hold 0', '6 processed 1 (+2)', '6 release 0', '10 processed 3 (+2)']);
    });
  });

  it('ignores acknowledgements of an earlier epoch (seek, revocation, new read) and releases a held partition', () => {
    scheduler.run(({ cold }) => {
      const { acks, log } = tracked(2);
      const old = acks.window('t', 0);
      for (const record of batchOf(0, 3).records) bindRecord(record, old);
      old.checkBound();
      cold('--r|').subscribe(() => acks.restart('t', 0));
      cold('---a|', { a: 0 }).subscribe((offset) => old.ack(offset));
      scheduler.flush();
      const fresh = acks.window('t', 0);
      expect(fresh).not.to.equal(old);
      for (const record of batchOf(7, 1).records) bindRecord(record, fresh);
      fresh.ack(7);
      expect(log).to.deep.equal(['0 hold 0', '2 release 0', '4 processed 7 (+1)']);
    });
  });

  it('acknowledges a whole batch at once, and skips gaps in the offsets', () => {
    const { acks, log } = tracked();
    const window = acks.window('t', 0);
    for (const offset of [3, 5, 6, 9]) window.delivered(offset);
    window.ackRange(5, 6);
    expect(log).to.deep.equal([]);
    window.ack(3);
    window.ack(4); // never delivered: ignored
    window.ackRange(0, 100);
    expect(log).to.deep.equal(['0 processed 6 (+3)', '0 processed 9 (+1)']);
  });

  it('back-pressure: a full window stops fetching its partition until acknowledgements arrive', () => {
    scheduler.run(({ expectObservable }) => {
      const fetches: [number, number][] = [];
      let acks!: Acknowledgements;
      const delivered: number[] = [];
      const pipeline = new FetchPipeline({
        maxPrefetchBatches: 4,
        routeOf: () => 'agent',
        fetch: (_address, targets: FetchTarget[]) => {
          for (const t of targets) fetches.push([scheduler.now(), t.offset]);
          const results: PartitionFetchResult[] = targets.map((t) => ({
            topic: 't',
            partition: 0,
            batch: batchOf(t.offset, 10),
            nextOffset: t.offset + 10,
            highWatermark: 1000,
          }));
          return scheduler.createColdObservable('--(r|)', { r: results });
        },
        resetOffset: () => of(0),
        positionOf: () => 0,
        retry: retryPolicy({ maxRetries: 1, initialBackoffMs: 1, maxBackoffMs: 1, jitter: 0 }),
        scheduler,
      });
      acks = new Acknowledgements({
        maxUnackedPerPartition: 25,
        processed: () => {},
        hold: (t, p) => pipeline.hold(t, p),
        release: (t, p) => pipeline.release(t, p),
      });
      pipeline.assign([{ topic: 't', partition: 0, offset: 0 }]);
      const run = new Observable<never>((subscriber) =>
        pipeline
          .run((batch) => {
            const window = acks.window(batch.topic, batch.partition);
            for (const record of batch.records) {
              bindRecord(record, window);
              delivered.push(record.offset);
            }
            window.checkBound();
          })
          .subscribe(subscriber),
      );
      expectObservable(run, '^ 30ms !').toBe('');
      // at 20 the application acknowledges 0..19: 10 left, room again
      scheduler.schedule(() => acks.window('t', 0).ackRange(0, 19), 20);
      scheduler.flush();
      // 3 batches (30 records >= 25) fill the window at 6, and the answer of the fetch then in flight is dropped;
      // from 20, two batches refill it (10 + 20 = 30) and the fetch at 24 is dropped again
      expect(fetches).to.deep.equal([
        [0, 0],
        [2, 10],
        [4, 20],
        [6, 30],
        [20, 30],
        [22, 40],
        [24, 50],
      ]);
      expect(delivered).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    });
  });
});
