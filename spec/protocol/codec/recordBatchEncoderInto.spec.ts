import { expect } from 'chai';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import { encodeRecordBatchInto } from '../../../src/protocol/codec/recordBatchEncoder.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import type { RecordInput } from '../../../src/protocol/codec/record.js';
import { GOLDEN_HEX, GOLDEN_OPTIONS, GOLDEN_RECORDS } from '../fixtures/goldenBatch.js';

const records: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
  key: Buffer.from(`key-${i}`),
  value: Buffer.alloc(100, i),
  timestamp: 1_700_000_000_000 + i,
  headers: i % 7 === 0 ? [{ key: 'h', value: Buffer.from([i]) }] : [],
}));

describe('protocol/encodeRecordBatchInto', () => {
  for (const compression of ['none', 'lz4'] as const) {
    it(`writes exactly encodeRecordBatch's bytes at the offset, touching nothing around them (${compression})`, () => {
      const options = { compression, producerId: 7, producerEpoch: 1, baseSequence: 40 };
      const expected = encodeRecordBatch(records, options);
      let asked = -1;
      const around = Buffer.alloc(expected.length + 20, 0xee);
      const written = encodeRecordBatchInto(records, options, (size) => {
        asked = size;
        return { buffer: around, offset: 13 };
      });
      expect(asked).to.equal(expected.length);
      expect(written).to.deep.equal({ buffer: around, offset: 13, length: expected.length });
      expect(around.subarray(13, 13 + expected.length).equals(expected)).to.equal(true);
      expect(around.subarray(0, 13).every((b) => b === 0xee)).to.equal(true);
      expect(around.subarray(13 + expected.length).every((b) => b === 0xee)).to.equal(true);
    });
  }

  it('still encodes the golden batch byte for byte', () => {
    expect(encodeRecordBatch(GOLDEN_RECORDS, GOLDEN_OPTIONS).toString('hex')).to.equal(GOLDEN_HEX);
  });

  it('refuses bad records before asking for memory', () => {
    let asked = false;
    const bad = [{ key: null, value: 'not bytes', timestamp: 0 }] as unknown as RecordInput[];
    expect(() =>
      encodeRecordBatchInto(bad, {}, () => {
        asked = true;
        return { buffer: Buffer.alloc(100), offset: 0 };
      }),
    ).to.throw(InvalidRequestError, 'record 0 has a value that is neither a Uint8Array nor null');
    expect(asked).to.equal(false);
  });
});
