import { expect } from 'chai';
import {
  decodeFetchedRecords,
  streamRecords,
  toPartitionResult,
  type RecordStream,
} from '../../../src/client/consumer/fetcher.js';
import type { ConsumerBatch, ConsumerRecord } from '../../../src/client/consumer/consumerTypes.js';
import { CorruptMessageError } from '../../../src/protocol/errors.js';
import { encodeRecordBatch, type RecordInput } from '../../../src/protocol/codec/recordBatch.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/**
 * Offsets 10..12 (plain, one record with headers), then 13..14 (lz4), as a Fetch answer concatenates stored batches.
 */
function fetchedBytes(): Buffer {
  const first: RecordInput[] = [
    { key: utf8('a'), value: utf8('1'), timestamp: 1000 },
    { key: null, value: utf8('2'), timestamp: 1001, headers: [{ key: 'h', value: utf8('x') }] },
    { key: utf8('c'), value: null, timestamp: 1002 },
  ];
  const second: RecordInput[] = [
    { key: utf8('d'), value: utf8('4'), timestamp: 2000 },
    { key: utf8('e'), value: utf8('5'), timestamp: 2001 },
  ];
  return Buffer.concat([
    encodeRecordBatch(first, { baseOffset: 10 }),
    encodeRecordBatch(second, { baseOffset: 13, compression: 'lz4' }),
  ]);
}

/** Records as plain values, for exact comparison. */
const plain = (records: readonly ConsumerRecord[]) =>
  records.map(({ topic, partition, offset, key, value, headers, timestamp }) => ({
    topic,
    partition,
    offset,
    key: key === null ? null : Buffer.from(key).toString(),
    value: value === null ? null : Buffer.from(value).toString(),
    headers: headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value).toString() })),
    timestamp,
  }));

function drain(next: RecordStream): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  for (let record = next(); record !== undefined; record = next()) out.push(record);
  return out;
}

function fetchedBatch(bytes: Buffer, fromOffset: number): ConsumerBatch {
  const result = toPartitionResult(
    { topic: 't', partition: 3, error: undefined, highWatermark: 20, logStartOffset: 0, records: bytes },
    fromOffset,
  );
  expect(result.error).to.equal(undefined);
  return result.batch!;
}

const EXPECTED_FROM_11 = [
  { topic: 't', partition: 3, offset: 11, key: null, value: '2', headers: [{ key: 'h', value: 'x' }], timestamp: 1001 },
  { topic: 't', partition: 3, offset: 12, key: 'c', value: null, headers: [], timestamp: 1002 },
  { topic: 't', partition: 3, offset: 13, key: 'd', value: '4', headers: [], timestamp: 2000 },
  { topic: 't', partition: 3, offset: 14, key: 'e', value: '5', headers: [], timestamp: 2001 },
];

describe('client/consumer fetcher', () => {
  it('decodes the records at or after the asked offset from concatenated batches, plain and lz4', () => {
    expect(plain(decodeFetchedRecords('t', 3, 11, fetchedBytes()))).to.deep.equal(EXPECTED_FROM_11);
  });

  it('gives keys and values of uncompressed batches as views over the fetched bytes', () => {
    const bytes = fetchedBytes();
    const [first] = decodeFetchedRecords('t', 3, 10, bytes);
    expect(first!.key!.buffer).to.equal(bytes.buffer);
  });

  it('streams the same records as batch.records, one at a time, then undefined', () => {
    const batch = fetchedBatch(fetchedBytes(), 11);
    const next = streamRecords(batch);
    expect(plain(drain(next))).to.deep.equal(EXPECTED_FROM_11);
    expect(next()).to.equal(undefined);
    expect(plain(batch.records)).to.deep.equal(EXPECTED_FROM_11);
    expect([batch.firstOffset, batch.lastOffset, batch.nextOffset, batch.highWatermark]).to.deep.equal([
      11, 14, 15, 20,
    ]);
  });

  it('streams the records array itself once read, and a batch that is not a fetched one from its records', () => {
    const batch = fetchedBatch(fetchedBytes(), 10);
    const records = batch.records;
    const streamed = drain(streamRecords(batch));
    expect(streamed).to.have.length(5);
    for (const [i, record] of streamed.entries()) expect(record).to.equal(records[i]);

    const own: ConsumerBatch = {
      topic: 't',
      partition: 0,
      records: records.slice(0, 2),
      firstOffset: 10,
      lastOffset: 11,
      nextOffset: 12,
      highWatermark: 12,
      ack: () => {},
    };
    const fromOwn = drain(streamRecords(own));
    expect(fromOwn).to.have.length(2);
    expect(fromOwn[1]).to.equal(records[1]);
  });

  it('checks every stored batch of the fetch before handing out a record', () => {
    const bytes = fetchedBytes();
    // the last byte of the second (lz4) batch: its CRC no longer matches
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    const batch = fetchedBatch(bytes, 10);
    expect(() => streamRecords(batch)).to.throw(CorruptMessageError, /batch at byte \d+ has crc/);
    expect(() => batch.records).to.throw(CorruptMessageError, /batch at byte \d+ has crc/);
  });
});
