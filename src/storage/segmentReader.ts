/**
 * Reads batches out of segment objects with as few store requests as
 * possible, keeping recently used footers and data blocks in two byte-bounded
 * LRU caches.
 *
 * - Footer: one ranged read of the object's last `tailReadBytes` (64 KiB)
 *   holds the whole footer of any segment buildSegment makes (it caps the
 *   index at 8000 entries); a bigger footer costs one more read. When the
 *   caller does not pass the object's size (the segment registry has it),
 *   a `head` comes first.
 * - Data: the index names the block (the bytes between two index entries)
 *   holding the wanted offset; the blocks needed for `maxBytes` that are not
 *   cached are fetched in one ranged read, checked and cached.
 *
 * Segment objects are immutable: a key must never be rewritten with other
 * content while readers may hold it cached (passing `sizeBytes` catches a
 * rewrite of another size; {@link SegmentReader.invalidate} forgets a key).
 *
 * Errors: CorruptSegmentError (context: objectKey and the offset asked for)
 * for anything that fails a check, UnsupportedVersionError for an unknown
 * footer version, OffsetOutOfRangeError for an offset outside the segment,
 * and the store's own errors (ObjectNotFoundError, StorageError) unchanged.
 */
import {
  CorruptSegmentError,
  InvalidConfigError,
  InvalidRequestError,
  ObjectNotFoundError,
  OffsetOutOfRangeError,
  type StreamHouseError,
  UnsupportedVersionError,
  type StreamHouseErrorOptions,
} from '../protocol/errors.js';
import { LruCache, type LruCacheStats } from './lruCache.js';
import type { ReadBufferPool } from './readBufferPool.js';
import type { ObjectStore } from './objectStore.js';
import { checkBlock, takeBatches, type BatchRun } from './segmentBlocks.js';
import {
  blockStart,
  corrupt,
  decodeSegmentFooter,
  findIndexEntry,
  segmentFooterLength,
  SEGMENT_TRAILER_SIZE,
  type FooterSource,
  type SegmentFooter,
} from './segmentFooter.js';

/** Options of {@link SegmentReader}. */
export type SegmentReaderOptions = {
  /** Budget of the footer cache in bytes; 0 disables it. Default 16 MiB. */
  footerCacheBytes?: number;
  /** Budget of the data block cache in bytes; 0 disables it. Default 64 MiB. */
  dataCacheBytes?: number;
  /** Bytes read from the end of an object to find its footer. Default 64 KiB. */
  tailReadBytes?: number;
  /**
   * Buffers to read data blocks into, which the caller hands back once done
   * with the bytes (see ReadBufferPool). Only used without a data cache
   * (`dataCacheBytes` 0): the cache would keep slices of them. Default none.
   */
  readBuffers?: ReadBufferPool;
};

/** What a caller may already know about a segment object. */
export type SegmentObjectHint = {
  /** Object size in bytes (SegmentInfo.sizeBytes): saves a `head` and detects a rewritten key. */
  sizeBytes?: number;
  /**
   * Largest record timestamp (SegmentInfo.maxTimestamp): with the size, tells
   * a cached footer from that of another object under the same key (a topic
   * deleted and created again on another agent).
   */
  maxTimestamp?: number;
};

/** Batches returned by {@link SegmentReader.readBatches}. */
export type SegmentReadResult = BatchRun;

/** Hit, miss and eviction counters of both caches. */
export type SegmentReaderStats = {
  footers: LruCacheStats;
  data: LruCacheStats;
};

const MIB = 1024 * 1024;
/** Rough fixed cost of a cached footer or block beyond its arrays, in bytes. */
const ENTRY_OVERHEAD = 128;

export class SegmentReader {
  private readonly footers: LruCache<string, SegmentFooter>;
  private readonly blocks: LruCache<string, Buffer>;
  private readonly tailReadBytes: number;
  private readonly readBuffers: ReadBufferPool | undefined;
  private readonly footersInFlight = new Map<string, Promise<SegmentFooter>>();

