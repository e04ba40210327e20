import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  MemoryOffsetStore,
  commitExecutor,
  type CommitOutcome,
  type CommitRequest,
  type PartitionCommit,
} from '../../../src/client/offsets/index.js';
import {
  IllegalGenerationError,
  InvalidConfigError,
  RequestTimedOutError,
  RetriesExhaustedError,
} from '../../../src/protocol/errors.js';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });
}

const commit = (partition: number, offset: number): PartitionCommit => ({
  topic: 't',
  partition,
  offset,
  metadata: '',
});
const request = (...offsets: PartitionCommit[]): CommitRequest => ({ reason: 'periodic', offsets });

type Call = { at: number; offsets: PartitionCommit[] };

describe('client/offsets/commitExecutor', () => {
  it('runs commits one at a time and folds requests arriving meanwhile into one, latest offset per partition', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = request(commit(0, 1));
      const b = request(commit(0, 5), commit(1, 2));
      const c = request(commit(0, 7));
      const requests = hot('a-b-c------|', { a, b, c });
      const calls: Call[] = [];
      const commits: ReturnType<typeof cold<never>>[] = [];
      const result = requests.pipe(
        commitExecutor({
          commit: (offsets) => {
            calls.push({ at: scheduler.now(), offsets });
            const attempt = cold<never>('-----|');
            commits.push(attempt);
            return attempt;
          },
          scheduler,
        }),
      );
      expectObservable(result).toBe('-----x----y|', {
        x: {
          type: 'committed',
          offsets: [commit(0, 1)],
          requests: [a],
          attempts: 1,
          stats: { commits: 1, failures: 0, lastCommitTime: 5 },
        },
        y: {
          type: 'committed',
          offsets: [commit(0, 7), commit(1, 2)],
          requests: [b, c],
          attempts: 1,
          stats: { commits: 2, failures: 0, lastCommitTime: 10 },
        },
      } satisfies Record<string, CommitOutcome>);
      scheduler.schedule(() => {
        expect(calls).to.deep.equal([
          { at: 0, offsets: [commit(0, 1)] },
          { at: 5, offsets: [commit(0, 7), commit(1, 2)] },
        ]);
        expectSubscriptions(commits[0]!.subscriptions).toBe('^----!');
        expectSubscriptions(commits[1]!.subscriptions).toBe('-----^----!');
      }, 11);
    });
  });

  it('retries a retriable failure after the backoff delay, holding later requests back', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot, expectObservable }) => {
      const timedOut = new RequestTimedOutError('agent slow');
      const attempts = [cold<never>('-#', undefined, timedOut), cold<never>('--|'), cold<never>('--|')];
      const calls: Call[] = [];
      const a = request(commit(0, 10));
      const b = request(commit(0, 20));
      const result = hot('a----b---------|', { a, b }).pipe(
        commitExecutor({
          commit: (offsets) => {
            calls.push({ at: scheduler.now(), offsets });
            return attempts[calls.length - 1]!;
          },
          retryBaseDelayMs: 10,
          scheduler,
        }),
      );
      // Attempt 1 fails at 1, the retry starts at 11 and ends at 13; b waits and runs 13-15.
      expectObservable(result).toBe('-------------x-(y|)', {
        x: {
          type: 'committed',
          offsets: [commit(0, 10)],
          requests: [a],
          attempts: 2,
          stats: { commits: 1, failures: 0, lastCommitTime: 13 },
        },
        y: {
          type: 'committed',
          offsets: [commit(0, 20)],
          requests: [b],
          attempts: 1,
          stats: { commits: 2, failures: 0, lastCommitTime: 15 },
        },
      });
      scheduler.schedule(() => expect(calls.map((call) => call.at)).to.deep.equal([0, 11, 13]), 16);
    });
  });

  it('gives up at once on a non-retriable error and goes on with the next commit', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot, expectObservable }) => {
      const fenced = new IllegalGenerationError('generation 3 is over');
      const attempts = [cold<never>('-#', undefined, fenced), cold<never>('-|')];
      let call = 0;
      const a = request(commit(0, 1));
      const b = request(commit(0, 2));
      const result = hot('a-b--|', { a, b }).pipe(commitExecutor({ commit: () => attempts[call++]!, scheduler }));
      expectObservable(result).toBe('-x-y-|', {
        x: {
          type: 'failed',
          offsets: [commit(0, 1)],
          requests: [a],
          attempts: 1,
          error: fenced,
          stats: { commits: 0, failures: 1, lastCommitTime: undefined },
        },
        y: {
          type: 'committed',
          offsets: [commit(0, 2)],
          requests: [b],
          attempts: 1,
          stats: { commits: 1, failures: 1, lastCommitTime: 3 },
        },
      });
    });
  });

  it('reports RetriesExhaustedError with the last error as cause after maxRetries, with doubling delays', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot }) => {
      const errors = [new RequestTimedOutError('1'), new RequestTimedOutError('2'), new RequestTimedOutError('3')];
      const calls: number[] = [];
      const outcomes: CommitOutcome[] = [];
      const result = hot('a|', { a: request(commit(0, 1)) }).pipe(
        commitExecutor({
          commit: () => {
            calls.push(scheduler.now());
            return cold<never>('-#', undefined, errors[calls.length - 1]);
          },
          maxRetries: 2,
          retryBaseDelayMs: 10,
          scheduler,
        }),
      );
      const outcomeTimes: number[] = [];
      result.subscribe((outcome) => {
        outcomeTimes.push(scheduler.now());
        outcomes.push(outcome);
      });
      // Attempts at 0, 11 (after 10) and 32 (after 20); the last fails at 33.
      scheduler.schedule(() => {
        expect(calls).to.deep.equal([0, 11, 32]);
        expect(outcomeTimes).to.deep.equal([33]);
        const outcome = outcomes[0]!;
        expect(outcome.type).to.equal('failed');
        expect(outcome.attempts).to.equal(3);
        expect(outcome.stats).to.deep.equal({ commits: 0, failures: 1, lastCommitTime: undefined });
        const error = (outcome as Extract<CommitOutcome, { type: 'failed' }>).error as RetriesExhaustedError;
        expect(error).to.be.instanceOf(RetriesExhaustedError);
        expect(error.code).to.equal('RETRIES_EXHAUSTED');
        expect(error.message).to.equal('commit failed after 3 attempts');
        expect(error.cause).to.equal(errors[2]);
      }, 40);
    });
  });

  it('caps retry delays at retryMaxDelayMs', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot }) => {
      const calls: number[] = [];
      hot('a|', { a: request(commit(0, 1)) })
        .pipe(
          commitExecutor({
            commit: () => {
              calls.push(scheduler.now());
              return calls.length < 5 ? cold<never>('#', undefined, new RequestTimedOutError('x')) : cold<never>('|');
            },
            retryBaseDelayMs: 10,
            retryMaxDelayMs: 25,
            scheduler,
          }),
        )
        .subscribe();
      // Delays 10, 20, 25, 25.
      scheduler.schedule(() => expect(calls).to.deep.equal([0, 10, 30, 55, 80]), 100);
    });
  });

  it('answers an empty request at once without calling commit', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const empty: CommitRequest = { reason: 'manual', offsets: [], callId: 3 };
      let calls = 0;
      const result = hot('-a-|', { a: empty }).pipe(
        commitExecutor({
          commit: () => {
            calls++;
            return [];
          },
          scheduler,
        }),
      );
      expectObservable(result).toBe('-x-|', {
        x: {
          type: 'committed',
          offsets: [],
          requests: [empty],
          attempts: 0,
          stats: { commits: 0, failures: 0, lastCommitTime: undefined },
        },
      });
      scheduler.schedule(() => expect(calls).to.equal(0), 5);
    });
  });

  it('waits for the running commit before completing, and cancels it on unsubscribe or source error', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = request(commit(0, 1));
      const slow = cold<never>('----|');
      expectObservable(hot('a-|', { a }).pipe(commitExecutor({ commit: () => slow, scheduler }))).toBe('----(x|)', {
        x: {
          type: 'committed',
          offsets: [commit(0, 1)],
          requests: [a],
          attempts: 1,
          stats: { commits: 1, failures: 0, lastCommitTime: 4 },
        },
      });

      const cancelled = cold<never>('-----|');
      expectObservable(hot('a----', { a }).pipe(commitExecutor({ commit: () => cancelled, scheduler })), '^--!').toBe(
        '---',
      );
      const failed = cold<never>('-----|');
      const boom = new Error('source failed');
      expectObservable(hot('a-#', { a }, boom).pipe(commitExecutor({ commit: () => failed, scheduler }))).toBe(
        '--#',
        undefined,
        boom,
      );
      scheduler.schedule(() => {
        expectSubscriptions(slow.subscriptions).toBe('^---!');
        expectSubscriptions(cancelled.subscriptions).toBe('^--!');
        expectSubscriptions(failed.subscriptions).toBe('^-!');
      }, 10);
    });
  });

  it('refuses bad retry options', () => {
    const commitNothing = () => [];
    expect(() => commitExecutor({ commit: commitNothing, maxRetries: -1 })).to.throw(InvalidConfigError, 'maxRetries');
    expect(() => commitExecutor({ commit: commitNothing, retryBaseDelayMs: 100, retryMaxDelayMs: 50 })).to.throw(
      InvalidConfigError,
      'retry delays',
    );
  });

  it('commits through a promise-returning store, in order', async () => {
    let clock = 1000;
    const store = new MemoryOffsetStore({ now: () => clock++ });
    const outcomes = await lastValueFrom(
      from([request(commit(0, 3)), request(commit(1, 4)), request(commit(0, 9))]).pipe(
        commitExecutor({ commit: (offsets) => store.save('g', offsets) }),
        toArray(),
      ),
    );
    // The first runs alone; the second and third arrive while it is in flight and are folded together.
    expect(outcomes.map((outcome) => [outcome.type, outcome.offsets])).to.deep.equal([
      ['committed', [commit(0, 3)]],
      ['committed', [commit(0, 9), commit(1, 4)]],
    ]);
    expect(await store.load('g')).to.deep.equal([
      { ...commit(0, 9), commitTime: 1001 },
      { ...commit(1, 4), commitTime: 1001 },
    ]);
  });
});
