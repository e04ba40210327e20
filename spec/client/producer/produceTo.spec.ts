import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import type { Observable } from 'rxjs';
import { produceTo, type RecordSink } from '../../../src/client/producer/produceTo.js';
import type { ProducerRecord } from '../../../src/client/producer/producerRecord.js';
import type { RecordMetadata } from '../../../src/client/producer/producer.js';
import { NotLeaderError, RecordTooLargeError } from '../../../src/protocol/errors.js';

describe('client/producer/produceTo (marbles)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** A sink whose acks arrive `delay` frames after the send, at offset = position of the value. */
  function sink(
    cold: (record: ProducerRecord, index: number) => Observable<RecordMetadata>,
  ): RecordSink & { sent: ProducerRecord[] } {
    const sent: ProducerRecord[] = [];
    return { sent, send$: (record) => cold(record, sent.push(record) - 1) };
  }
  const meta = (offset: number): RecordMetadata => ({ topic: 't', partition: 0, offset, timestamp: 0 });

  it('emits each acknowledgement with the value it came from, and completes after the last ack', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const s = sink((_, i) => cold('--(a|)', { a: meta(i) }));
      const source = cold('a-b-c|', { a: 1, b: 2, c: 3 });
      expectObservable(source.pipe(produceTo(s, 't', { key: (v) => `k${v}` }))).toBe('--a-b-(c|)', {
        a: { ...meta(0), value: 1 },
        b: { ...meta(1), value: 2 },
        c: { ...meta(2), value: 3 },
      });
      scheduler.flush();
      expect(s.sent).to.deep.equal([
        { topic: 't', value: JSON.stringify(1), key: 'k1' },
        { topic: 't', value: JSON.stringify(2), key: 'k2' },
        { topic: 't', value: JSON.stringify(3), key: 'k3' },
      ]);
    });
  });

  it('holds the source back beyond maxInFlight unacknowledged records', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const s = sink((_, i) => cold('----(a|)', { a: meta(i) }));
      const source = hot('abcd|', { a: 'a', b: 'b', c: 'c', d: 'd' });
      expectObservable(source.pipe(produceTo(s, 't', { maxInFlight: 2 }))).toBe('----ab--c(d|)', {
        a: { ...meta(0), value: 'a' },
        b: { ...meta(1), value: 'b' },
        c: { ...meta(2), value: 'c' },
        d: { ...meta(3), value: 'd' },
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it("errors with the first record's typed error", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const error = new RecordTooLargeError('too big');
      const s = sink((record, i) =>
        record.value === 'bad' ? cold('-#', undefined, error) : cold('--(a|)', { a: meta(i) }),
      );
      const source = cold('a-b-c|', { a: 'ok', b: 'bad', c: 'ok' });
      expectObservable(source.pipe(produceTo(s, 't'))).toBe('--a#', { a: { ...meta(0), value: 'ok' } }, error);
    });
  });

  it('passes headers, partition and timestamp selectors through, and bytes unchanged', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const s = sink((_, i) => cold('(a|)', { a: meta(i) }));
      const bytes = Uint8Array.of(1, 2);
      const source = cold('(a|)', { a: bytes });
      expectObservable(
        source.pipe(produceTo(s, 't', { headers: () => ({ h: 'v' }), partition: () => 4, timestamp: () => 99 })),
      ).toBe('(a|)', {
        a: { ...meta(0), value: bytes },
      });
      scheduler.flush();
      expect(s.sent).to.deep.equal([{ topic: 't', value: bytes, headers: { h: 'v' }, partition: 4, timestamp: 99 }]);
    });
  });

  it("keeps a retriable failure a failure: retries are the producer's job, not the operator's", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const error = new NotLeaderError('moved');
      const s = sink(() => cold('-#', undefined, error));
      expectObservable(cold('a|', { a: 1 }).pipe(produceTo(s, 't'))).toBe('-#', undefined, error);
    });
  });

  it('routes each value to the topic a function of it names', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const s = sink((record, i) => cold('-(a|)', { a: { ...meta(i), topic: record.topic } }));
      const source = cold('ab|', { a: { kind: 'order', id: 1 }, b: { kind: 'refund', id: 2 } });
      expectObservable(source.pipe(produceTo(s, (v) => `${v.kind}s`, { value: (v) => String(v.id) }))).toBe('-a(b|)', {
        a: { ...meta(0), topic: 'orders', value: { kind: 'order', id: 1 } },
        b: { ...meta(1), topic: 'refunds', value: { kind: 'refund', id: 2 } },
      });
      scheduler.flush();
      expect(s.sent.map((r) => [r.topic, r.value])).to.deep.equal([
        ['orders', '1'],
        ['refunds', '2'],
      ]);
    });
  });

  it("with errors: 'emit', yields each value's offset or error and goes on", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const tooLarge = new RecordTooLargeError('too big');
      const s = sink((record, i) =>
        record.value === 'bad' ? cold('-#', undefined, tooLarge) : cold('--(a|)', { a: meta(i) }),
      );
      const source = cold('a-b-c|', { a: 'ok', b: 'bad', c: 'ok2' });
      expectObservable(source.pipe(produceTo(s, 't', { errors: 'emit' }))).toBe('--ab--(c|)', {
        a: { ...meta(0), value: 'ok', ok: true },
        b: { ok: false, value: 'bad', topic: 't', error: tooLarge },
        c: { ...meta(2), value: 'ok2', ok: true },
      });
    });
  });

  it("with errors: 'emit', a mapping function that throws fails that value only, naming the topic when known", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const s = sink((_, i) => cold('(a|)', { a: meta(i) }));
      const boom = new TypeError('no id');
      const route = (v: number) => {
        if (v === 2) throw boom;
        return 't';
      };
      const key = (v: number) => {
        if (v === 3) throw boom;
        return `k${v}`;
      };
      expectObservable(cold('abc|', { a: 1, b: 2, c: 3 }).pipe(produceTo(s, route, { key, errors: 'emit' }))).toBe(
        'abc|',
        {
          a: { ...meta(0), value: 1, ok: true },
          b: { ok: false, value: 2, topic: undefined, error: boom },
          c: { ok: false, value: 3, topic: 't', error: boom },
        },
      );
      scheduler.flush();
      expect(s.sent.length).to.equal(1);
    });
  });
});