  constructor(options: SegmentReaderOptions = {}) {
    const { footerCacheBytes = 16 * MIB, dataCacheBytes = 64 * MIB, tailReadBytes = 64 * 1024, readBuffers } = options;
    if (!Number.isSafeInteger(tailReadBytes) || tailReadBytes < SEGMENT_TRAILER_SIZE) {
      throw new InvalidConfigError(
        `tailReadBytes must be an integer of at least ${SEGMENT_TRAILER_SIZE}, got ${tailReadBytes}`,
      );
    }
    this.tailReadBytes = tailReadBytes;
    this.footers = new LruCache({
      maxBytes: footerCacheBytes,
      weigh: (footer) => footer.relativeOffsets.byteLength + footer.positions.byteLength + ENTRY_OVERHEAD,
    });
    this.blocks = new LruCache({ maxBytes: dataCacheBytes, weigh: (block) => block.length + ENTRY_OVERHEAD });
    this.readBuffers = dataCacheBytes === 0 ? readBuffers : undefined;
  }

  /** Counters of both caches. */
  get stats(): SegmentReaderStats {
    return { footers: this.footers.stats, data: this.blocks.stats };
  }

  /** The checked footer of a segment, from the cache or from the store. */
  readFooter(store: ObjectStore, key: string, hint: SegmentObjectHint = {}): Promise<SegmentFooter> {
    return this.footer(store, key, hint, { objectKey: key });
  }

  /**
   * Whole batches starting with the one that holds `fromOffset`, as many as
   * fit in `maxBytes` but at least one, however large. The bytes may share
   * memory with the cache: do not modify them.
   */
  async readBatches(
    store: ObjectStore,
    key: string,
    fromOffset: number,
    maxBytes: number,
    hint: SegmentObjectHint = {},
  ): Promise<SegmentReadResult> {
    if (!Number.isSafeInteger(fromOffset) || fromOffset < 0) {
      throw new InvalidRequestError(`fromOffset must be a non-negative safe integer, got ${fromOffset}`, {
        context: { objectKey: key },
      });
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new InvalidRequestError(`maxBytes must be a non-negative integer, got ${maxBytes}`, {
        context: { objectKey: key },
      });
    }
    const source: FooterSource = { objectKey: key, offset: fromOffset };
    const footer = await this.footer(store, key, hint, source);
    if (fromOffset < footer.baseOffset || fromOffset >= footer.endOffset) {
      throw new OffsetOutOfRangeError(
        `offset ${fromOffset} is outside segment ${key} [${footer.baseOffset}, ${footer.endOffset})`,
        {
          context: { objectKey: key, offset: fromOffset },
        },
      );
    }
    const first = findIndexEntry(footer, fromOffset);
    // The batch holding fromOffset starts before the next entry and within one index interval of this one.
    const latestStart = Math.min(blockStart(footer, first + 1), footer.positions[first]! + footer.indexIntervalBytes);
    const wantedEnd = Math.min(footer.dataSize, latestStart + maxBytes);
    let end = first + 1;
    while (end < footer.positions.length && blockStart(footer, end) < wantedEnd) end++;
    const blocks = await this.loadBlocks(store, key, footer, first, end, source);
    return takeBatches(blocks, fromOffset, maxBytes, blockStart(footer, first), source);
  }

  /** Forgets the cached footer of `key` in `store` (its blocks become unreachable and age out). */
  invalidate(store: ObjectStore, key: string): void {
    this.footers.delete(footerCacheKey(store, key));
  }

  private async footer(
    store: ObjectStore,
    key: string,
    hint: SegmentObjectHint,
    source: FooterSource,
  ): Promise<SegmentFooter> {
    const { sizeBytes, maxTimestamp } = hint;
    const cacheKey = footerCacheKey(store, key);
    const cached = this.footers.get(cacheKey);
    if (
      cached !== undefined &&
      (sizeBytes === undefined || cached.sizeBytes === sizeBytes) &&
      (maxTimestamp === undefined || cached.maxTimestamp === maxTimestamp)
    ) {
      return cached;
    }
    const loadKey = `${cacheKey}\0${sizeBytes ?? ''}\0${maxTimestamp ?? ''}`;
    let loading = this.footersInFlight.get(loadKey);
    if (loading === undefined) {
      loading = this.fetchFooter(store, key, sizeBytes, { objectKey: key }).finally(() =>
        this.footersInFlight.delete(loadKey),
      );
      this.footersInFlight.set(loadKey, loading);
    }
    try {
      const footer = await loading;
      this.footers.set(cacheKey, footer);
      return footer;
    } catch (error) {
      throw withOffset(error, source);
    }
  }

