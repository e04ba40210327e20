/**
 * The agent's record walk accepts exactly the batches the consumer's decoder
 * accepts (with dense offsets), so nothing stored fails to decode and nothing
 * decodable is refused; and its limits (decompressed size, future timestamps).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { validateProducedBatch } from '../../../src/protocol/codec/producedBatchValidation.js';
import { checkRecordBatch } from '../../../src/protocol/codec/recordBatchDecoder.js';
import { encodeRecordBatch, type RecordInput } from '../../../src/protocol/codec/recordBatch.js';
import { MAX_BATCH_SIZE, readProducerFields } from '../../../src/protocol/codec/batchLayout.js';
import {
  CorruptMessageError,
  InvalidRecordError,
  InvalidTimestampError,
  UnsafeIntegerError,
} from '../../../src/protocol/errors.js';
import { refreshBatch } from '../fixtures/batchTools.js';
import { rawBatch } from '../fixtures/rawBatch.js';

const NO_LIMITS = { maxRecordsBytes: MAX_BATCH_SIZE, maxTimestamp: Infinity };

/** What the Produce handler accepts: the batch, then its producer fields. */
function agentAccepts(bytes: Uint8Array): boolean {
  try {
    validateProducedBatch(bytes, NO_LIMITS);
    readProducerFields(bytes);
    return true;
  } catch (error) {
    expect(error).to.satisfy(
      (e: unknown) =>
        e instanceof CorruptMessageError || e instanceof InvalidRecordError || e instanceof UnsafeIntegerError,
    );
    return false;
  }
}

function consumerAccepts(bytes: Uint8Array): boolean {
  try {
    const { frame, cursor } = checkRecordBatch(bytes, 0);
    while (cursor.next()) {
      // builds every record, as a consumer does
    }
    return frame.size === bytes.length && frame.recordCount > 0 && frame.recordCount === frame.lastOffsetDelta + 1;
  } catch {
    return false;
  }
}

const bytesOf = (max: number) => fc.option(fc.uint8Array({ maxLength: max }), { nil: null, freq: 4 });
const record: fc.Arbitrary<RecordInput> = fc.record({
  key: bytesOf(20),
  // some values past 8 KiB, so lengths take three-byte varints
  value: fc.oneof(
    { weight: 9, arbitrary: bytesOf(40) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 8190, maxLength: 8200 }) },
  ),
  // deltas from one byte to the slow varlong path
  timestamp: fc.oneof(
    fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_100 }),
    fc.integer({ min: 0, max: 2 ** 45 }),
  ),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 5, unit: 'grapheme' }), value: bytesOf(6) }), {
    maxLength: 3,
  }),
});
const mutation = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'set'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

describe('protocol/validateProducedBatch', () => {
  it('accepts what our encoder writes, compressed or not, and returns its frame', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('none' as const, 'lz4' as const),
        (inputs, compression) => {
          const bytes = encodeRecordBatch(inputs, { compression });
          const frame = validateProducedBatch(bytes, NO_LIMITS);
          expect(frame.recordCount).to.equal(inputs.length);
          expect(frame.size).to.equal(bytes.length);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('accepts a mutated batch exactly when the consumer decodes it with dense offsets', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('none' as const, 'lz4' as const),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (inputs, compression, mutations) => {
          const bytes = Array.from(encodeRecordBatch(inputs, { compression }));
          for (const m of mutations) {
            const at = 21 + (m.at % (bytes.length - 21));
            if (m.kind === 'flip') bytes[at]! ^= 1 << (m.byte % 8);
            else if (m.kind === 'set') bytes[at] = m.byte;
            else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else if (bytes.length > 62) bytes.splice(at, 1);
          }
          const batch = refreshBatch(new Uint8Array(bytes));
          const agent = agentAccepts(batch);
          expect(agent, Buffer.from(batch).toString('hex')).to.equal(consumerAccepts(batch));
          if (agent) accepted++;
          else refused++;
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
    expect(accepted).to.be.greaterThan(50);
    expect(refused).to.be.greaterThan(1000);
  });

  it('refuses compressed records larger than maxRecordsBytes, and timestamps after maxTimestamp', () => {
    const inputs = [{ key: null, value: new Uint8Array(4000), timestamp: 1000 }];
    const lz4 = encodeRecordBatch(inputs, { compression: 'lz4' });
    expect(() => validateProducedBatch(lz4, { maxRecordsBytes: 3000, maxTimestamp: Infinity })).to.throw(
      InvalidRecordError,
      /^records of batch at byte 0: lz4 payload decompresses past 3000 bytes$/,
    );
    expect(validateProducedBatch(lz4, { maxRecordsBytes: 4009, maxTimestamp: 1000 }).recordCount).to.equal(1);
    expect(() => validateProducedBatch(lz4, { maxRecordsBytes: 4009, maxTimestamp: 999 })).to.throw(
      InvalidTimestampError,
      'batch max timestamp 1000 is more than the accepted 999 (too far in the future)',
    );
  });

  it('refuses a record timestamp beyond the safe integers', () => {
    const bytes = rawBatch({
      baseTimestamp: Number.MAX_SAFE_INTEGER - 1,
      maxTimestamp: 0,
      records: [{ offsetDelta: 0, timestampDelta: 5 }],
    });
    expect(() => validateProducedBatch(bytes, NO_LIMITS)).to.throw(
      InvalidRecordError,
      'batch at byte 0 has a record timestamp beyond Number.MAX_SAFE_INTEGER',
    );
  });

  it('refuses an empty batch and a buffer holding more than one batch', () => {
    expect(() =>
      validateProducedBatch(rawBatch({ records: [], recordCount: 0, lastOffsetDelta: 0, maxTimestamp: 0 }), NO_LIMITS),
    ).to.throw(InvalidRecordError, 'batch has 0 records but lastOffsetDelta 0; offsets must be dense');
    const one = encodeRecordBatch([{ key: null, value: null, timestamp: 1 }]);
    const two = new Uint8Array([...one, ...one]);
    expect(() => validateProducedBatch(two, NO_LIMITS)).to.throw(
      CorruptMessageError,
      `produce carries ${two.length} bytes but one batch of ${one.length}`,
    );
  });
});
