import { expect } from 'chai';
import { catchError, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  FetchPipeline,
  type BatchProcessor,
  type FetchPipelineOptions,
  type FetchTarget,
  type PartitionFetchResult,
} from '../../../src/client/consumer/fetchPipeline.js';
import type { ConsumerBatch, ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import { retryPolicy } from '../../../src/client/retryPolicy.js';
import {
  AgentUnavailableError,
  CorruptMessageError,
  OffsetOutOfRangeError,
  RetriesExhaustedError,
  type StreamHouseError,
} from '../../../src/protocol/errors.js';

/** A fake log: every partition holds offsets 0..∞; a fetch returns `perFetch` records from the asked offset. */
function recordsFrom(target: FetchTarget, count: number): ConsumerRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: target.topic,
    partition: target.partition,
    offset: target.offset + i,
    key: null,
    value: null,
    headers: [],
    timestamp: 0,
    ack: () => {},
  }));
}

function resultFor(target: FetchTarget, count = 10, highWatermark = 1000): PartitionFetchResult {
  const { topic, partition, offset } = target;
  const nextOffset = offset + count;
  if (count === 0) return { topic, partition, nextOffset, highWatermark };
  const batch: ConsumerBatch = {
    topic,
    partition,
    records: recordsFrom(target, count),
    firstOffset: offset,
    lastOffset: nextOffset - 1,
    nextOffset,
    highWatermark,
    ack: () => {},
  };
  return { topic, partition, batch, nextOffset, highWatermark };
}

const tp = (partition: number) => ({ topic: 't', partition });