  private async fetchFooter(
    store: ObjectStore,
    key: string,
    knownSize: number | undefined,
    source: FooterSource,
  ): Promise<SegmentFooter> {
    const size = knownSize ?? (await store.head(key))?.size;
    if (size === undefined) throw new ObjectNotFoundError(`no segment ${key}`, { context: { objectKey: key } });
    if (size < SEGMENT_TRAILER_SIZE)
      throw corrupt(source, `${size} bytes cannot hold the ${SEGMENT_TRAILER_SIZE}-byte trailer (truncated?)`);
    const tailLength = Math.min(size, this.tailReadBytes);
    let tail = await this.readExactly(store, key, size - tailLength, tailLength, source);
    const footerLength = segmentFooterLength(tail, size, source);
    if (footerLength > tail.length) {
      const front = await this.readExactly(store, key, size - footerLength, footerLength - tail.length, source);
      tail = Buffer.concat([front, tail]);
    }
    return decodeSegmentFooter(tail, size, source);
  }

  /** Index blocks [first, end) of the segment, fetching the missing ones in one ranged read. */
  private async loadBlocks(
    store: ObjectStore,
    key: string,
    footer: SegmentFooter,
    first: number,
    end: number,
    source: FooterSource,
  ): Promise<Buffer[]> {
    const blocks: Array<Buffer | undefined> = [];
    for (let entry = first; entry < end; entry++)
      blocks.push(this.blocks.get(blockCacheKey(store, key, footer, entry)));
    const missing = blocks.flatMap((block, i) => (block === undefined ? [first + i] : []));
    if (missing.length > 0) {
      const low = missing[0]!;
      const high = missing[missing.length - 1]! + 1;
      const start = blockStart(footer, low);
      const pool = this.readBuffers;
      const bytes = await this.readExactly(
        store,
        key,
        start,
        blockStart(footer, high) - start,
        source,
        pool && ((size) => pool.take(size)),
      );
      for (let entry = low; entry < high; entry++) {
        const block = bytes.subarray(blockStart(footer, entry) - start, blockStart(footer, entry + 1) - start);
        checkBlock(block, footer, entry, source);
        // Cache a copy when the block is a slice of a larger read, so the cache holds what it weighs.
        const own = high - low > 1 && this.blocks.maxBytes > 0 ? Buffer.from(block) : block;
        this.blocks.set(blockCacheKey(store, key, footer, entry), own);
        blocks[entry - first] = own;
      }
    }
    return blocks as Buffer[];
  }

  private async readExactly(
    store: ObjectStore,
    key: string,
    start: number,
    length: number,
    source: FooterSource,
    allocate?: (size: number) => Buffer,
  ): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await store.getRange(key, start, length, allocate);
    } catch (error) {
      // The footer promised bytes the object does not have: it shrank or was replaced.
      if (error instanceof InvalidRequestError)
        throw corrupt(source, `bytes [${start}, ${start + length}) are past the end of the object`, error);
      throw error;
    }
    if (bytes.length !== length) {
      throw corrupt(source, `read of bytes [${start}, ${start + length}) returned ${bytes.length} bytes (truncated?)`);
    }
    return bytes;
  }
}

function footerCacheKey(store: ObjectStore, key: string): string {
  return `${store.url}\0${key}`;
}

/** The footer CRC in the key ties a block to one version of the object. */
function blockCacheKey(store: ObjectStore, key: string, footer: SegmentFooter, entry: number): string {
  return `${store.url}\0${key}\0${footer.crc}\0${entry}`;
}

/** A footer error seen through one caller gets that caller's offset in its context (footer loads are shared). */
function withOffset(error: unknown, source: FooterSource): unknown {
  if (source.offset === undefined) return error;
  if (!(error instanceof CorruptSegmentError || error instanceof UnsupportedVersionError)) return error;
  if (error.context.offset !== undefined) return error;
  const ErrorClass = error.constructor as new (message: string, options?: StreamHouseErrorOptions) => StreamHouseError;
  return new ErrorClass(`${error.message} (reading offset ${source.offset})`, {
    context: { ...error.context, offset: source.offset },
    cause: error.cause ?? error,
  });
}
