import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import {
  commitTriggers,
  everyNCommits,
  manualCommits,
  onWatermarkCommits,
  periodicCommits,
  type CommitRequest,
  type ManualCommitCall,
  type ProcessedRecord,
} from '../../../src/client/offsets/index.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { resolveConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import { Subject } from 'rxjs';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });
}

const rec = (partition: number, offset: number, highWatermark?: number): ProcessedRecord =>
  highWatermark === undefined ? { topic: 't', partition, offset } : { topic: 't', partition, offset, highWatermark };

const commit = (partition: number, offset: number, metadata = '') => ({ topic: 't', partition, offset, metadata });

describe('client/offsets commit strategies', () => {
  describe('defaults', () => {
    it("commits every 5000 ms with the consumer's default strategy", () => {
      const { commitStrategy } = resolveConsumerOptions({ bootstrap: ['127.0.0.1:9660'], groupId: 'g', topics: ['t'] });
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const source = cold('a 4998ms b 5998ms |', { a: rec(0, 1), b: rec(0, 2) });
        // a at 0 and b at 4999 are committed at 5000; nothing new by 10 000; the end at 10 998 has nothing left
        expectObservable(source.pipe(commitTriggers(commitStrategy, { scheduler }))).toBe('5000ms x 5997ms |', {
          x: { reason: 'periodic', offsets: [commit(0, 3)] },
        } satisfies Record<string, CommitRequest>);
      });
    });

    it('commits after every 1000 processed records with every-n and no count', () => {
      const processed = new Subject<ProcessedRecord>();
      const requests: CommitRequest[] = [];
      processed.pipe(commitTriggers({ type: 'every-n' })).subscribe((r) => requests.push(r));
      for (let offset = 0; offset < 999; offset++) processed.next(rec(0, offset));
      expect(requests).to.deep.equal([]);
      processed.next(rec(0, 999));
      expect(requests).to.deep.equal([{ reason: 'every-n', offsets: [commit(0, 1000)] }]);
    });
  });

  describe('periodicCommits', () => {
    it('commits what changed at each interval, nothing when nothing changed', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-------c-------|', { a: rec(0, 10), b: rec(0, 11), c: rec(1, 3) });
        const expected = '    -----x---------y---|';
        // ticks at 5 (t/0 moved), 10 (nothing), 15 (t/1 moved); completion at 19 has nothing left
        expectObservable(source.pipe(periodicCommits(5, scheduler))).toBe(expected, {
          x: { reason: 'periodic', offsets: [commit(0, 12)] },
          y: { reason: 'periodic', offsets: [commit(1, 4)] },
        } satisfies Record<string, CommitRequest>);
        expectSubscriptions(source.subscriptions).toBe('^------------------!');
      });
    });

    it('keeps one entry per partition with the latest offset and metadata, sorted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const values: Record<string, ProcessedRecord> = {
          a: { topic: 'u', partition: 0, offset: 1 },
          b: { topic: 't', partition: 2, offset: 7, metadata: 'm7' },
          c: { topic: 't', partition: 2, offset: 8, metadata: 'm8' },
          d: { topic: 't', partition: 0, offset: 4 },
        };
        expectObservable(cold('abcd------|', values).pipe(periodicCommits(10, scheduler))).toBe('----------(x|)', {
          x: {
            reason: 'periodic',
            offsets: [commit(0, 5), commit(2, 9, 'm8'), { topic: 'u', partition: 0, offset: 2, metadata: '' }],
          },
        });
      });
    });

    it('emits nothing at all for an idle consumer', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold<ProcessedRecord>('--------------------|').pipe(periodicCommits(5, scheduler))).toBe(
          '--------------------|',
        );
      });
    });

    it('commits the rest when the source completes between ticks', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-----b--|', { a: rec(0, 0), b: rec(0, 1) }).pipe(periodicCommits(5, scheduler))).toBe(
          '-----x----(y|)',
          { x: { reason: 'periodic', offsets: [commit(0, 1)] }, y: { reason: 'periodic', offsets: [commit(0, 2)] } },
        );
      });
    });

    it('passes errors on without committing, and stops its timer on unsubscribe', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const failing = cold('-a-#', { a: rec(0, 0) }, new Error('boom'));
        expectObservable(failing.pipe(periodicCommits(2, scheduler))).toBe(
          '--x#',
          {
            x: { reason: 'periodic', offsets: [commit(0, 1)] },
          },
          new Error('boom'),
        );
        const endless = cold('a-b-c-d-e-f-g-h', {
          a: rec(0, 0),
          b: rec(0, 1),
          c: rec(0, 2),
          d: rec(0, 3),
          e: rec(0, 4),
          f: rec(0, 5),
          g: rec(0, 6),
          h: rec(0, 7),
        });
        // An interval left running would keep the virtual clock busy forever: finishing proves the cleanup.
        expectObservable(endless.pipe(periodicCommits(5, scheduler)), '^------!').toBe('-----x-', {
          x: { reason: 'periodic', offsets: [commit(0, 3)] },
        });
        expectSubscriptions(endless.subscriptions).toBe('^------!');
      });
    });

    it('defaults to 5000 ms and refuses bad intervals', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('a 9999ms |', { a: rec(0, 41) }).pipe(periodicCommits(undefined, scheduler))).toBe(
          '5000ms x 4999ms |',
          { x: { reason: 'periodic', offsets: [commit(0, 42)] } },
        );
      });
      expect(() => periodicCommits(0)).to.throw(InvalidConfigError, 'positive');
      expect(() => periodicCommits(Number.NaN)).to.throw(InvalidConfigError);
    });
  });

  describe('everyNCommits', () => {
    it('commits after every n records and the remainder on completion', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const values = {
          a: rec(0, 0),
          b: rec(1, 0),
          c: rec(0, 1),
          d: rec(0, 2),
          e: rec(0, 3),
          f: rec(1, 1),
          g: rec(1, 2),
        };
        expectObservable(cold('abcdefg|', values).pipe(everyNCommits(3))).toBe('--x--y-(z|)', {
          x: { reason: 'every-n', offsets: [commit(0, 2), commit(1, 1)] },
          y: { reason: 'every-n', offsets: [commit(0, 4), commit(1, 2)] },
          z: { reason: 'every-n', offsets: [commit(1, 3)] },
        });
      });
    });

    it('commits every record with n = 1 and refuses n < 1', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        expectObservable(cold('a-b|', { a: rec(0, 5), b: rec(0, 6) }).pipe(everyNCommits(1))).toBe('x-y|', {
          x: { reason: 'every-n', offsets: [commit(0, 6)] },
          y: { reason: 'every-n', offsets: [commit(0, 7)] },
        });
      });
      expect(() => everyNCommits(0)).to.throw(InvalidConfigError, 'positive integer');
      expect(() => everyNCommits(2.5)).to.throw(InvalidConfigError);
    });
  });

  describe('onWatermarkCommits', () => {
    it('commits everything pending when a partition reaches its high watermark', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        const values = {
          a: rec(0, 5, 10), // behind
          b: rec(1, 2), // no watermark known: never triggers
          c: rec(0, 9, 10), // position 10 = watermark: caught up
          d: rec(1, 3, 5),
          e: rec(1, 4, 5), // caught up
          f: rec(0, 10, 12),
        };
        expectObservable(cold('-a-b-c-d-e-f-|', values).pipe(onWatermarkCommits())).toBe('-----x---y---(z|)', {
          x: { reason: 'watermark', offsets: [commit(0, 10), commit(1, 3)] },
          y: { reason: 'watermark', offsets: [commit(1, 5)] },
          z: { reason: 'watermark', offsets: [commit(0, 11)] },
        });
      });
    });
  });

  describe('manualCommits', () => {
    it('commits only on calls, with empty requests when nothing changed', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, hot, expectObservable }) => {
        const source = cold('-a-b----c---|', { a: rec(0, 0), b: rec(0, 1), c: rec(2, 9) });
        const calls = hot<ManualCommitCall>('----x-y---z---', { x: { callId: 1 }, y: { callId: 2 }, z: {} });
        expectObservable(source.pipe(manualCommits(calls))).toBe('----x-y---z-|', {
          x: { reason: 'manual', offsets: [commit(0, 2)], callId: 1 },
          y: { reason: 'manual', offsets: [], callId: 2 },
          z: { reason: 'manual', offsets: [commit(2, 10)] },
        });
      });
    });

    it('commits explicit offsets as given and forgets pending ones of those partitions', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, hot, expectObservable }) => {
        const source = cold('ab------|', { a: rec(0, 7), b: rec(1, 7) });
        const calls = hot<ManualCommitCall>('---x--y-', { x: { callId: 5, offsets: [commit(0, 3, 'back')] }, y: {} });
        expectObservable(source.pipe(manualCommits(calls))).toBe('---x--y-|', {
          x: { reason: 'manual', offsets: [commit(0, 3, 'back')], callId: 5 },
          y: { reason: 'manual', offsets: [commit(1, 8)] },
        });
      });
    });
  });

  describe('commitTriggers', () => {
    it('runs the chosen strategy and merges explicit calls into it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const source = cold('a--b------|', { a: rec(0, 0), b: rec(0, 1) });
        const calls = hot<ManualCommitCall>('--x-------', { x: { callId: 9 } });
        const result = source.pipe(commitTriggers({ type: 'periodic', intervalMs: 4 }, { calls$: calls, scheduler }));
        // The manual call at 2 takes a; the tick at 4 commits a and b; the tick at 8 has nothing new;
        // completion flushes the periodic side (nothing) and not the manual side.
        expectObservable(result).toBe('--x-y-----|', {
          x: { reason: 'manual', offsets: [commit(0, 1)], callId: 9 },
          y: { reason: 'periodic', offsets: [commit(0, 2)] },
        });
        expectSubscriptions(source.subscriptions).toBe('^---------!');
      });
    });

    it('maps every strategy type to its operator', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, hot, expectObservable }) => {
        const values = { a: rec(0, 0, 3), b: rec(0, 1, 3), c: rec(0, 2, 3) };
        expectObservable(cold('abc|', values).pipe(commitTriggers({ type: 'every-n', count: 2 }))).toBe('-x-(y|)', {
          x: { reason: 'every-n', offsets: [commit(0, 2)] },
          y: { reason: 'every-n', offsets: [commit(0, 3)] },
        });
        expectObservable(cold('abc|', values).pipe(commitTriggers({ type: 'on-watermark' }))).toBe('--x|', {
          x: { reason: 'watermark', offsets: [commit(0, 3)] },
        });
        const calls = hot<ManualCommitCall>('--x--', { x: {} });
        expectObservable(cold('ab-c|', values).pipe(commitTriggers({ type: 'manual' }, { calls$: calls }))).toBe(
          '--x-|',
          {
            x: { reason: 'manual', offsets: [commit(0, 2)] },
          },
        );
        expectObservable(cold('abc 5000ms |', values).pipe(commitTriggers(undefined, { scheduler }))).toBe(
          '5000ms x 2ms |',
          { x: { reason: 'periodic', offsets: [commit(0, 3)] } },
        );
      });
    });
  });
});