describe('client/consumer FetchPipeline (marble)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  type Harness = {
    pipeline: FetchPipeline;
    /** [time, partition, offset] of every fetch target. */
    fetches: [number, number, number][];
    /** [time, partition, firstOffset, buffered] of every batch handed to the processor. */
    processed: [number, number, number, number][];
  };

  function harness(
    overrides: Partial<FetchPipelineOptions> & {
      fetchDelay?: string;
      processing?: string;
      positions?: Map<number, number>;
    },
  ): Harness {
    const fetches: [number, number, number][] = [];
    const processed: [number, number, number, number][] = [];
    const { fetchDelay = '--', positions = new Map<number, number>() } = overrides;
    const pipeline: FetchPipeline = new FetchPipeline({
      maxPrefetchBatches: 2,
      routeOf: (_topic, partition) => `agent-${partition % 2}`,
      fetch: (_address, targets) => {
        for (const t of targets) fetches.push([scheduler.now(), t.partition, t.offset]);
        return scheduler.createColdObservable(`${fetchDelay}(r|)`, { r: targets.map((t) => resultFor(t)) });
      },
      resetOffset: () => of(0),
      positionOf: (_topic, partition) => positions.get(partition) ?? 0,
      retry: retryPolicy({ maxRetries: 2, initialBackoffMs: 10, maxBackoffMs: 100, jitter: 0 }),
      scheduler,
      ...overrides,
    });
    return { pipeline, fetches, processed };
  }

  function slowProcessor(h: Harness, processing: string): BatchProcessor {
    return (batch: ConsumerBatch) => {
      h.processed.push([scheduler.now(), batch.partition, batch.firstOffset, h.pipeline.buffered]);
      return scheduler.createColdObservable(processing);
    };
  }

  it('keeps the next fetch in flight while a batch is processed', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({});
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      expectObservable(h.pipeline.run(slowProcessor(h, '-----|')), '^ 20ms !').toBe('');
      scheduler.flush();
      // fetch 1 answers at 2; fetch 2 goes out at once (room for 2) and waits in the buffer
      // while batch 1 is processed (2..7); each later fetch goes out as a batch starts.
      expect(h.fetches).to.deep.equal([
        [0, 0, 0],
        [2, 0, 10],
        [7, 0, 20],
        [12, 0, 30],
        [17, 0, 40],
      ]);
      expect(h.processed).to.deep.equal([
        [2, 0, 0, 2],
        [7, 0, 10, 2],
        [12, 0, 20, 2],
        [17, 0, 30, 2],
      ]);
      expect(h.pipeline.peakBuffered).to.equal(2);
    });
  });

  it('takes the batches out of the fetch results it queues (the results outlive processing them all)', () => {
    scheduler.run(({ expectObservable }) => {
      const answered: PartitionFetchResult[] = [];
      const h = harness({
        fetch: (_address, targets) => {
          const results = targets.map((t) => resultFor(t));
          answered.push(...results);
          return scheduler.createColdObservable('-(r|)', { r: results });
        },
      });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      const seen: number[] = [];
      expectObservable(
        h.pipeline.run((batch) => void seen.push(batch.firstOffset)),
        '^ 3ms !',
      ).toBe('');
      scheduler.flush();
      expect(seen).to.deep.equal([0, 10, 20]);
      expect(answered.map((result) => [result.nextOffset, 'batch' in result])).to.deep.equal([
        [10, false],
        [20, false],
        [30, false],
        [40, true], // the fetch at 3 is cancelled by the end of the run before it answers: nothing was queued from it
      ]);
    });
  });

  describe('with yieldToIo', () => {
    /** A yield that resumes one frame later (the real one, setImmediate, resumes after pending I/O), logging each. */
    function yieldingHarness(overrides: Partial<FetchPipelineOptions> = {}) {
      const log: string[] = [];
      const h = harness({
        maxPrefetchBatches: 4,
        fetch: (_address, targets) => {
          for (const t of targets) log.push(`${scheduler.now()} fetch ${t.partition}@${t.offset}`);
          return scheduler.createColdObservable('--(r|)', { r: targets.map((t) => resultFor(t)) });
        },
        yieldToIo: (resume) => {
          log.push(`${scheduler.now()} yield`);
          const action = scheduler.schedule(resume, 1);
          return () => {
            log.push(`${scheduler.now()} yield cancelled`);
            action.unsubscribe();
          };
        },
        ...overrides,
      });
      const processor: BatchProcessor = (batch) =>
        void log.push(`${scheduler.now()} process ${batch.partition}@${batch.firstOffset}`);
      return { h, log, processor };
    }

    it('processes the batches of an answer in a later task than the one that sent the next fetches', () => {
      scheduler.run(({ expectObservable }) => {
        const { h, log, processor } = yieldingHarness();
        h.pipeline.assign([
          { ...tp(0), offset: 0 },
          { ...tp(1), offset: 0 },
        ]);
        expectObservable(h.pipeline.run(processor), '^ 5ms !').toBe('');
        scheduler.flush();
        // Partitions 0 and 1 live on two agents: two fetches, answered one after the other in the same frame.
        expect(log).to.deep.equal([
          '0 fetch 0@0',
          '0 fetch 1@0',
          '0 yield', // fetches started, nothing to process yet
          '2 fetch 0@10', // the first answer: its partition is fetched again first ...
          '2 yield', // ... and its batch waits for the next task
          '2 fetch 1@10', // the second answer, same task: the pending yield covers it
          '3 process 0@0',
          '3 process 1@0',
          '4 fetch 0@20',
          '4 yield',
          '4 fetch 1@20',
          '5 process 0@10',
          '5 process 1@10',
        ]);
      });
    });

    it('processes at once when no fetch was started, and never after the run ended', () => {
      scheduler.run(({ expectObservable }) => {
        const { h, log, processor } = yieldingHarness({ maxPrefetchBatches: 1 });
        h.pipeline.assign([{ ...tp(0), offset: 0 }]);
        expectObservable(h.pipeline.run(processor), '^ 2ms !').toBe(''); // the run ends at 3
        scheduler.flush();
        // Bound one: the answer at 2 starts no fetch before its batch is processed, so the batch does not wait;
        // the fetch that processing frees room for yields, and the end of the run at 3 cancels that yield.
        expect(log).to.deep.equal([
          '0 fetch 0@0',
          '0 yield',
          '2 process 0@0',
          '2 fetch 0@10',
          '2 yield',
          '3 yield cancelled',
        ]);
      });
    });
  });

  it('does not fetch ahead with a bound of one', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({ maxPrefetchBatches: 1 });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      expectObservable(h.pipeline.run(slowProcessor(h, '-----|')), '^ 20ms !').toBe('');
      scheduler.flush();
      expect(h.fetches).to.deep.equal([
        [0, 0, 0],
        [7, 0, 10],
        [14, 0, 20],
      ]);
      expect(h.processed.map(([time, , offset]) => [time, offset])).to.deep.equal([
        [2, 0],
        [9, 10],
        [16, 20],
      ]);
    });
  });

  it('never buffers more than the bound for a slow processor, and serves every partition in turn', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({ maxPrefetchBatches: 3, fetchDelay: '-' });
      h.pipeline.assign([0, 1, 2, 3].map((p) => ({ ...tp(p), offset: 0 })));
      expectObservable(h.pipeline.run(slowProcessor(h, '----------|')), '^ 60ms !').toBe('');
      scheduler.flush();
      // one request per agent (partitions 0 and 2 on agent-0, 1 on agent-1), then a slot at a time,
      // the next partition in turn; batches are delivered in arrival order
      expect(h.fetches.slice(0, 3)).to.deep.equal([
        [0, 0, 0],
        [0, 2, 0],
        [0, 1, 0],
      ]);
      expect(
        h.processed.map(([time, partition, offset, buffered]) => [time, partition, offset, buffered]),
      ).to.deep.equal([
        [1, 0, 0, 3],
        [11, 2, 0, 3],
        [21, 1, 0, 3],
        [31, 3, 0, 3],
        [41, 0, 10, 3],
        [51, 1, 10, 3],
      ]);
      expect(h.pipeline.peakBuffered).to.equal(3);
    });
  });

  it('backs off a retriable failure per the retry policy, then gives up with RetriesExhaustedError', () => {
    scheduler.run(() => {
      const failure = new AgentUnavailableError('agent down');
      const fetches: number[] = [];
      const h = harness({
        positions: new Map([[0, 4]]),
        fetch: () => {
          fetches.push(scheduler.now());
          return scheduler.createColdObservable<PartitionFetchResult[]>('-#', undefined, failure);
        },
      });
      h.pipeline.assign([{ ...tp(0), offset: 4 }]);
      let error: unknown;
      let failedAt = -1;
      h.pipeline.run(() => undefined).subscribe({ error: (e: unknown) => ((error = e), (failedAt = scheduler.now())) });
      scheduler.flush();
      // fails at 1, waits 10; fails at 12, waits 20; the third failure (at 33) exhausts 2 retries
      expect(fetches).to.deep.equal([0, 11, 32]);
      expect(failedAt).to.equal(33);
      expect(error).to.be.instanceOf(RetriesExhaustedError);
      expect((error as StreamHouseError).cause).to.equal(failure);
      expect((error as StreamHouseError).context).to.deep.equal({ topic: 't', partition: 0, offset: 4 });
      expect(h.pipeline.running).to.equal(false);
    });
  });

  it('fails at once on an error that is not retriable', () => {
    scheduler.run(({ expectObservable }) => {
      const corrupt = new CorruptMessageError('bad crc');
      const h = harness({
        fetch: (_a, targets) =>
          scheduler.createColdObservable('--(r|)', { r: targets.map((t) => ({ ...resultFor(t, 0), error: corrupt })) }),
      });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      const asValue = (source: Observable<never>) => source.pipe(catchError((e: unknown) => of((e as Error).message)));
      expectObservable(asValue(h.pipeline.run(() => undefined))).toBe('--(e|)', { e: 'bad crc' });
    });
  });

  it('continues where the reset strategy says after OFFSET_OUT_OF_RANGE', () => {
    scheduler.run(({ expectObservable }) => {
      const resets: [number, number][] = [];
      let first = true;
      const fetches: [number, number][] = [];
      const h = harness({
        positions: new Map([[0, 90]]),
        fetch: (_a, targets) => {
          fetches.push([scheduler.now(), targets[0]!.offset]);
          const out = first;
          first = false;
          const results = targets.map((t) =>
            out ? { ...resultFor(t, 0), error: new OffsetOutOfRangeError('gone') } : resultFor(t, 3),
          );
          return scheduler.createColdObservable('-(r|)', { r: results });
        },
        resetOffset: (_t, partition) => {
          resets.push([scheduler.now(), partition]);
          return scheduler.createColdObservable('---(o|)', { o: 500 });
        },
      });
      h.pipeline.assign([{ ...tp(0), offset: 90 }]);
      expectObservable(h.pipeline.run(slowProcessor(h, '|')), '^ 6ms !').toBe('');
      scheduler.flush();
      expect(resets).to.deep.equal([[1, 0]]);
      expect(fetches.slice(0, 2)).to.deep.equal([
        [0, 90],
        [4, 500],
      ]);
      expect(h.processed[0]!.slice(0, 3)).to.deep.equal([5, 0, 500]);
    });
  });

  it('drops what was fetched for an old position after seek, and cancels nothing else', () => {
    scheduler.run(({ expectObservable, expectSubscriptions }) => {
      const calls: ReturnType<typeof scheduler.createColdObservable<PartitionFetchResult[]>>[] = [];
      const h = harness({
        fetch: (_a, targets) => {
          const call = scheduler.createColdObservable('-----(r|)', { r: targets.map((t) => resultFor(t, 5)) });
          calls.push(call);
          h.fetches.push([scheduler.now(), targets[0]!.partition, targets[0]!.offset]);
          return call;
        },
      });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      scheduler.schedule(() => h.pipeline.seek('t', 0, 100), 2);
      expectObservable(h.pipeline.run(slowProcessor(h, '|')), '^ 9ms !').toBe('');
      scheduler.flush();
      expect(h.fetches.slice(0, 2)).to.deep.equal([
        [0, 0, 0],
        [2, 0, 100],
      ]);
      // the answer for offset 0 (at 5) is ignored; offset 100's (at 7) is processed
      expect(h.processed.map(([time, , offset]) => [time, offset])).to.deep.equal([[7, 100]]);
      // the stale call is not cancelled (it may carry other partitions): its answer is dropped
      expectSubscriptions(calls[0]!.subscriptions).toBe('^----!');
      expectSubscriptions(calls[2]!.subscriptions).toBe('-------^--!');
    });
  });

  it('skips a paused partition until resumed, fetching again what was buffered for it', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({ maxPrefetchBatches: 4 });
      h.pipeline.assign([
        { ...tp(0), offset: 0, paused: true },
        { ...tp(1), offset: 0 },
      ]);
      scheduler.schedule(() => h.pipeline.pause('t', 1), 1);
      scheduler.schedule(() => h.pipeline.resume('t', 0), 10);
      scheduler.schedule(() => h.pipeline.resume('t', 1), 20);
      expectObservable(h.pipeline.run(slowProcessor(h, '|')), '^ 22ms !').toBe('');
      scheduler.flush();
      // partition 1's first answer (at 2) came while it was paused: dropped, and asked for again on resume
      expect(h.fetches).to.deep.equal([
        [0, 1, 0],
        [10, 0, 0],
        [12, 0, 10],
        [14, 0, 20],
        [16, 0, 30],
        [18, 0, 40],
        [20, 1, 0],
        [20, 0, 50],
        [22, 1, 10],
        [22, 0, 60],
      ]);
      expect(h.processed.map(([time, partition, offset]) => [time, partition, offset])).to.deep.equal([
        [12, 0, 0],
        [14, 0, 10],
        [16, 0, 20],
        [18, 0, 30],
        [20, 0, 40],
        [22, 1, 0],
        [22, 0, 50],
      ]);
      expect(h.pipeline.pausedPartitions()).to.deep.equal([]);
    });
  });

  it('drops what is buffered for a partition when it is paused, and fetches it again on resume', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({ maxPrefetchBatches: 4, fetchDelay: '--' });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      scheduler.schedule(() => h.pipeline.pause('t', 0), 5);
      scheduler.schedule(() => h.pipeline.resume('t', 0), 8);
      expectObservable(h.pipeline.run(slowProcessor(h, '----|')), '^ 14ms !').toBe('');
      scheduler.flush();
      // at 5: batch 0 is being processed (it finishes), batch 10 is buffered (dropped), 20 is in flight (ignored at 6)
      expect(h.fetches.map(([time, , offset]) => [time, offset])).to.deep.equal([
        [0, 0],
        [2, 10],
        [4, 20],
        [8, 10],
        [10, 20],
        [12, 30],
        [14, 40],
      ]);
      expect(h.processed.map(([time, , offset]) => [time, offset])).to.deep.equal([
        [2, 0],
        [10, 10],
        [14, 20],
      ]);
    });
  });

  it('drops a revoked partition at once, what is buffered included', () => {
    scheduler.run(({ expectObservable }) => {
      const h = harness({ maxPrefetchBatches: 2, fetchDelay: '-' });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      scheduler.schedule(() => void h.pipeline.revoke([tp(0)]), 3);
      expectObservable(h.pipeline.run(slowProcessor(h, '-----|')), '^ 15ms !').toBe('');
      scheduler.flush();
      expect(h.processed.map(([time, , offset]) => [time, offset])).to.deep.equal([[1, 0]]);
      expect(h.fetches.map(([time, , offset]) => [time, offset])).to.deep.equal([
        [0, 0],
        [1, 10],
      ]);
      expect(h.pipeline.has('t', 0)).to.equal(false);
      expect(h.pipeline.buffered).to.equal(0);
    });
  });

  it('rewinds to the position when read again, and allows one run at a time', () => {
    scheduler.run(({ expectObservable }) => {
      const positions = new Map([[0, 33]]);
      const h = harness({ positions });
      h.pipeline.assign([{ ...tp(0), offset: 0 }]);
      expectObservable(
        h.pipeline.run(() => undefined),
        '^ 3ms !',
      ).toBe('');
      expectObservable(h.pipeline.run(() => undefined).pipe(catchError((e: unknown) => of((e as Error).message)))).toBe(
        '(m|)',
        {
          m: 'the consumer is already being read: one records$, batches$, iterator or run() at a time',
        },
      );
      scheduler.flush();
      expect(h.fetches[0]).to.deep.equal([0, 0, 33]);
    });
  });
});

