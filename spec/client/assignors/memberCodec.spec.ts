import { expect } from 'chai';
import fc from 'fast-check';
import { CorruptMessageError, InvalidRequestError } from '../../../src/protocol/errors.js';
import {
  MEMBER_CODEC_VERSION,
  decodeAssignment,
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
  type Assignment,
  type MemberMetadata,
} from '../../../src/client/assignors/index.js';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

function expectCorrupt(decode: () => unknown, fragment: string | RegExp): void {
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).to.be.instanceOf(CorruptMessageError);
  expect((thrown as CorruptMessageError).code).to.equal('CORRUPT_MESSAGE');
  const message = (thrown as Error).message;
  if (typeof fragment === 'string') expect(message).to.contain(fragment);
  else expect(message).to.match(fragment);
}

// version 1, topics [a, b], owned a:[0, 2], generation 3, userData [09]
const METADATA_HEX = `
  0001
  00000002 0001 61 0001 62
  00000001 0001 61 00000002 00000000 00000002
  00000003
  00000001 09`;

// version 1, partitions a:[1], userData absent
const ASSIGNMENT_HEX = '0001 00000001 0001 61 00000001 00000001 ffffffff';

describe('client/assignors/memberCodec', () => {
  it('writes member metadata in the documented layout, sorted', () => {
    const bytes = encodeMemberMetadata({
      version: MEMBER_CODEC_VERSION,
      topics: ['b', 'a'],
      ownedPartitions: [{ topic: 'a', partitions: [2, 0] }],
      generation: 3,
      userData: new Uint8Array([9]),
    });
    expect(hex(bytes)).to.equal(hex(fromHex(METADATA_HEX)));
  });

  it('reads the documented member metadata layout back', () => {
    expect(decodeMemberMetadata(fromHex(METADATA_HEX))).to.deep.equal({
      version: 1,
      topics: ['a', 'b'],
      ownedPartitions: [{ topic: 'a', partitions: [0, 2] }],
      generation: 3,
      userData: new Uint8Array([9]),
    });
  });

  it('omits absent generation and userData', () => {
    const bytes = encodeMemberMetadata({ version: 1, topics: ['t'], ownedPartitions: [] });
    expect(hex(bytes)).to.equal('0001' + '00000001' + '0001' + '74' + '00000000' + 'ffffffff' + 'ffffffff');
    expect(decodeMemberMetadata(bytes)).to.deep.equal({ version: 1, topics: ['t'], ownedPartitions: [] });
  });

  it('writes and reads assignments', () => {
    const bytes = encodeAssignment({ version: 1, partitions: [{ topic: 'a', partitions: [1] }] });
    expect(hex(bytes)).to.equal(hex(fromHex(ASSIGNMENT_HEX)));
    expect(decodeAssignment(bytes)).to.deep.equal({ version: 1, partitions: [{ topic: 'a', partitions: [1] }] });
    const withUserData = encodeAssignment({ version: 1, partitions: [], userData: new Uint8Array([1, 2]) });
    expect(hex(withUserData)).to.equal('0001' + '00000000' + '00000002' + '0102');
    expect(decodeAssignment(withUserData).userData).to.deep.equal(new Uint8Array([1, 2]));
  });

  it('round-trips multi-byte UTF-8 topic names', () => {
    const metadata: MemberMetadata = {
      version: 1,
      topics: ['zürich', '订单'],
      ownedPartitions: [{ topic: '订单', partitions: [7] }],
    };
    expect(decodeMemberMetadata(encodeMemberMetadata(metadata))).to.deep.equal(metadata);
  });

  it('rejects every truncation of valid bytes', () => {
    for (const [full, decode] of [
      [fromHex(METADATA_HEX), decodeMemberMetadata],
      [fromHex(ASSIGNMENT_HEX), decodeAssignment],
    ] as const) {
      for (let length = 0; length < full.length; length++) {
        // A cut inside an array count's items is caught by the size bound first.
        expectCorrupt(() => decode(full.subarray(0, length)), /truncated|cannot fit/);
      }
    }
  });

  it("reads Kafka's version 0 (KafkaJS): topics and user data, nothing after them", () => {
    expect(decodeMemberMetadata(fromHex('0000 00000001 0001 61 00000000'))).to.deep.equal({
      version: 0,
      topics: ['a'],
      ownedPartitions: [],
      userData: new Uint8Array(0),
    });
    expect(decodeAssignment(fromHex('0000 00000001 0001 61 00000001 00000001 00000000'))).to.deep.equal({
      version: 0,
      partitions: [{ topic: 'a', partitions: [1] }],
      userData: new Uint8Array(0),
    });
    expectCorrupt(
      () => decodeMemberMetadata(fromHex('0000 00000000 00000000 ffffffff ffffffff')),
      '8 unexpected trailing bytes',
    );
  });

  it('rejects versions below 0', () => {
    expectCorrupt(
      () => decodeMemberMetadata(fromHex('ffff 00000000 00000000 ffffffff ffffffff')),
      'invalid version -1',
    );
    expectCorrupt(() => decodeAssignment(fromHex('ffff 00000000 ffffffff')), 'invalid version -1');
  });

  it('rejects trailing bytes at version 1 but ignores them from a newer version', () => {
    expectCorrupt(() => decodeAssignment(fromHex(`${ASSIGNMENT_HEX}00`)), '1 unexpected trailing bytes');
    const newer = fromHex(`0002${ASSIGNMENT_HEX.slice(4)}cafe`);
    expect(decodeAssignment(newer)).to.deep.equal({ version: 2, partitions: [{ topic: 'a', partitions: [1] }] });
  });

  it('rejects negative and impossible lengths', () => {
    expectCorrupt(() => decodeAssignment(fromHex('0001 fffffffe ffffffff')), 'negative array length -2');
    expectCorrupt(() => decodeAssignment(fromHex('0001 7fffffff ffffffff')), 'array of 2147483647 items cannot fit');
    expectCorrupt(() => decodeAssignment(fromHex('0001 00000000 fffffffe')), 'negative bytes length -2');
    expectCorrupt(() => decodeAssignment(fromHex('0001 00000001 ffff 00000000 ffffffff')), 'negative string length');
  });

  it('rejects invalid UTF-8, empty topics, negative or unsorted partitions, unsorted topics', () => {
    expectCorrupt(() => decodeAssignment(fromHex('0001 00000001 0001 ff 00000000 ffffffff')), 'not valid UTF-8');
    expectCorrupt(() => decodeAssignment(fromHex('0001 00000001 0000 00000000 ffffffff')), 'empty topic name');
    expectCorrupt(
      () => decodeAssignment(fromHex('0001 00000001 0001 61 00000001 ffffffff ffffffff')),
      'negative partition -1 of a',
    );
    expectCorrupt(
      () => decodeAssignment(fromHex('0001 00000001 0001 61 00000002 00000001 00000001 ffffffff')),
      'partitions of a not strictly ascending',
    );
    expectCorrupt(
      () => decodeAssignment(fromHex('0001 00000002 0001 62 00000000 0001 61 00000000 ffffffff')),
      'topics of a partition list not strictly ascending',
    );
    expectCorrupt(
      () => decodeMemberMetadata(fromHex('0001 00000002 0001 62 0001 61 00000000 ffffffff ffffffff')),
      'subscribed topics not strictly ascending',
    );
    expectCorrupt(
      () => decodeMemberMetadata(fromHex('0001 00000000 00000000 fffffffe ffffffff')),
      'generation -2 below -1',
    );
  });

  it('refuses to encode duplicates, empty topics, bad partitions and bad generations', () => {
    const base: MemberMetadata = { version: 1, topics: ['a'], ownedPartitions: [] };
    expect(() => encodeMemberMetadata({ ...base, topics: ['a', 'a'] })).to.throw(
      InvalidRequestError,
      'duplicate subscribed topic: a',
    );
    expect(() => encodeMemberMetadata({ ...base, topics: [''] })).to.throw(InvalidRequestError, 'must not be empty');
    expect(() => encodeMemberMetadata({ ...base, generation: -2 })).to.throw(InvalidRequestError, 'generation');
    const bad = (partitions: TopicPartitionsLike): Assignment => ({ version: 1, partitions });
    expect(() => encodeAssignment(bad([{ topic: 'a', partitions: [1, 1] }]))).to.throw(
      InvalidRequestError,
      'duplicate partition of a: 1',
    );
    expect(() => encodeAssignment(bad([{ topic: 'a', partitions: [-1] }]))).to.throw(
      InvalidRequestError,
      'invalid partition -1 of a',
    );
    expect(() => encodeAssignment(bad([{ topic: 'a', partitions: [1.5] }]))).to.throw(
      InvalidRequestError,
      'invalid partition 1.5',
    );
    expect(() =>
      encodeAssignment(
        bad([
          { topic: 'a', partitions: [0] },
          { topic: 'a', partitions: [1] },
        ]),
      ),
    ).to.throw(InvalidRequestError, 'topic a listed twice');
  });

  it('round-trips any normalised metadata and assignment (property)', () => {
    const topic = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
    const sortedUnique = <T extends string | number>(values: T[]) =>
      [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const topicPartitions = fc
      .uniqueArray(fc.tuple(topic, fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 6 })), {
        selector: ([name]) => name,
        maxLength: 5,
      })
      .map((entries) =>
        entries
          .map(([name, partitions]) => ({ topic: name, partitions: sortedUnique(partitions) }))
          .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
      );
    const userData = fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.array(topic, { maxLength: 6 }).map(sortedUnique),
        topicPartitions,
        fc.option(fc.integer({ min: 0, max: 0x7fffffff }), { nil: undefined }),
        userData,
        (topics, owned, generation, data) => {
          const metadata: MemberMetadata = { version: 1, topics, ownedPartitions: owned };
          if (generation !== undefined) metadata.generation = generation;
          if (data !== undefined) metadata.userData = data;
          expect(decodeMemberMetadata(encodeMemberMetadata(metadata))).to.deep.equal(metadata);
          const assignment: Assignment = { version: 1, partitions: owned };
          if (data !== undefined) assignment.userData = data;
          expect(decodeAssignment(encodeAssignment(assignment))).to.deep.equal(assignment);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws anything but CorruptMessageError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const decode of [decodeMemberMetadata, decodeAssignment]) {
          try {
            decode(bytes);
          } catch (error) {
            expect(error).to.be.instanceOf(CorruptMessageError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

type TopicPartitionsLike = Assignment['partitions'];
