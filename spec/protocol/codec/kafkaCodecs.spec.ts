/**
 * The Kafka codecs: round trips through our encoder and decoder, payloads
 * written by the reference tools (lz4, zstd CLIs), snappy in both framings,
 * and hostile payloads (garbage, declared sizes and decompression bombs past
 * the limit) refused with CorruptMessageError before allocating the output.
 */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { CorruptMessageError } from '../../../src/protocol/errors.js';
import { compressRecords, decompressRecords, type CompressionCodec } from '../../../src/protocol/codec/compression.js';
import { LZ4_FRAME_MAGIC, lz4FrameCompress } from '../../../src/protocol/codec/compress/lz4Frame.js';
import { xxhash32 } from '../../../src/protocol/codec/compress/xxhash32.js';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../../src/protocol/codec/recordBatch.js';

const unhex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const MiB = 1024 * 1024;

/** `zstd --no-content-size` of 'hello zstd ' x 1000, from stdin. */
const ZSTD_TEXT = '28b52ffd04589d00005868656c6c6f207a737464200100eaca7cf102b41b769d';
/** `zstd -19` of 512 KiB of zeros from stdin: an 8 MiB window. */
const ZSTD_8MIB_WINDOW = '28b52ffd04684c000008000100fcff39100202001000020010000300100052c505b6';
/** `zstd --zstd=wlog=17` of 2 MiB of zeros: a 128 KiB window, no content size. */
const ZSTD_2MIB_ZEROS =
  '28b52ffd04385400001000000100fbff39c002020010000200100002001000020010000200100002001000020010004c' +
  '000008000100fcffe44e0802001000020010000200100002001000020010000200100002001000010000db238ef8';
/** `lz4 -BX --content-size` of 'hello lz4 ' x 1000: linked blocks, content size and checksum. */
const LZ4_CLI_TEXT =
  '04224d187440bd3b000000af68656c6c6f206c7a34200a00ffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffff1550206c7a34207961d89d00000000bb8d7f10';

/** Raw snappy of 'abcd' x 5: length 20, literal 'abcd', copy of 16 from 4 back. */
const SNAPPY_RAW = new Uint8Array([20, 3 << 2, 0x61, 0x62, 0x63, 0x64, ((16 - 1) << 2) | 2, 4, 0]);

function xerial(...blocks: Uint8Array[]): Uint8Array {
  const header = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
  const parts = blocks.flatMap((b) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(b.length);
    return [length, Buffer.from(b)];
  });
  return new Uint8Array(Buffer.concat([Buffer.from(header), ...parts]));
}

function refused(codec: CompressionCodec, bytes: Uint8Array, limit: number, pattern: RegExp): void {
  expect(() => decompressRecords(codec, bytes, limit), `${codec} ${pattern}`).to.throw(CorruptMessageError, pattern);
}