describe('client/consumer FetchPipeline revoke (async)', () => {
  it('resolves revoke only once the batch under way is processed', async () => {
    let finish!: () => void;
    const pipeline = new FetchPipeline({
      maxPrefetchBatches: 2,
      routeOf: () => 'agent',
      fetch: (_a, targets) => of(targets.map((t) => resultFor(t, 2))),
      resetOffset: () => of(0),
      positionOf: () => 0,
      retry: retryPolicy(),
    });
    pipeline.assign([{ ...tp(0), offset: 0 }]);
    const events: string[] = [];
    const subscription = pipeline
      .run((batch) => {
        events.push(`process ${batch.firstOffset}`);
        return new Promise<void>((resolve) => (finish = resolve));
      })
      .subscribe();
    expect(events).to.deep.equal(['process 0']);
    const revoked = pipeline.revoke([tp(0)]).then(() => events.push('revoked'));
    // Nothing here waits on a timer or I/O (the fetches are synchronous): once queued callbacks have run, all that
    // could happen has.
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).to.deep.equal(['process 0']);
    events.push('finish 0');
    finish();
    await revoked;
    expect(events).to.deep.equal(['process 0', 'finish 0', 'revoked']);
    expect(pipeline.buffered).to.equal(0);
    subscription.unsubscribe();
  });
});
