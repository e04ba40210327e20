import { expect } from 'chai';
import { BuilderPool } from '../../../src/client/producer/builderPool.js';
import { ProducerBatch } from '../../../src/client/producer/producerBatch.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import { PartitionCounters } from '../../../src/client/producer/producerMetrics.js';
import type { AppendItem } from '../../../src/client/producer/producerRecord.js';
import { SendResult } from '../../../src/client/sendResult.js';
import { decodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';

function item(
  counters: PartitionCounters,
  key: string | null,
  value: string,
  timestamp: number,
  sentAt: number,
): AppendItem {
  return {
    counters,
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(value),
    headers: key === 'h' ? [{ key: 'trace', value: Buffer.from('t-1') }] : undefined,
    timestamp,
    sentAt,
    size: 0,
    batch: undefined,
    index: -1,
  };
}

describe('client/producer/producerBatch', () => {
  it('encodes each record when added and tells the item where it went', () => {
    const counters = new PartitionCounters('orders', 4);
    const batch = new ProducerBatch(counters, new BuilderPool(8, 1024));
    const items = [
      item(counters, 'a', 'first', 1_000, 50),
      item(counters, null, 'second', 999, 60),
      item(counters, 'h', 'x'.repeat(100), 1_005, 70),
    ];
    for (const i of items) batch.add(i);
    expect(items.map((i) => [i.batch === batch, i.index])).to.deep.equal([
      [true, 0],
      [true, 1],
      [true, 2],
    ]);
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
    const counters = new PartitionCounters('orders', 1);
    const batch = new ProducerBatch(counters, new BuilderPool(1024, 1024));
    const results = [0, 1, 2].map((i) => new SendResult(batch.outcome, i, 100 + i));
    expect(results.map((r) => [r.topic, r.partition])).to.deep.equal([
      ['orders', 1],
      ['orders', 1],
      ['orders', 1],
    ]);
    batch.outcome._resolve(10);
    expect(await Promise.all(results.map((r) => r.waitOffset()))).to.deep.equal([10, 11, 12]);
  });

  it('hands its builder back to the pool once encoded, emptied, and refuses to be read afterwards', () => {
    const counters = new PartitionCounters('orders', 0);
    const pool = new BuilderPool(16, 1 << 20);
    const batch = new ProducerBatch(counters, pool);
    batch.add(item(counters, 'k', 'v'.repeat(100), 1, 1));
    const builder = batch.records;
    expect(builder.capacity).to.be.at.least(100);
    batch.recordsEncoded();
    expect(pool.heldBytes).to.equal(builder.capacity);
    expect(() => batch.records).to.throw(
      InvalidRequestError,
      'the records of a batch for orders/0 were already handed back',
    );
    batch.recordsEncoded(); // twice is harmless
    const next = new ProducerBatch(counters, pool);
    expect(next.records).to.equal(builder);
    expect([builder.count, builder.recordsBytes, pool.heldBytes]).to.deep.equal([0, 0, 0]);
  });
});