describe('protocol/Kafka codecs', () => {
  it('computes xxHash32 as the reference does', () => {
    const ascii = (s: string) => new Uint8Array(Buffer.from(s));
    expect([xxhash32(ascii('')), xxhash32(ascii('a')), xxhash32(ascii('abc'))]).to.deep.equal([
      0x02cc5d05, 0x550d7456, 0x32d153ff,
    ]);
    expect(xxhash32(ascii('Nobody inspects the spammish repetition'))).to.equal(0xe2293b2f);
  });

  describe('round trips through our encoder and decoder', () => {
    const records: RecordInput[] = Array.from({ length: 300 }, (_, i) => ({
      key: Buffer.from(`key-${i % 7}`),
      value: Buffer.from(`value ${i} `.repeat(1 + (i % 30))),
      headers: [{ key: 'h', value: Buffer.from(String(i)) }],
      timestamp: 1_700_000_000_000 + i,
    }));
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      it(`${compression}: decodes exactly what it encoded, and compresses`, () => {
        const plain = encodeRecordBatch(records);
        const bytes = encodeRecordBatch(records, { compression });
        expect(bytes.length).to.be.lessThan(plain.length / 4);
        const batch = decodeRecordBatch(bytes);
        expect(batch.compression).to.equal(compression);
        expect(
          batch.records.map((r) => [r.offset, text(r.key!), text(r.value!), text(r.headers[0]!.value!)]),
        ).to.deep.equal(records.map((r, i) => [i, text(r.key!), text(r.value!), String(i)]));
      });
    }

    it('lz4 writes frames of 64 KiB blocks, stored raw when they do not compress', () => {
      const random = new Uint8Array(200 * 1024).map((_, i) => (i * 2654435761) >>> 24);
      const frame = lz4FrameCompress(random);
      expect(Buffer.from(frame).readUInt32LE(0)).to.equal(LZ4_FRAME_MAGIC);
      expect(Buffer.from(decompressRecords('lz4', frame, random.length)).equals(Buffer.from(random))).to.equal(true);
      expect(decompressRecords('lz4', lz4FrameCompress(new Uint8Array(0)), 0)).to.have.length(0);
    });
  });

  describe('payloads our encoder writes, read by other tools', () => {
    it('zstd: the zstd CLI decodes our frame', () => {
      const input = Buffer.from('hello zstd from StreamHouse '.repeat(500));
      const frame = compressRecords('zstd', input);
      expect(frame.length).to.be.lessThan(input.length / 20);
      expect(execFileSync('zstd', ['-d', '-c'], { input: frame }).equals(input)).to.equal(true);
    });

    it('snappy: one raw block, its length varint first', () => {
      const input = Buffer.from('abcd'.repeat(300));
      const block = compressRecords('snappy', input);
      expect([block[0], block[1]]).to.deep.equal([0xb0, 0x09]); // 1200 as a varint
      expect(Buffer.from(decompressRecords('snappy', block, 1200)).equals(input)).to.equal(true);
      expect(block.length).to.be.lessThan(input.length / 10);
    });
  });

  describe('payloads written by other tools', () => {
    it('gzip from node:zlib, several members', () => {
      const two = Buffer.concat([gzipSync('first '), gzipSync('second')]);
      expect(text(decompressRecords('gzip', two, 100))).to.equal('first second');
    });

    it('lz4 frames from the lz4 CLI: linked blocks, content size and content checksum', () => {
      expect(text(decompressRecords('lz4', unhex(LZ4_CLI_TEXT), 10_000))).to.equal('hello lz4 '.repeat(1000));
      const wrongChecksum = unhex(LZ4_CLI_TEXT);
      wrongChecksum[wrongChecksum.length - 1]! ^= 1;
      refused('lz4', wrongChecksum, 10_000, /^lz4 frame has a wrong content checksum$/);
      const wrongHeader = unhex(LZ4_CLI_TEXT);
      wrongHeader[6]! ^= 1; // a content-size byte: the descriptor checksum no longer matches
      refused('lz4', wrongHeader, 1_000_000, /^lz4 frame has a wrong descriptor checksum$/);
    });

    it('zstd from the zstd CLI, one frame or several', () => {
      expect(text(decompressRecords('zstd', unhex(ZSTD_TEXT), 11_000))).to.equal('hello zstd '.repeat(1000));
      const twice = Buffer.concat([unhex(ZSTD_TEXT), unhex(ZSTD_TEXT)]);
      expect(text(decompressRecords('zstd', twice, 22_000))).to.equal('hello zstd '.repeat(2000));
    });

    it('snappy as raw blocks (librdkafka, KafkaJS) and in xerial framing (the Java client)', () => {
      expect(text(decompressRecords('snappy', SNAPPY_RAW, 20))).to.equal('abcd'.repeat(5));
      expect(text(decompressRecords('snappy', xerial(SNAPPY_RAW, SNAPPY_RAW), 40))).to.equal('abcd'.repeat(10));
    });
  });

  describe('hostile payloads', () => {
    it('garbage, in every codec', () => {
      const garbage = new Uint8Array([0xff, 0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]);
      refused('gzip', garbage, MiB, /^gzip payload does not decompress/);
      refused('snappy', garbage, MiB, /^snappy payload refers \d+ bytes back, before its start$/);
      refused('lz4', garbage, MiB, /^lz4 payload declares/); // no frame magic: read as the legacy format
      refused('zstd', garbage, MiB, /^zstd payload has no frame magic$/);
      refused('zstd', new Uint8Array(0), MiB, /^zstd payload is empty$/);
      const truncatedFrame = lz4FrameCompress(new Uint8Array(1000)).subarray(0, 12);
      refused('lz4', truncatedFrame, MiB, /^lz4 frame ends inside a block$/);
      refused('zstd', unhex(ZSTD_TEXT).subarray(0, 20), MiB, /^zstd payload ends inside a block$/);
      refused('snappy', new Uint8Array([20, 3 << 2, 0x61]), MiB, /^snappy literal runs past the block$/);
      refused('snappy', new Uint8Array([8, (3 << 2) | 2, 9, 0]), MiB, /refers 9 bytes back, before its start$/);
    });

    it('gzip bombs stop at the limit', () => {
      refused('gzip', gzipSync(Buffer.alloc(2 * MiB)), MiB, /^gzip payload decompresses past 1048576 bytes/);
      expect(decompressRecords('gzip', gzipSync(Buffer.alloc(MiB)), MiB)).to.have.length(MiB);
    });

    it('lz4 bombs: a declared content size over the limit is refused before decoding, others stop at the limit', () => {
      refused('lz4', lz4FrameCompress(new Uint8Array(2 * MiB)), MiB, /^lz4 payload decompresses past 1048576 bytes$/);
      const declared = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0x80, 0, 0, 0, 0, 0]);
      declared[14] = (xxhash32(declared, 4, 14) >>> 8) & 0xff;
      refused('lz4', new Uint8Array(declared), MiB, /^lz4 frame declares 2147483648 bytes \(limit 1048576\)$/);
      const hugeBlock = Buffer.from(lz4FrameCompress(new Uint8Array(10)));
      hugeBlock.writeUInt32LE(0x7fffffff, 7);
      refused(
        'lz4',
        new Uint8Array(hugeBlock),
        MiB,
        /^lz4 frame has a block of 2147483647 bytes over its maximum 65536$/,
      );
    });

    it('snappy: a declared length over the limit is refused before decoding, and a block may not outgrow it', () => {
      refused('snappy', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x07]), MiB, /declares 2147483647 bytes/);
      refused('snappy', xerial(SNAPPY_RAW, SNAPPY_RAW), 39, /^snappy block declares 20 bytes \(limit 39\)$/);
      const lying = new Uint8Array([4, 3 << 2, 0x61, 0x62, 0x63, 0x64, ((16 - 1) << 2) | 2, 4, 0]);
      refused('snappy', lying, MiB, /^snappy block decodes past its declared 4 bytes$/);
    });

    it('zstd: a window or content size over the limit is refused before decoding, a stream stops at the limit', () => {
      // an 8 MiB window decodes within a smaller limit: the window is lowered to it
      expect(decompressRecords('zstd', unhex(ZSTD_8MIB_WINDOW), 512 * 1024)).to.have.length(512 * 1024);
      refused('zstd', unhex(ZSTD_8MIB_WINDOW), 512 * 1024 - 1, /^zstd payload decompresses past 524287 bytes$/);
      const declared = unhex(ZSTD_TEXT);
      declared[4] = 0x84; // a 4-byte content size after the window byte
      declared[6] = 0xff;
      declared[7] = 0xff;
      declared[8] = 0xff;
      declared[9] = 0x7f;
      refused('zstd', declared, MiB, /^zstd payload declares 2147483647 bytes \(limit 1048576\)$/);
      refused('zstd', unhex(ZSTD_2MIB_ZEROS), MiB, /^zstd payload decompresses past 1048576 bytes$/);
      expect(decompressRecords('zstd', unhex(ZSTD_2MIB_ZEROS), 2 * MiB)).to.have.length(2 * MiB);
    });
  });
});
