import { expect } from 'chai';
import { map, type ObservableInput } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { OffsetManager, type OffsetCommitter } from '../../../src/client/consumer/offsetManager.js';
import type { LogBounds, OffsetBoundsLookup } from '../../../src/client/consumer/offsetLookup.js';
import {
  MemoryOffsetStore,
  type CommitStrategy,
  type PartitionCommit,
  type ResetStrategy,
  type TopicPartition,
} from '../../../src/client/offsets/index.js';
import { IllegalGenerationError, InvalidConfigError, OffsetOutOfRangeError } from '../../../src/protocol/errors.js';
import { topicPartitionId } from '../../../src/protocol/topicPartition.js';

/** Log bounds from a table, as ListOffsets would answer; timestamps map to `offsetForTimestamp`. */
function fixedLookup(bounds: Record<number, LogBounds>, offsetForTimestamp = -1): OffsetBoundsLookup {
  return {
    bounds: async (partitions: readonly TopicPartition[]) =>
      new Map(partitions.map(({ topic, partition }) => [topicPartitionId(topic, partition), bounds[partition]!])),
    offsetsForTimestamp: async (partitions: readonly TopicPartition[]) =>
      new Map(partitions.map(({ topic, partition }) => [topicPartitionId(topic, partition), offsetForTimestamp])),
  };
}

const commit = (partition: number, offset: number): PartitionCommit => ({
  topic: 't',
  partition,
  offset,
  metadata: '',
});
const tps = (...partitions: number[]) => partitions.map((partition) => ({ topic: 't', partition }));

