/**
 * Every kind of damaged segment makes the reader fail with CorruptSegmentError naming the object and the offset asked
 * for.
 */
import { crc32c } from '@node-rs/crc32';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptSegmentError, type StreamHouseError, UnsupportedVersionError } from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { SEGMENT_TRAILER_SIZE } from '../../src/storage/segmentFooter.js';
import { SegmentReader } from '../../src/storage/segmentReader.js';
import { buildSegment } from '../../src/storage/segmentWriter.js';
import { fakeBatches } from '../support/fakeBatch.js';
import { rejection } from './objectStore.contract.js';

// 12 batches of 261 bytes holding offsets 500..511; an index entry every 2 batches (interval 500).
const BATCH = 261;
const batches = fakeBatches(500, Array(12).fill(200));
const segment = buildSegment(batches, { indexIntervalBytes: 500 });
const DATA = 12 * BATCH;
const ENTRIES = 6;
const INDEX = DATA; // index position
const TRAILER = DATA + ENTRIES * 8;

/** A copy of the segment with `edit` applied to it. */
function damaged(edit: (bytes: Buffer) => void): Buffer {
  const bytes = Buffer.from(segment.bytes);
  edit(bytes);
  return bytes;
}

/** XORs one byte. */
function flip(bytes: Buffer, at: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ mask, at);
}

/** Recomputes the footer CRC so that only the structural checks can catch an edit. */
function resealed(edit: (bytes: Buffer) => void): Buffer {
  return damaged((bytes) => {
    edit(bytes);
    const entries = bytes.readUInt32BE(bytes.length - SEGMENT_TRAILER_SIZE + 40);
    const footerStart = bytes.length - SEGMENT_TRAILER_SIZE - entries * 8;
    bytes.writeUInt32BE(
      crc32c(bytes.subarray(footerStart, bytes.length - SEGMENT_TRAILER_SIZE + 48)) >>> 0,
      bytes.length - SEGMENT_TRAILER_SIZE + 48,
    );
  });
}

type Damage = {
  name: string;
  bytes: Buffer;
  /** Offset to read (default 500). */
  offset?: number;
  /** Size the registry claims (default the damaged object's size). */
  sizeBytes?: number;
  /** Damage that only a data read can see: the footer itself is fine. */
  dataOnly?: boolean;
};

const DAMAGES: Damage[] = [
  { name: 'bad magic', bytes: damaged((b) => (b[b.length - 1] = 0x58)) },
  { name: 'flipped index byte', bytes: damaged((b) => flip(b, INDEX + 13, 0x01)) },
  { name: 'flipped trailer field (minTimestamp)', bytes: damaged((b) => flip(b, TRAILER + 20, 0x40)) },
  { name: 'flipped stored checksum', bytes: damaged((b) => flip(b, TRAILER + 48, 0x80)) },
  { name: 'truncated: last 10 bytes cut', bytes: segment.bytes.subarray(0, segment.sizeBytes - 10) },
  { name: 'truncated below the trailer size', bytes: segment.bytes.subarray(0, 40) },
  { name: 'empty object', bytes: Buffer.alloc(0) },
  {
    name: 'data cut out, footer kept',
    bytes: Buffer.concat([segment.bytes.subarray(0, DATA - 100), segment.bytes.subarray(DATA)]),
  },
  { name: 'object shorter than the registry says', bytes: segment.bytes, sizeBytes: segment.sizeBytes + 100 },
  {
    name: 'index position beyond the data (valid CRC)',
    bytes: resealed((b) => b.writeUInt32BE(INDEX + 8, TRAILER + 36)),
  },
  {
    name: 'index entry pointing past the data (valid CRC)',
    bytes: resealed((b) => b.writeUInt32BE(DATA + 10, INDEX + 3 * 8 + 4)),
  },
  {
    name: 'index entry offset past endOffset (valid CRC)',
    bytes: resealed((b) => b.writeUInt32BE(500, INDEX + 5 * 8)),
  },
  { name: 'index entries out of order (valid CRC)', bytes: resealed((b) => b.writeUInt32BE(BATCH, INDEX + 2 * 8 + 4)) },
  { name: 'first index entry not at byte 0 (valid CRC)', bytes: resealed((b) => b.writeUInt32BE(BATCH, INDEX + 4)) },
  {
    name: 'more index entries than the object holds (valid CRC)',
    bytes: resealed((b) => b.writeUInt32BE(ENTRIES + 1, TRAILER + 40)),
  },
  { name: 'endOffset not after baseOffset (valid CRC)', bytes: resealed((b) => b.writeBigInt64BE(500n, TRAILER + 8)) },
  {
    name: 'baseOffset beyond safe integers (valid CRC)',
    bytes: resealed((b) => b.writeBigInt64BE(2n ** 60n, TRAILER)),
  },
  { name: 'zero batches (valid CRC)', bytes: resealed((b) => b.writeUInt32BE(0, TRAILER + 32)) },
  { name: 'wrong trailer length', bytes: damaged((b) => b.writeUInt16BE(64, TRAILER + 54)) },
  { name: 'batch with a bad magic byte', bytes: damaged((b) => (b[5 * BATCH + 16] = 1)), offset: 505, dataOnly: true },
  {
    name: 'batch length running into the next batch',
    bytes: damaged((b) => b.writeInt32BE(BATCH - 12 + 30, 4 * BATCH + 8)),
    offset: 504,
    dataOnly: true,
  },
  {
    name: 'batch length past the object',
    bytes: damaged((b) => b.writeInt32BE(0x7fff_0000, 11 * BATCH + 8)),
    offset: 511,
    dataOnly: true,
  },
  {
    name: 'batch base offset disagreeing with the index',
    bytes: damaged((b) => b.writeBigInt64BE(600n, 4 * BATCH)),
    offset: 505,
    dataOnly: true,
  },
  {
    name: 'offset gap inside a block',
    bytes: damaged((b) => b.writeBigInt64BE(506n, 5 * BATCH)),
    offset: 504,
    dataOnly: true,
  },
  {
    name: 'last batch ending before endOffset',
    bytes: damaged((b) => b.writeBigInt64BE(510n, 11 * BATCH)),
    offset: 510,
    dataOnly: true,
  },
];

