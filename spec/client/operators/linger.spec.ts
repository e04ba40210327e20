import { expect } from 'chai';
import { Subject, catchError, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { linger } from '../../../src/client/operators/linger.js';
import { InvalidConfigError, type InvalidRequestError } from '../../../src/protocol/errors.js';

describe('client/operators/linger', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('closes a batch lingerMs after its FIRST item, not on a free-running interval', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  --a-b-------c------|');
      const subs = '        ^------------------!';
      const expected = '    -------x---------y-|';
      const result = source.pipe(linger({ lingerMs: 5, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, { x: ['a', 'b'], y: ['c'] });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('closes a batch at maxCount items, at once', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -abc-de--fgh|');
      const expected = '    ---x-----y--(z|)';
      const result = source.pipe(linger({ lingerMs: 10, maxCount: 3, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'], z: ['g', 'h'] });
    });
  });

  it('closes a batch before an item that would take it over maxBytes; an oversize item goes alone', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const values = { a: 'aaaa', b: 'bbbb', c: 'cccc', d: 'dddddddddd', e: 'e'.repeat(25), f: 'ff' };
      const source = hot('  -a-b-c-d----e-f------|', values);
      const expected = '    -----x-(yz)-w-------v|';
      const result = source.pipe(
        linger({ lingerMs: 6, maxBytes: 10, sizeOf: (s: string) => s.length, scheduler: testScheduler }),
      );
      // a+b = 8 bytes; c would make 12 → [a,b] closes at 5 and c opens the next batch.
      // d (10) would make 14 → [c] closes, then d alone fills 10/10 → [d] at once.
      // e (25) is larger than maxBytes → alone, at once. f waits its 6 ms linger.
      // ((yz) is one frame: both at 7.)
      expectObservable(result).toBe(expected, {
        x: [values.a, values.b],
        y: [values.c],
        z: [values.d],
        w: [values.e],
        v: [values.f],
      });
    });
  });

  it('closes the current batch when flush$ emits, and the next batch gets its own full linger', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-b--c---------|');
      const flush = hot('   -----f-----f-f----');
      const flushSubs = '   ^---------------!';
      const expected = '    -----x-----y----|';
      const result = source.pipe(linger({ lingerMs: 6, flush$: flush, scheduler: testScheduler }));
      // The timer of a (due at 7) is cancelled by the flush at 5, so c closes
      // at 11 by flush, not at 7; the flush at 13 finds nothing to send.
      expectObservable(result).toBe(expected, { x: ['a', 'b'], y: ['c'] });
      expectSubscriptions(flush.subscriptions).toBe(flushSubs);
    });
  });

  it('cancels the linger timer of a batch closed by flush$', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -a-b--c---------|');
      const flush = hot('   -----f------------');
      const expected = '    -----x------y---|';
      const result = source.pipe(linger({ lingerMs: 6, flush$: flush, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('emits the pending batch on completion, and never an empty batch', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const result = (marbles: string) => cold(marbles).pipe(linger({ lingerMs: 5, scheduler: testScheduler }));
      expectObservable(result('-ab|')).toBe('---(x|)', { x: ['a', 'b'] });
      expectObservable(result('---|')).toBe('---|');
      expectObservable(result('----------')).toBe('----------');
      expectObservable(result('a------b--|')).toBe('-----x----(y|)', { x: ['a'], y: ['b'] });
    });
  });

  it('with lingerMs 0 batches what arrives in the same frame', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold(' -(abc)-d-|');
      const expected = '    -x-----y-|';
      const result = source.pipe(linger({ lingerMs: 0, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, { x: ['a', 'b', 'c'], y: ['d'] });
    });
  });

  it('forwards an error at once and drops the pending batch', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const failure = new Error('upstream failed');
      const source = hot('  -a-b-#', undefined, failure);
      const subs = '        ^----!';
      const expected = '    -----#';
      const result = source.pipe(linger({ lingerMs: 10, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, undefined, failure);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('fails with the error of flush$ and unsubscribes the source', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const failure = new Error('flush trigger failed');
      const source = hot('  -a-b-----c-|');
      const flush = hot('   ---#', undefined, failure);
      const expected = '    ---#';
      const result = source.pipe(linger({ lingerMs: 10, flush$: flush, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, undefined, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('fails when sizeOf throws or returns a bad size', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const boom = new Error('cannot measure');
      const throwing = cold('-a-b-|').pipe(
        linger({
          lingerMs: 10,
          maxBytes: 100,
          sizeOf: (v: string) => {
            if (v === 'b') throw boom;
            return 1;
          },
          scheduler: testScheduler,
        }),
      );
      expectObservable(throwing).toBe('---#', undefined, boom);
      const negative = cold('-a-|').pipe(
        linger({ lingerMs: 10, maxBytes: 100, sizeOf: () => -1, scheduler: testScheduler }),
        catchError((e: InvalidRequestError) => of({ name: e.name, code: e.code, message: e.message })),
      );
      expectObservable(negative).toBe('-(x|)', {
        x: {
          name: 'InvalidRequestError',
          code: 'INVALID_REQUEST',
          message: 'linger sizeOf returned -1; sizes must be numbers ≥ 0',
        },
      });
    });
  });

  it('cancels the pending timer and the flush$ subscription on unsubscribe', () => {
    let pendingAfterUnsubscribe: number[] | undefined;
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-------');
      const flush = hot('   ---------');
      const unsub = '       ^--!';
      const result = source.pipe(linger({ lingerMs: 10, flush$: flush, scheduler: testScheduler }));
      expectObservable(result, unsub).toBe('---------');
      expectSubscriptions(source.subscriptions).toBe(unsub);
      expectSubscriptions(flush.subscriptions).toBe(unsub);
      // The timer of a was due at 11; nothing may still be queued at 4.
      testScheduler.schedule(() => {
        pendingAfterUnsubscribe = testScheduler.actions.map((action) => action.delay);
      }, 4);
    });
    expect(pendingAfterUnsubscribe).to.deep.equal([]);
  });

  it('starts a fresh batch for an item pushed synchronously while a batch is being emitted', () => {
    const source = new Subject<string>();
    const batches: string[][] = [];
    source.pipe(linger({ lingerMs: 5, maxCount: 1, scheduler: testScheduler })).subscribe((batch) => {
      batches.push(batch);
      if (batch[0] === 'a') source.next('b');
    });
    source.next('a');
    expect(batches).to.deep.equal([['a'], ['b']]);
  });

  it('keeps an item pushed while a batch closed at the byte limit is emitted, ahead of the item that closed it', () => {
    const source = new Subject<string>();
    const seen: Array<string[] | 'complete'> = [];
    // Each character weighs a byte; at most 4 bytes a batch.
    source
      .pipe(linger({ lingerMs: 50, maxBytes: 4, sizeOf: (item) => item.length, scheduler: testScheduler }))
      .subscribe({
        next: (batch) => {
          seen.push(batch);
          if (batch[0] === 'aaa') source.next('c'); // pushed from inside the emission 'bb' set off
        },
        complete: () => seen.push('complete'),
      });
    source.next('aaa');
    source.next('bb'); // 3 + 2 > 4: closes ['aaa']; 'c' arrives meanwhile and opens the next batch
    source.next('dddd'); // 1 + 2 + 4 > 4: closes ['c', 'bb']; 'dddd' fills a batch alone
    source.next('e');
    source.complete();
    expect(seen).to.deep.equal([['aaa'], ['c', 'bb'], ['dddd'], ['e'], 'complete']);
  });

  it('validates its limits when created', () => {
    const cases: [Parameters<typeof linger<string>>[0], string][] = [
      [{ lingerMs: -1 }, 'lingerMs must be a finite number ≥ 0, got -1'],
      [{ lingerMs: Infinity }, 'lingerMs must be a finite number ≥ 0, got Infinity'],
      [{ lingerMs: 5, maxCount: 0 }, 'maxCount must be an integer ≥ 1 or Infinity, got 0'],
      [{ lingerMs: 5, maxCount: 2.5 }, 'maxCount must be an integer ≥ 1 or Infinity, got 2.5'],
      [{ lingerMs: 5, maxBytes: 0, sizeOf: () => 1 }, 'maxBytes must be a number > 0 or Infinity, got 0'],
      [{ lingerMs: 5, maxBytes: 1024 }, 'maxBytes is 1024 but no sizeOf was given to measure items'],
    ];
    for (const [config, message] of cases) expect(() => linger(config)).to.throw(InvalidConfigError, message);
  });
});
