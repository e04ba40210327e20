import { expect } from 'chai';
import { encodeFetchResponse, ReusedBuffer } from '../../../src/protocol/grpc/fetchResponseEncoder.js';
import { varintSize } from '../../../src/protocol/grpc/protobufVarint.js';
import { ErrorCode, FetchResponse, type FetchPartitionResult } from '../../../src/protocol/generated/streamhouse.js';
import { agentServiceDefinition, StreamHouseService } from '../../../src/protocol/grpc/serviceDefinition.js';

/** Bytes of `length` counting up from `seed`, so misplaced bytes show. */
function bytes(length: number, seed = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i) & 0xff;
  return out;
}

function result(overrides: Partial<FetchPartitionResult> = {}): FetchPartitionResult {
  return {
    topic: 'orders',
    partition: 3,
    error: undefined,
    highWatermark: 120,
    logStartOffset: 7,
    records: bytes(10),
    ...overrides,
  };
}

/** Each case: what the generated encoder makes of it must come out of encodeFetchResponse byte for byte. */
const cases: [string, FetchResponse][] = [
  ['no results', { results: [] }],
  ['one partition', { results: [result()] }],
  [
    'several partitions, one of them empty',
    {
      results: [
        result(),
        result({ partition: 0, records: Buffer.alloc(0) }),
        result({ topic: 't2', records: bytes(3, 9) }),
      ],
    },
  ],
  [
    'a partition error with negative watermarks',
    {
      results: [
        result({
          error: { code: ErrorCode.OFFSET_OUT_OF_RANGE, message: 'offset 9 is outside' },
          highWatermark: -1,
          logStartOffset: -1,
          records: Buffer.alloc(0),
        }),
      ],
    },
  ],
  ['an error code of 0 and an empty message', { results: [result({ error: { code: 0, message: '' } })] }],
  [
    'every number at 0 and an empty topic',
    {
      results: [
        { topic: '', partition: 0, error: undefined, highWatermark: 0, logStartOffset: 0, records: Buffer.alloc(0) },
      ],
    },
  ],
  [
    'non-ASCII topic and error message',
    {
      results: [result({ topic: 'zähler-⚡-𝄞', error: { code: ErrorCode.CORRUPT_SEGMENT, message: 'prüfsumme ✗ 𝄞' } })],
    },
  ],
  [
    'large watermarks and partition numbers',
    {
      results: [result({ partition: 4_000_000_000, highWatermark: Number.MAX_SAFE_INTEGER, logStartOffset: 2 ** 40 })],
    },
  ],
  // lengths around the varint boundaries of the records (127/128, 16383/16384) and of the result around them
  ['records of 127 bytes', { results: [result({ records: bytes(127) })] }],
  ['records of 128 bytes', { results: [result({ records: bytes(128) })] }],
  ['records of 16383 bytes', { results: [result({ records: bytes(16383) })] }],
  ['records of 16384 bytes', { results: [result({ records: bytes(16384) })] }],
  [
    'records of 2 MiB + 1',
    {
      results: [
        result({ records: bytes(2 * 1024 * 1024 + 1, 5) }),
        result({ partition: 1, records: bytes(300_000, 77) }),
      ],
    },
  ],
];

describe('protocol/fetchResponseEncoder', () => {
  for (const [name, message] of cases) {
    it(`encodes ${name} exactly as the generated encoder does`, () => {
      const expected = Buffer.from(FetchResponse.encode(message).finish());
      const sizes: number[] = [];
      const encoded = encodeFetchResponse(message, (size) => {
        sizes.push(size);
        return new Uint8Array(size);
      });
      expect(sizes).to.deep.equal([expected.length]);
      expect(Buffer.from(encoded).equals(expected)).to.equal(true);
      expect(FetchResponse.decode(encoded)).to.deep.equal(FetchResponse.decode(expected));
    });
  }

  it('sizes varints as protobuf writes them', () => {
    expect(
      [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1].map(varintSize),
    ).to.deep.equal([1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  describe('ReusedBuffer', () => {
    it('hands out exactly the size asked for, filling its ArrayBuffer, in the same memory each time', () => {
      const buffer = new ReusedBuffer(1024);
      const first = buffer.take(100);
      expect(first.byteLength).to.equal(100);
      expect(first.byteOffset).to.equal(0);
      expect(first.buffer.byteLength).to.equal(100);
      first[0] = 42;
      const second = buffer.take(300);
      expect(second.buffer).to.equal(first.buffer);
      expect(second.buffer.byteLength).to.equal(300);
      expect(second[0]).to.equal(42); // the same memory: valid only until the next take
      const third = buffer.take(20);
      expect(third.buffer).to.equal(first.buffer);
      expect(third.buffer.byteLength).to.equal(20);
      expect(buffer.take(0).byteLength).to.equal(0);
    });

    it('gives a fresh buffer of its own to a size above its maximum', () => {
      const buffer = new ReusedBuffer(64);
      const small = buffer.take(64);
      const large = buffer.take(65);
      expect(large.byteLength).to.equal(65);
      expect(large.buffer.byteLength).to.equal(65);
      expect(large.buffer).to.not.equal(small.buffer);
      expect(buffer.take(10).buffer).to.equal(small.buffer);
    });
  });

  describe('agentServiceDefinition', () => {
    /**
     * What nice-grpc does with an answer: `Buffer.from(encode(fromPartial(value)).finish())`; grpc-js then copies it
     * into its frame.
     */
    function serialize(definition: ReturnType<typeof agentServiceDefinition>, message: FetchResponse): Buffer {
      const type = definition.methods.fetch.responseType;
      return Buffer.from(Buffer.from(type.encode(type.fromPartial(message)).finish()));
    }

    it('serializes Fetch answers as the generated encoder does, each into the same memory the caller copies', () => {
      const definition = agentServiceDefinition(16 * 1024 * 1024);
      const messages = [cases[2]![1], cases[3]![1], cases[12]![1], cases[0]![1]];
      const type = definition.methods.fetch.responseType;
      const views = messages.map((message) => Buffer.from(type.encode(type.fromPartial(message)).finish()));
      // Without a copy: every view shares the one reused ArrayBuffer.
      for (const view of views) expect(view.buffer).to.equal(views[0]!.buffer);
      for (const message of messages) {
        expect(serialize(definition, message).equals(Buffer.from(FetchResponse.encode(message).finish()))).to.equal(
          true,
        );
      }
    });

    it('leaves the other methods (apart from request decoding) and the client-side definition as they are', () => {
      const definition = agentServiceDefinition(1024);
      expect(Object.keys(definition.methods)).to.deep.equal(Object.keys(StreamHouseService.methods));
      expect(definition.methods.produce.responseType).to.equal(StreamHouseService.methods.produce.responseType);
      expect(definition.methods.produce.requestType.encode).to.equal(
        StreamHouseService.methods.produce.requestType.encode,
      );
      expect(definition.methods.produce.requestType.decode).to.not.equal(
        StreamHouseService.methods.produce.requestType.decode,
      );
      expect(definition.methods.fetch.name).to.equal(StreamHouseService.methods.fetch.name);
      expect(definition.fullName).to.equal(StreamHouseService.fullName);
      expect(definition.methods.fetch.responseType.decode).to.equal(
        StreamHouseService.methods.fetch.responseType.decode,
      );
      expect(StreamHouseService.methods.fetch.responseType.encode).to.not.equal(
        definition.methods.fetch.responseType.encode,
      );
    });
  });
});
