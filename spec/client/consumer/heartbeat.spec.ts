import { expect } from 'chai';
import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { heartbeats, type HeartbeatOutcome } from '../../../src/client/consumer/heartbeat.js';
import {
  AgentUnavailableError,
  IllegalGenerationError,
  RebalanceInProgressError,
  UnknownMemberIdError,
} from '../../../src/protocol/errors.js';

/** Outcomes as plain strings: `ok`, `rejoin:<code>`, `failed:<code>`. */
const names = (source: Observable<HeartbeatOutcome>) =>
  source.pipe(map((o) => (o.type === 'ok' ? 'ok' : `${o.type}:${(o.error as { code: string }).code}`)));

describe('client/consumer heartbeats (marble)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('sends one heartbeat per interval, the first one interval after subscribing', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const answer = cold('-|');
      const outcomes = heartbeats({ intervalMs: 3, send: () => answer, scheduler });
      // sent at 3, 6, 9; each answered one frame later
      expectObservable(names(outcomes), '^ 10ms !').toBe('----a--a--a', { a: 'ok' });
      expectSubscriptions(answer.subscriptions).toBe(['---^!', '------^!', '---------^!']);
    });
  });

  it('skips a tick while the previous heartbeat is unanswered', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('----|');
      const outcomes = heartbeats({ intervalMs: 2, send: () => slow, scheduler });
      // sent at 2 (answered at 6, the tick at 4 skipped), at 6 and at 10; unsubscribed at 12
      expectObservable(names(outcomes), '^ 11ms !').toBe('------a---a', { a: 'ok' });
      expectSubscriptions(slow.subscriptions).toBe(['--^---!', '------^---!', '----------^-!']);
    });
  });

  it('reports other failures and keeps beating', () => {
    scheduler.run(({ cold, expectObservable }) => {
      let n = 0;
      const send = () => (++n === 1 ? cold('-#', undefined, new AgentUnavailableError('down')) : cold('-|'));
      expectObservable(names(heartbeats({ intervalMs: 3, send, scheduler })), '^ 7ms !').toBe('----f--a', {
        f: 'failed:AGENT_UNAVAILABLE',
        a: 'ok',
      });
    });
  });

  for (const [error, code] of [
    [new RebalanceInProgressError('rebalancing'), 'REBALANCE_IN_PROGRESS'],
    [new IllegalGenerationError('old generation'), 'ILLEGAL_GENERATION'],
    [new UnknownMemberIdError('who?'), 'UNKNOWN_MEMBER_ID'],
  ] as const) {
    it(`emits rejoin and stops on ${code}`, () => {
      scheduler.run(({ cold, expectObservable }) => {
        let n = 0;
        const send = () => (++n === 2 ? cold('-#', undefined, error) : cold('-|'));
        expectObservable(names(heartbeats({ intervalMs: 3, send, scheduler }))).toBe('----a--(r|)', {
          a: 'ok',
          r: `rejoin:${code}`,
        });
      });
    });
  }

  it('cancels the heartbeat in flight on unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const answer = cold('-----|');
      expectObservable(heartbeats({ intervalMs: 2, send: () => answer, scheduler }), '^ 4ms !').toBe('');
      expectSubscriptions(answer.subscriptions).toBe('--^--!');
    });
  });
});
