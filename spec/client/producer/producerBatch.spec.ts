import { expect } from 'chai';
import { BuilderPool } from '../../../src/client/producer/builderPool.js';
import { ProducerBatch } from '../../../src/client/producer/producerBatch.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import { PartitionState } from '../../../src/client/producer/partitionState.js';
import type { RecordHeader } from '../../../src/protocol/codec/record.js';
import { SendResult } from '../../../src/client/sendResult.js';
import { decodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';

/** A record as the producer appends it: key, value, headers ('h' keys get one), timestamp, sent-at time, size. */
type Appendable = [Uint8Array | null, Uint8Array, RecordHeader[] | undefined, number, number, number];

function record(key: string | null, value: string, timestamp: number, sentAt: number): Appendable {
  const headers = key === 'h' ? [{ key: 'trace', value: Buffer.from('t-1') }] : undefined;
  return [key === null ? null : Buffer.from(key), Buffer.from(value), headers, timestamp, sentAt, 10 + value.length];
}

describe('client/producer/producerBatch', () => {
  it('encodes each record when appended and answers its index, counting records and bytes', () => {
    const state = new PartitionState('orders', 4);
    const batch = new ProducerBatch(state, new BuilderPool(8, 1024));
    const records = [
      record('a', 'first', 1_000, 50),
      record(null, 'second', 999, 60),
      record('h', 'x'.repeat(100), 1_005, 70),
    ];
    expect(records.map((r) => batch.append(...r))).to.deep.equal([0, 1, 2]);
    expect([batch.count, batch.bytes]).to.deep.equal([3, 15 + 16 + 110]);
    expect(batch.firstSentAt).to.equal(50);
    expect(batch.records.count).to.equal(3);
    const decoded = decodeRecordBatch(batch.records.finish());
    expect(
      decoded.records.map((r) => [
        r.offset,
        r.timestamp,
        r.key === null ? null : Buffer.from(r.key).toString(),
        Buffer.from(r.value!).toString().slice(0, 6),
        r.headers.map((h) => h.key),
      ]),
    ).to.deep.equal([
      [0, 1_000, 'a', 'first', []],
      [1, 999, null, 'second', []],
      [2, 1_005, 'h', 'xxxxxx', ['trace']],
    ]);
  });

  it('is the outcome its records read their offsets from', async () => {
    const state = new PartitionState('orders', 1);
    const batch = new ProducerBatch(state, new BuilderPool(1024, 1024));
    const results = [0, 1, 2].map((i) => new SendResult(batch.outcome, i, 100 + i));
    expect(results.map((r) => [r.topic, r.partition])).to.deep.equal([
      ['orders', 1],
      ['orders', 1],
      ['orders', 1],
    ]);
    batch.outcome.resolve(10);
    expect(await Promise.all(results.map((r) => r.waitOffset()))).to.deep.equal([10, 11, 12]);
  });

  it('hands its builder back to the pool once encoded, emptied, and refuses to be read afterwards', () => {
    const state = new PartitionState('orders', 0);
    const pool = new BuilderPool(16, 1 << 20);
    const batch = new ProducerBatch(state, pool);
    batch.append(...record('k', 'v'.repeat(100), 1, 1));
    const builder = batch.records;
    expect(builder.capacity).to.be.at.least(100);
    batch.recordsEncoded();
    expect(pool.heldBytes).to.equal(builder.capacity);
    expect(() => batch.records).to.throw(
      InvalidRequestError,
      'the records of a batch for orders/0 were already handed back',
    );
    batch.recordsEncoded(); // twice is harmless
    const next = new ProducerBatch(state, pool);
    expect(next.records).to.equal(builder);
    expect([builder.count, builder.recordsBytes, pool.heldBytes]).to.deep.equal([0, 0, 0]);
  });
});
