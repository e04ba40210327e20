import { expect } from 'chai';
import { ProduceRequest } from '../../../src/protocol/generated/streamhouse.js';
import { MIN_PADDING_BYTES, writePadding } from '../../../src/protocol/grpc/messagePadding.js';
import { readLengthDelimitedFields } from '../fixtures/protobufFields.js';

describe('protocol/writePadding', () => {
  it('fills every size from 2 to 20,000 bytes exactly, with one field where one fits and two where none does', () => {
    for (let size = MIN_PADDING_BYTES; size <= 20_000; size++) {
      const target = Buffer.alloc(size + 4, 0xaa);
      writePadding(target, 2, 2 + size);
      const fields = readLengthDelimitedFields(target.subarray(2, 2 + size));
      const noSingleField = size === 130 || size === 16_387;
      expect(
        fields.map((field) => field.fieldNumber),
        `size ${size}`,
      ).to.deep.equal(noSingleField ? [15, 15] : [15]);
      expect(
        fields.reduce((sum, field) => sum + field.encodedBytes, 0),
        `size ${size}`,
      ).to.equal(size);
      expect([target[0], target[1], target[size + 2], target[size + 3]], `bytes outside, size ${size}`).to.deep.equal([
        0xaa, 0xaa, 0xaa, 0xaa,
      ]);
      const lastContent = target.subarray(2 + size - fields[fields.length - 1]!.length, 2 + size);
      expect(
        lastContent.every((byte) => byte === 0),
        `content zeroed, size ${size}`,
      ).to.equal(true);
    }
  });

  it('writes the exact bytes: tag 0x7a, the length, zeroed content (nothing earlier in the buffer goes out)', () => {
    const target = Buffer.alloc(6, 0xaa);
    writePadding(target, 0, 6);
    expect([...target]).to.deep.equal([0x7a, 4, 0, 0, 0, 0]);
    const split = Buffer.alloc(130, 0xaa);
    writePadding(split, 0, 130);
    expect([...split.subarray(0, 5)]).to.deep.equal([0x7a, 0, 0x7a, 126, 0]);
    expect(split.subarray(4).every((byte) => byte === 0)).to.equal(true);
  });

  it('writes nothing for an empty range and refuses one byte or a reversed range', () => {
    const target = Buffer.alloc(4, 0xaa);
    writePadding(target, 3, 3);
    expect([...target]).to.deep.equal([0xaa, 0xaa, 0xaa, 0xaa]);
    expect(() => writePadding(target, 1, 2)).to.throw(
      RangeError,
      'cannot pad 1 byte(s): padding takes 0 or at least 2',
    );
    expect(() => writePadding(target, 3, 1)).to.throw(RangeError, 'cannot pad -2 byte(s)');
  });

  it('is read past by the generated decoder: the request decodes with its fields intact', () => {
    const request = ProduceRequest.encode(
      ProduceRequest.fromPartial({ acks: 2, producerId: 7, producerEpoch: 1, timeoutMs: 900 }),
    ).finish();
    const padded = Buffer.alloc(request.length + 300);
    padded.set(request, 0);
    writePadding(padded, request.length, padded.length);
    const decoded = ProduceRequest.decode(padded);
    expect({
      acks: decoded.acks,
      producerId: decoded.producerId,
      producerEpoch: decoded.producerEpoch,
      timeoutMs: decoded.timeoutMs,
    }).to.deep.equal({
      acks: 2,
      producerId: 7,
      producerEpoch: 1,
      timeoutMs: 900,
    });
    expect(decoded.padding.length).to.equal(300 - 3);
  });
});
