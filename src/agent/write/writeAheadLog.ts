/**
 * The agent's local write-ahead log, behind `buffered` acks.
 *
 * An append is answered once its entry is fsynced; appends arriving while a
 * write is under way are written and fsynced together (group commit). Files
 * roll at `fileBytes`; a file is deleted once every partition it holds has
 * committed past its entries into segments.
 *
 * Entry: `u32 payloadLength · u32 crc32c(payload) · payload`, where payload is
 * `u16 topicLength · topic (UTF-8) · u32 partition · batch`. On open, entries
 * are checked one by one; the first one that is torn or fails its CRC ends the
 * file, which is cut there.
 */
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from '@node-rs/crc32';
import { readBatchFrame } from '../../protocol/codec/batchLayout.js';
import { StorageError } from '../../protocol/errors.js';
import { fileSystemFaultKind, storageFault } from '../../storage/storageErrors.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** One recovered entry. */
export type WalEntry = { topic: string; partition: number; batch: Buffer; baseOffset: number; nextOffset: number };

const ENTRY_HEADER = 8;
const DEFAULT_FILE_BYTES = 64 * 1024 * 1024;

type WalFile = { name: string; handle: FileHandle | undefined; size: number; maxOffsets: Map<string, number> };

/** Names of log files: `wal-<12-digit sequence>.log`. */
export const WAL_FILE_PATTERN = /^wal-\d{12}\.log$/;

const fileName = (sequence: number) => `wal-${String(sequence).padStart(12, '0')}.log`;

export class WriteAheadLog {
  private files: WalFile[] = [];
  private queue: {
    bytes: Buffer;
    key: string;
    nextOffset: number;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private writing: Promise<void> | undefined;
  /** Deletions of committed files under way; close() waits for them. */
  private deletions: Promise<void> = Promise.resolve();
  private readonly committed = new Map<string, number>();
  private sequence = 0;
  private closed = false;
  /** Called after each write and fsync with its batches, bytes and duration, seconds. */
  onSynced: ((appends: number, bytes: number, seconds: number) => void) | undefined;

  private constructor(
    private readonly dir: string,
    private readonly fileBytes: number,
    /** Entries found on open, in log order; for recovery. */
    readonly recovered: WalEntry[],
    private readonly logger?: Logger,
  ) {}

  /** Opens (creating) the log in `dir`, reading back every intact entry. */
  static async open(dir: string, logger?: Logger, fileBytes = DEFAULT_FILE_BYTES): Promise<WriteAheadLog> {
    await mkdir(dir, { recursive: true });
    const names = (await readdir(dir)).filter((n) => WAL_FILE_PATTERN.test(n)).sort();
    const recovered: WalEntry[] = [];
    const files: WalFile[] = [];
    for (const name of names) {
      const path = join(dir, name);
      const bytes = await readFile(path);
      const { entries, validBytes } = parseEntries(bytes);
      if (validBytes < bytes.length) {
        logger?.warn(
          { file: path, cut: bytes.length - validBytes },
          'write-ahead log has a torn or corrupt tail; cutting it',
        );
        await truncate(path, validBytes);
      }
      const maxOffsets = new Map<string, number>();
      for (const e of entries)
        maxOffsets.set(
          topicPartitionId(e.topic, e.partition),
          Math.max(maxOffsets.get(topicPartitionId(e.topic, e.partition)) ?? 0, e.nextOffset),
        );
      recovered.push(...entries);
      files.push({ name, handle: undefined, size: validBytes, maxOffsets });
    }
    const wal = new WriteAheadLog(dir, fileBytes, recovered, logger);
    wal.files = files;
    wal.sequence = names.length > 0 ? Number(names[names.length - 1]!.slice(4, 16)) + 1 : 0;
    return wal;
  }

  /** Appends a stamped batch; resolves once it is fsynced. */
  append(topic: string, partition: number, batch: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('write-ahead log is closed'));
    const topicBytes = Buffer.from(topic, 'utf8');
    const payloadLength = 2 + topicBytes.length + 4 + batch.length;
    const bytes = Buffer.allocUnsafe(ENTRY_HEADER + payloadLength);
    bytes.writeUInt32BE(payloadLength, 0);
    bytes.writeUInt16BE(topicBytes.length, ENTRY_HEADER);
    topicBytes.copy(bytes, ENTRY_HEADER + 2);
    bytes.writeUInt32BE(partition, ENTRY_HEADER + 2 + topicBytes.length);
    batch.copy(bytes, ENTRY_HEADER + 6 + topicBytes.length);
    bytes.writeUInt32BE(crc32c(bytes.subarray(ENTRY_HEADER)), 4);
    const frame = readBatchFrame(batch);
    return new Promise((resolve, reject) => {
      this.queue.push({
        bytes,
        key: topicPartitionId(topic, partition),
        nextOffset: frame.nextOffset,
        resolve,
        reject,
      });
      if (this.writing === undefined) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Everything queued while the previous write+fsync ran goes out in one write and one fsync.
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        const file = await this.currentFile();
        const bytes = Buffer.concat(group.map((g) => g.bytes));
        const started = performance.now();
        await file.handle!.write(bytes, 0, bytes.length, file.size);
        await file.handle!.datasync();
        this.onSynced?.(group.length, bytes.length, (performance.now() - started) / 1000);
        file.size += bytes.length;
        for (const g of group) file.maxOffsets.set(g.key, Math.max(file.maxOffsets.get(g.key) ?? 0, g.nextOffset));
        for (const g of group) g.resolve();
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        const wrapped = storageFault(fileSystemFaultKind(error), `write-ahead log write failed: ${detail}`, error);
        for (const g of group) g.reject(wrapped);
      }
    }
    this.writing = undefined;
  }

