import { expect } from 'chai';
import { CorruptMessageError } from '../../../src/protocol/errors.js';
import {
  codecFromAttributes,
  codecId,
  lz4Compress,
  lz4Decompress,
  type CompressionCodec,
} from '../../../src/protocol/codec/compression.js';

describe('protocol/compression', () => {
  it('maps codec names to attribute ids and back', () => {
    expect(['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((c) => codecId(c as CompressionCodec))).to.deep.equal([
      0, 1, 2, 3, 4,
    ]);
    expect([1, 2, 4].map(codecFromAttributes)).to.deep.equal(['gzip', 'snappy', 'zstd']);
    expect([codecFromAttributes(0), codecFromAttributes(3), codecFromAttributes(0x7ff8 | 3)]).to.deep.equal([
      'none',
      'lz4',
      'lz4',
    ]);
    expect(() => codecFromAttributes(5)).to.throw(CorruptMessageError, 'codec 5 (reserved) is not supported');
  });

  it('reads and writes the legacy format: a little-endian size prefix and an LZ4 block', () => {
    const input = new Uint8Array(Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabc-'.repeat(30)));
    const compressed = lz4Compress(input);
    expect(Buffer.from(compressed).readUInt32LE(0)).to.equal(input.length);
    expect(compressed.length).to.be.lessThan(input.length / 4);
    expect(Buffer.from(lz4Decompress(compressed)).equals(Buffer.from(input))).to.equal(true);
  });

  it('refuses a declared size above maxSize before decompressing', () => {
    const compressed = lz4Compress(new Uint8Array(1000));
    expect(lz4Decompress(compressed, 1000)).to.have.length(1000);
    expect(() => lz4Decompress(compressed, 999)).to.throw(CorruptMessageError, 'declares 1000 bytes from');
  });

  it('wraps the decompressor failures (thrown as strings) in CorruptMessageError with the cause', () => {
    const garbage = new Uint8Array([10, 0, 0, 0, 0xff, 0xff, 0xff]);
    try {
      lz4Decompress(garbage);
      expect.fail('decompressed garbage');
    } catch (error) {
      expect(error).to.be.instanceOf(CorruptMessageError);
      expect((error as Error).message).to.match(/^lz4 payload does not decompress: /);
      expect(typeof (error as Error).cause).to.equal('string');
    }
    expect(() => lz4Decompress(new Uint8Array([1, 0]))).to.throw(CorruptMessageError, 'shorter than its size prefix');
  });
});