describe('storage/SegmentReader on damaged segments', () => {
  let dir: string;
  let store: LocalDirectoryObjectStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-segcorrupt-'));
    store = new LocalDirectoryObjectStore({ root: dir });
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the undamaged segment (the damages below are the only difference)', async () => {
    await store.put('topics/t/0/intact.seg', segment.bytes);
    const reader = new SegmentReader();
    const footer = await reader.readFooter(store, 'topics/t/0/intact.seg');
    expect([...footer.positions]).to.deep.equal([0, 2, 4, 6, 8, 10].map((i) => i * BATCH));
    for (let offset = 500; offset < 512; offset++) {
      const read = await reader.readBatches(store, 'topics/t/0/intact.seg', offset, 0);
      expect(read.bytes.equals(batches[offset - 500]!)).to.equal(true);
    }
  });

  for (const [i, damage] of DAMAGES.entries()) {
    it(`raises CorruptSegmentError for: ${damage.name}`, async () => {
      const key = `topics/t/0/damaged-${i}.seg`;
      const offset = damage.offset ?? 500;
      await store.put(key, damage.bytes);
      const hint = { sizeBytes: damage.sizeBytes ?? damage.bytes.length };
      const error = await rejection(new SegmentReader().readBatches(store, key, offset, 1000, hint));
      expect(error).to.be.instanceOf(CorruptSegmentError);
      expect((error as StreamHouseError).code).to.equal('CORRUPT_SEGMENT');
      expect((error as StreamHouseError).context).to.deep.equal({ objectKey: key, offset });
      expect((error as Error).message).to.contain(key);
      if (!damage.dataOnly) {
        const footerError = await rejection(new SegmentReader().readFooter(store, key, hint));
        expect(footerError).to.be.instanceOf(CorruptSegmentError);
        expect((footerError as StreamHouseError).context.objectKey).to.equal(key);
      }
    });
  }

  it('raises UnsupportedVersionError for a footer of an unknown version', async () => {
    const key = 'topics/t/0/future.seg';
    await store.put(
      key,
      damaged((b) => b.writeUInt16BE(2, TRAILER + 52)),
    );
    const error = await rejection(new SegmentReader().readBatches(store, key, 503, 10));
    expect(error).to.be.instanceOf(UnsupportedVersionError);
    expect((error as StreamHouseError).context).to.deep.equal({ objectKey: key, offset: 503 });
  });

  it('keeps no damaged block in the cache', async () => {
    const key = 'topics/t/0/damaged-cached.seg';
    await store.put(
      key,
      damaged((b) => (b[5 * BATCH + 16] = 1)),
    );
    const reader = new SegmentReader();
    expect(await rejection(reader.readBatches(store, key, 505, 0))).to.be.instanceOf(CorruptSegmentError);
    expect(await rejection(reader.readBatches(store, key, 505, 0))).to.be.instanceOf(CorruptSegmentError);
    // Blocks before the damaged one still read.
    const read = await reader.readBatches(store, key, 500, 0);
    expect(read.bytes.equals(batches[0]!)).to.equal(true);
  });
});