describe('client/consumer OffsetManager', () => {
  let scheduler: TestScheduler;
  let store: MemoryOffsetStore;
  /** [time, offsets] of every save. */
  let saves: [number, string][];

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
    store = new MemoryOffsetStore({ now: () => 1 });
    saves = [];
  });

  /** A committer over a MemoryOffsetStore whose saves take `saveTime` (a marble). */
  function committer(saveTime = '-|', fail?: unknown): OffsetCommitter {
    return {
      load: (partitions) => store.load('g', partitions),
      save: (offsets): ObservableInput<unknown> => {
        saves.push([scheduler.now(), offsets.map((o) => `${o.partition}@${o.offset}`).join(',')]);
        void store.save('g', offsets);
        return fail === undefined
          ? scheduler.createColdObservable(saveTime)
          : scheduler.createColdObservable('-#', undefined, fail);
      },
    };
  }

  function manager(
    strategy: CommitStrategy,
    options: { reset?: ResetStrategy; saveTime?: string; fail?: unknown; onFailed?: (e: unknown) => void } = {},
  ) {
    return new OffsetManager({
      committer: committer(options.saveTime, options.fail),
      commitStrategy: strategy,
      resetStrategy: options.reset ?? { type: 'earliest' },
      lookup: fixedLookup({
        0: { logStartOffset: 0, highWatermark: 100 },
        1: { logStartOffset: 0, highWatermark: 50 },
      }),
      scheduler,
      ...(options.onFailed === undefined ? {} : { onCommitFailed: options.onFailed }),
    });
  }

  const outcomes = (m: OffsetManager) =>
    m.commits$.pipe(map((o) => `${o.type}:${o.offsets.map((c) => `${c.partition}@${c.offset}`).join(',')}`));

  it('commits periodically what was processed, on the scheduler, and on close', async () => {
    const m = manager({ type: 'periodic', intervalMs: 10 });
    await m.assign(tps(0, 1));
    scheduler.run(({ expectObservable }) => {
      scheduler.schedule(() => m.processed('t', 0, 4, 5, 100), 2);
      scheduler.schedule(() => m.processed('t', 0, 9, 5, 100), 5);
      scheduler.schedule(() => m.processed('t', 1, 0, 1, 50), 12);
      scheduler.schedule(() => m.processed('t', 1, 6, 6, 50), 22);
      scheduler.schedule(() => void m.close(), 25);
      // ticks at 10 and 20 commit what moved; close at 25 commits the rest; each save takes a frame
      expectObservable(outcomes(m)).toBe('-----------a---------b----(c|)', {
        a: 'committed:0@10',
        b: 'committed:1@1',
        c: 'committed:1@7',
      });
    });
    expect(saves).to.deep.equal([
      [10, '0@10'],
      [20, '1@1'],
      [25, '1@7'],
    ]);
    expect(await store.load('g')).to.deep.equal([
      { ...commit(0, 10), commitTime: 1 },
      { ...commit(1, 7), commitTime: 1 },
    ]);
    expect(m.infos().map((i) => [i.partition, i.offset, i.highWatermark, i.lag])).to.deep.equal([
      [0, 10, 100, 90],
      [1, 7, 50, 43],
    ]);
  });

  it('commits on demand and answers the caller; folds a call made during a commit into the next one', async () => {
    const m = manager({ type: 'manual' }, { saveTime: '---|' });
    await m.assign(tps(0, 1));
    const answers: PartitionCommit[][] = [];
    scheduler.run(({ expectObservable }) => {
      scheduler.schedule(() => m.processed('t', 0, 3, 4, 100), 1);
      scheduler.schedule(() => void m.commit().then((c) => answers.push(c)), 2);
      scheduler.schedule(() => m.processed('t', 1, 8, 9, 50), 3);
      scheduler.schedule(() => void m.commit().then((c) => answers.push(c)), 4);
      scheduler.schedule(() => void m.commit([commit(0, 2)]).then((c) => answers.push(c)), 4);
      expectObservable(outcomes(m)).toBe('-----a--b', { a: 'committed:0@4', b: 'committed:0@2,1@9' });
    });
    await Promise.resolve();
    expect(saves).to.deep.equal([
      [2, '0@4'],
      [5, '0@2,1@9'],
    ]);
    expect(answers).to.deep.equal([[commit(0, 4)], [commit(0, 2), commit(1, 9)], [commit(0, 2), commit(1, 9)]]);
    await m.close();
    expect(saves).to.have.length(2);
  });

  it('counts records for every-n, committing a whole batch when the count falls inside it', async () => {
    const m = manager({ type: 'every-n', count: 5 });
    await m.assign(tps(0));
    scheduler.run(({ expectObservable }) => {
      scheduler.schedule(() => m.processed('t', 0, 2, 3, 100), 1);
      scheduler.schedule(() => m.processed('t', 0, 6, 4, 100), 2);
      scheduler.schedule(() => m.processed('t', 0, 8, 2, 100), 3);
      expectObservable(outcomes(m)).toBe('---a', { a: 'committed:0@7' });
    });
  });

  it('drops offsets of partitions revoked before the commit', async () => {
    const m = manager({ type: 'periodic', intervalMs: 10 });
    await m.assign(tps(0, 1));
    scheduler.run(({ expectObservable }) => {
      scheduler.schedule(() => m.processed('t', 0, 3, 4, 100), 1);
      scheduler.schedule(() => m.processed('t', 1, 3, 4, 50), 1);
      scheduler.schedule(() => m.remove(tps(1)), 5);
      // the periodic timer runs until the manager closes
      scheduler.schedule(() => void m.close(), 20);
      expectObservable(outcomes(m)).toBe('-----------a--------|', { a: 'committed:0@4' });
    });
    expect(saves).to.deep.equal([[10, '0@4']]);
  });

  it('reports a failed commit and rejects the caller', async () => {
    const fenced = new IllegalGenerationError('generation 3 is over');
    const failures: unknown[] = [];
    const m = manager({ type: 'manual' }, { fail: fenced, onFailed: (e) => failures.push(e) });
    await m.assign(tps(0));
    let rejected: unknown;
    scheduler.run(() => {
      scheduler.schedule(() => m.processed('t', 0, 0, 1, 100), 1);
      scheduler.schedule(() => void m.commit().catch((e: unknown) => (rejected = e)), 2);
    });
    await Promise.resolve();
    expect(failures).to.deep.equal([fenced]);
    expect(rejected).to.equal(fenced);
  });

  it('starts at the committed offset inside the log, else where the reset strategy says, seeks first', async () => {
    await store.save('g', [commit(0, 30), commit(1, 70)]);
    const m = manager({ type: 'manual' }, { reset: { type: 'latest' } });
    // partition 1's committed 70 is beyond its high watermark 50: reset to latest
    expect([...(await m.assign(tps(0, 1)))]).to.deep.equal([
      ['t/0', 30],
      ['t/1', 50],
    ]);
    const seeking = manager({ type: 'manual' }, { reset: { type: 'earliest' } });
    expect([...(await seeking.assign(tps(0, 1), new Map([['t/1', 12]])))]).to.deep.equal([
      ['t/0', 30],
      ['t/1', 12],
    ]);
    const none = manager({ type: 'manual' }, { reset: { type: 'none' } });
    const error = await none.assign(tps(1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(OffsetOutOfRangeError);
    expect((error as Error).message).to.equal('committed offset 70 is outside [0, 50] and the reset strategy is none');
  });

  it('resets an out-of-range position with the strategy and moves the position there', async () => {
    const m = new OffsetManager({
      committer: undefined,
      commitStrategy: { type: 'periodic' },
      resetStrategy: { type: 'timestamp', timestamp: 5 },
      lookup: fixedLookup({ 0: { logStartOffset: 10, highWatermark: 100 } }, 42),
      scheduler,
    });
    await m.assign(tps(0));
    expect(m.positions.position('t', 0)).to.equal(42);
    m.positions.seek('t', 0, 500);
    expect(await m.resetPosition('t', 0)).to.equal(42);
    expect(m.positions.position('t', 0)).to.equal(42);
    expect(await m.commit().catch((e: unknown) => e)).to.be.instanceOf(InvalidConfigError);
    await m.close();
  });
});
