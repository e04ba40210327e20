/**
 * The record accumulator: appends answer at once where a record went; batches
 * close by the linger rules on the RxJS scheduler (marble tests in virtual
 * time), at their count and byte limits, on closeAll and on completion; a
 * busy partition's lingered batch is held until one of its batches settles.
 */
import { expect } from 'chai';
import { delay, map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { BuilderPool } from '../../../src/client/producer/builderPool.js';
import type { PartitionState } from '../../../src/client/producer/partitionState.js';
import type { ProducerBatch } from '../../../src/client/producer/producerBatch.js';
import { RecordAccumulator, type RecordAccumulatorOptions } from '../../../src/client/producer/recordAccumulator.js';
import { ProducerClosedError } from '../../../src/protocol/errors.js';
import { decodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';

/** A closed batch as the tests compare it: its partition and its records' values, e.g. 'x:1,2'. */
function summary(batch: ProducerBatch): string {
  const values = decodeRecordBatch(batch.records.finish()).records.map((r) => Buffer.from(r.value!).toString());
  return `${batch.partition.partition === 0 ? 'x' : 'y'}:${values.join(',')}`;
}

describe('client/producer/RecordAccumulator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** An accumulator on the test scheduler (linger 4), its partitions x and y, and append of a 10-byte record. */
  function accumulator(options: Partial<RecordAccumulatorOptions> = {}) {
    const acc = new RecordAccumulator({
      lingerMs: 4,
      maxCount: 100,
      maxBytes: 1000,
      maxInFlightPerPartition: 5,
      scheduler,
      builders: new BuilderPool(64, 1 << 20),
      ...options,
    });
    const parts: Record<string, PartitionState> = { x: acc.partition('orders', 0), y: acc.partition('orders', 1) };
    /** Appends 'x1' to x (value '1'), 'y2' to y, …; `size` counts against maxBytes. */
    const add = (record: string, size = 10) =>
      acc.append(parts[record[0]!]!, null, Buffer.from(record.slice(1)), undefined, 0, scheduler.now(), size);
    const closed$: Observable<string> = acc.closed$.pipe(map(summary));
    return { acc, parts, add, closed$ };
  }

  it("closes each partition's batch lingerMs after its own first record", () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { add, closed$ } = accumulator();
      hot('-a-bc----d-----|', { a: 'x1', b: 'y2', c: 'x3', d: 'y4' }).subscribe(add);
      expectObservable(closed$).toBe('-----a-b-----c-', { a: 'x:1,3', b: 'y:2', c: 'y:4' });
    });
  });

  it('answers each append with its batch and index there, synchronously', () => {
    const { acc, add } = accumulator();
    const first = add('x1');
    const second = add('x2');
    const other = add('y3');
    expect([first.index, second.index, other.index]).to.deep.equal([0, 1, 0]);
    expect(second.batch).to.equal(first.batch);
    expect(other.batch).to.not.equal(first.batch);
    expect([first.batch.count, first.batch.bytes, acc.partition('orders', 0).acceptedRecords]).to.deep.equal([
      2, 20, 2,
    ]);
  });

  it('closes a batch at maxCount at once, and before a record that would take it past maxBytes', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { add, closed$ } = accumulator({ maxCount: 3, maxBytes: 25 });
      // x: 3 records of 5 bytes reach maxCount at 3; y: 10 + 10 bytes, and a third would make 30 > 25: the first two
      // go at 7, before it, and y6 lingers until 11.
      const records = { a: 'x1', b: 'x2', c: 'x3', d: 'y4', e: 'y5', f: 'y6' };
      hot('-abc-def', records).subscribe((r) => add(r, r[0] === 'x' ? 5 : 10));
      expectObservable(closed$).toBe('---a---b---c', { a: 'x:1,2,3', b: 'y:4,5', c: 'y:6' });
    });
  });

  it('closes a batch that reaches maxBytes with its last record', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { add, closed$ } = accumulator({ maxBytes: 20 });
      hot('-ab', { a: 'x1', b: 'x2' }).subscribe((r) => add(r));
      expectObservable(closed$).toBe('--a', { a: 'x:1,2' });
    });
  });

  it('closes every open batch on closeAll and on complete, which completes closed$', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { acc, add, closed$ } = accumulator();
      hot('-ab-c', { a: 'x1', b: 'y2', c: 'x3' }).subscribe((r) => add(r));
      scheduler.schedule(() => acc.closeAll(), 3);
      scheduler.schedule(() => acc.complete(), 7);
      // A group takes as many frames as its characters: (ab) at 3, (c|) at 7.
      expectObservable(closed$).toBe('---(ab)(c|)', { a: 'x:1', b: 'y:2', c: 'x:3' });
    });
  });

  it('keeps no timer for a partition between its batches: the next record starts a fresh linger', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { add, closed$ } = accumulator({ maxCount: 2 });
      hot('-ab--c', { a: 'x1', b: 'x2', c: 'x3' }).subscribe((r) => add(r));
      expectObservable(closed$).toBe('--a------b', { a: 'x:1,2', b: 'x:3' });
    });
  });

  it('holds a lingered batch while its partition has every request out, until one of them settles', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { acc, add, closed$, parts } = accumulator({ maxInFlightPerPartition: 1 });
      const sent: ProducerBatch[] = [];
      acc.closed$.subscribe((batch) => sent.push(batch));
      // x1 closes at 5 and stays out; x2 lingers from 6 to 10 but is held, taking x3 and x4, until x1 settles at 14.
      hot('-a----b--c--d', { a: 'x1', b: 'x2', c: 'x3', d: 'x4' }).subscribe((r) => add(r));
      scheduler.schedule(() => {
        expect([parts.x!.batchesOutstanding, parts.x!.open?.held]).to.deep.equal([1, true]);
        acc.settled(sent[0]!);
      }, 14);
      expectObservable(closed$).toBe('-----a--------b', { a: 'x:1', b: 'x:2,3,4' });
    });
  });

  it('holds only the busy partition; a settle with nothing held, or before the linger is up, closes nothing', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { acc, add, closed$ } = accumulator({ maxInFlightPerPartition: 1 });
      const sent: ProducerBatch[] = [];
      acc.closed$.subscribe((batch) => sent.push(batch));
      // x1 at 0 closes at 4 (out); y2 at 2 closes at 6; x3 at 6 lingers until 10: x1 settles at 8, before that.
      hot('a-y---x', { a: 'x1', y: 'y2', x: 'x3' }).subscribe((r) => add(r));
      scheduler.schedule(() => acc.settled(sent[0]!), 8);
      expectObservable(closed$).toBe('----a-b---c', { a: 'x:1', b: 'y:2', c: 'x:3' });
    });
  });

  it('closes a held batch at maxCount, on closeAll, and on complete', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { acc, add, closed$ } = accumulator({ maxInFlightPerPartition: 1, maxCount: 3 });
      // x1 goes at 4; x2 is held from 9 and fills up at 13 with x4; x5 is held from 19, closeAll at 21 sends it, and
      // x6, held from 26, goes on complete at 28.
      const records = { x: 'x1', y: 'x2', z: 'x3', w: 'x4', v: 'x5', u: 'x6' };
      hot('x----y-----z-w-v------u', records).subscribe((r) => add(r));
      scheduler.schedule(() => acc.closeAll(), 21);
      scheduler.schedule(() => acc.complete(), 28);
      const expected = '----a--------b-------c------(d|)';
      expectObservable(closed$).toBe(expected, { a: 'x:1', b: 'x:2,3,4', c: 'x:5', d: 'x:6' });
    });
  });

  it('lets a reaction to a closed batch append to the same partition: the record opens its next batch', () => {
    const { acc, add } = accumulator({ maxCount: 2 });
    const seen: string[] = [];
    acc.closed$.subscribe((batch) => {
      seen.push(summary(batch));
      if (seen.length === 1) expect(add('x9').index).to.equal(0);
    });
    expect(add('x1').index).to.equal(0);
    const second = add('x2');
    expect(second.index).to.equal(1);
    expect(seen).to.deep.equal(['x:1,2']);
    expect(acc.partition('orders', 0).open?.count).to.equal(1);
    acc.closeAll();
    expect(seen).to.deep.equal(['x:1,2', 'x:9']);
  });

  it('needs nothing downstream to be synchronous: appends answer while closed batches go through a delay', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const { acc, add } = accumulator({ maxCount: 2 });
      const indexes: number[] = [];
      hot('-abc', { a: 'x1', b: 'x2', c: 'x3' }).subscribe((r) => indexes.push(add(r).index));
      // x1, x2 close at 2 (count), x3 at 7 (linger); each comes out 3 later.
      const delayed$ = acc.closed$.pipe(
        map((batch) => `${batch.count} records`),
        delay(3, scheduler),
      );
      expectObservable(delayed$).toBe('-----a----b', { a: '2 records', b: '1 records' });
      scheduler.schedule(() => expect(indexes).to.deep.equal([0, 1, 0]), 4);
    });
  });

  it('aborts: open and closed unsettled batches fail with the error and count as settled; closed$ completes', () => {
    const { acc, add, parts } = accumulator({ maxCount: 2 });
    const sent: ProducerBatch[] = [];
    let completed = false;
    acc.closed$.subscribe({ next: (batch) => sent.push(batch), complete: () => (completed = true) });
    add('y1', 5);
    add('y2', 5); // closed at maxCount, and settled
    acc.settled(sent[0]!);
    add('y3', 7);
    add('y4', 7); // closed, not settled
    const { batch } = add('x5', 30);
    add('y6', 12);
    const error = new ProducerClosedError('producer pipeline has stopped');
    expect(acc.abort(error)).to.deep.equal({ records: 4, bytes: 56 });
    expect([completed, acc.isComplete, parts.x!.open, parts.y!.open]).to.deep.equal([true, true, undefined, undefined]);
    expect([
      parts.x!.settledRecords,
      parts.x!.settledBytes,
      parts.y!.settledRecords,
      parts.y!.settledBytes,
    ]).to.deep.equal([1, 30, 5, 36]);
    expect([parts.x!.batchesOutstanding, parts.y!.batchesOutstanding]).to.deep.equal([0, 0]);
    expect([batch.outcome.error, sent[1]!.outcome.error, sent[0]!.outcome.error]).to.deep.equal([
      error,
      error,
      undefined,
    ]);
  });
});
