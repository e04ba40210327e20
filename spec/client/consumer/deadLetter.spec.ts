import { expect } from 'chai';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { DEAD_LETTER_HEADERS, deadLetter, type DeadLetterConfig } from '../../../src/client/consumer/deadLetter.js';
import type { ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import type { RecordMetadata } from '../../../src/client/producer/producer.js';
import type { ProducerRecord } from '../../../src/client/producer/producerRecord.js';
import type { RecordSink } from '../../../src/client/producer/produceTo.js';
import { InvalidConfigError, NotLeaderError } from '../../../src/protocol/errors.js';

describe('client/consumer deadLetter (marbles)', () => {
  let scheduler: TestScheduler;
  const acked: number[] = [];
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
    acked.splice(0);
  });
  const rec = (offset: number): ConsumerRecord => ({
    topic: 'orders',
    partition: 2,
    offset,
    key: Buffer.from('k'),
    value: Buffer.from(`v${offset}`),
    headers: [{ key: 'h', value: Buffer.from('x') }],
    timestamp: 5,
    ack: () => void acked.push(offset),
  });
  const meta = (offset: number): RecordMetadata => ({ topic: 'orders.dlq', partition: 0, offset, timestamp: 0 });
  function sink(answer: (index: number) => Observable<RecordMetadata>): RecordSink & { sent: ProducerRecord[] } {
    const sent: ProducerRecord[] = [];
    return { sent, send$: (record) => answer(sent.push(record) - 1) };
  }
  const text = (header: { key: string; value: Uint8Array | null }) => [
    header.key,
    Buffer.from(header.value!).toString(),
  ];

  it('acks processed records, dead-letters one that fails after its retries, the source named in headers', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const a = rec(10);
      const b = rec(11);
      const error = new TypeError('bad order');
      const attempts: number[] = [];
      const s = sink((i) => cold('--(m|)', { m: meta(i) }));
      const config: DeadLetterConfig = {
        process: (record) => {
          attempts.push(scheduler.now());
          return record.offset === 11 ? cold('-#', undefined, error) : cold('-(x|)', { x: 1 });
        },
        producer: s,
        topic: 'orders.dlq',
        retries: { count: 2, delayMs: 3, scheduler },
      };
      // b fails at 3, 7 and 11 (attempts at 2, 6, 10), then its dead letter is stored at 13
      expectObservable(hot('a-b|', { a, b }).pipe(deadLetter(config))).toBe('-a-----------(b|)', {
        a: { ok: true, record: a },
        b: { ok: false, record: b, error, deadLetter: meta(0) },
      });
      scheduler.flush();
      expect(attempts).to.deep.equal([0, 2, 6, 10]);
      expect(acked).to.deep.equal([10, 11]);
      expect(s.sent.length).to.equal(1);
      const { headers, ...rest } = s.sent[0]!;
      expect(rest).to.deep.equal({ topic: 'orders.dlq', key: Buffer.from('k'), value: Buffer.from('v11') });
      expect((headers as { key: string; value: Uint8Array | null }[]).map(text)).to.deep.equal([
        ['h', 'x'],
        [DEAD_LETTER_HEADERS.topic, 'orders'],
        [DEAD_LETTER_HEADERS.partition, '2'],
        [DEAD_LETTER_HEADERS.offset, '11'],
        [DEAD_LETTER_HEADERS.error, 'TypeError: bad order'],
      ]);
    });
  });

  it('sends nothing when a retry succeeds', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const a = rec(1);
      let attempt = 0;
      const s = sink((i) => cold('-(m|)', { m: meta(i) }));
      const process = () => (attempt++ === 0 ? cold('#', undefined, new Error('once')) : cold('--(x|)', { x: 1 }));
      expectObservable(
        cold('a|', { a }).pipe(
          deadLetter({ process, producer: s, topic: 'dlq', retries: { count: 1, delayMs: 2, scheduler } }),
        ),
      ).toBe('----(a|)', { a: { ok: true, record: a } });
      scheduler.flush();
      expect(s.sent).to.deep.equal([]);
      expect(acked).to.deep.equal([1]);
    });
  });

  it("errors with the dead-letter send's error and leaves the record unacknowledged", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failure = new NotLeaderError('moved');
      const s = sink(() => cold('-#', undefined, failure));
      const process = () => cold('#', undefined, new Error('no'));
      expectObservable(
        cold('a|', { a: rec(4) }).pipe(deadLetter({ process, producer: s, topic: 'dlq', retries: { count: 0 } })),
      ).toBe('-#', undefined, failure);
      scheduler.flush();
      expect(acked).to.deep.equal([]);
    });
  });

  it('processes one record at a time by default, more with concurrency', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const [a, b] = [rec(1), rec(2)];
      const s = sink((i) => cold('(m|)', { m: meta(i) }));
      const process = () => cold('---(x|)', { x: 1 });
      const source = cold('(ab|)', { a, b });
      expectObservable(source.pipe(deadLetter({ process, producer: s, topic: 'dlq' }))).toBe('---a--(b|)', {
        a: { ok: true, record: a },
        b: { ok: true, record: b },
      });
      expectObservable(source.pipe(deadLetter({ process, producer: s, topic: 'dlq', concurrency: 2 }))).toBe(
        '---(ab|)',
        { a: { ok: true, record: a }, b: { ok: true, record: b } },
      );
    });
  });

  const bad: [string, Partial<DeadLetterConfig>, string][] = [
    ['an empty topic', { topic: '' }, 'deadLetter topic must be a non-empty string, got ""'],
    ['no producer', { producer: undefined as unknown as RecordSink }, 'deadLetter needs a producer with send$'],
    ['negative retries', { retries: { count: -1 } }, 'deadLetter retries.count must be a non-negative integer, got -1'],
    [
      'a fractional delay',
      { retries: { delayMs: 0.5 } },
      'deadLetter retries.delayMs must be a non-negative integer, got 0.5',
    ],
    ['no concurrency', { concurrency: 0 }, 'deadLetter concurrency must be a positive integer, got 0'],
  ];
  for (const [what, override, message] of bad) {
    it(`refuses ${what} with InvalidConfigError`, () => {
      const config: DeadLetterConfig = {
        process: () => [],
        producer: sink(() => {
          throw new Error('unused');
        }),
        topic: 'dlq',
        ...override,
      };
      expect(() => deadLetter(config)).to.throw(InvalidConfigError, message);
    });
  }
});