  private async currentFile(): Promise<WalFile> {
    let file = this.files[this.files.length - 1];
    if (file === undefined || file.handle === undefined || file.size >= this.fileBytes) {
      const name = fileName(this.sequence++);
      const handle = await open(join(this.dir, name), 'a+');
      const dirHandle = await open(this.dir, 'r');
      await dirHandle.sync().finally(() => dirHandle.close());
      file = { name, handle, size: 0, maxOffsets: new Map() };
      this.files.push(file);
    }
    return file;
  }

  /** Records a partition's committed high watermark; deletes files wholly behind it. */
  markCommitted(topic: string, partition: number, highWatermark: number): void {
    const key = topicPartitionId(topic, partition);
    this.committed.set(key, Math.max(this.committed.get(key) ?? 0, highWatermark));
    // Only the file being appended to is spared; files found at open are never appended to again.
    const last = this.files[this.files.length - 1];
    const current = last?.handle !== undefined ? last : undefined;
    const done = this.files.filter(
      (f) => f !== current && [...f.maxOffsets].every(([k, max]) => (this.committed.get(k) ?? 0) >= max),
    );
    if (done.length === 0) return;
    this.files = this.files.filter((f) => !done.includes(f));
    for (const f of done) {
      const deletion = (async () => {
        await f.handle?.close();
        await rm(join(this.dir, f.name), { force: true });
      })().catch((err: unknown) => this.logger?.warn({ err, file: f.name }, 'could not delete write-ahead log file'));
      this.deletions = this.deletions.then(() => deletion);
    }
  }

  /** Waits for queued writes and file deletions, then closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    await this.deletions;
    await Promise.allSettled(this.files.map((f) => f.handle?.close()));
  }
}

/** Parses entries until the first torn or corrupt one. */
export function parseEntries(bytes: Buffer): { entries: WalEntry[]; validBytes: number } {
  const entries: WalEntry[] = [];
  let pos = 0;
  while (pos + ENTRY_HEADER <= bytes.length) {
    const length = bytes.readUInt32BE(pos);
    if (length < 6 || pos + ENTRY_HEADER + length > bytes.length) break;
    const payload = bytes.subarray(pos + ENTRY_HEADER, pos + ENTRY_HEADER + length);
    if (crc32c(payload) !== bytes.readUInt32BE(pos + 4)) break;
    const topicLength = payload.readUInt16BE(0);
    if (2 + topicLength + 4 > length) break;
    const topic = payload.toString('utf8', 2, 2 + topicLength);
    const partition = payload.readUInt32BE(2 + topicLength);
    const batch = payload.subarray(2 + topicLength + 4);
    try {
      const frame = readBatchFrame(batch);
      if (frame.size !== batch.length) break;
      entries.push({ topic, partition, batch, baseOffset: frame.baseOffset, nextOffset: frame.nextOffset });
    } catch {
      break;
    }
    pos += ENTRY_HEADER + length;
  }
  return { entries, validBytes: pos };
}
