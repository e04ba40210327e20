/**
 * An ObjectStore kept in a local directory: the embedded default.
 *
 * Each object is one file at `<root>/<key>`. A put writes a uniquely named
 * temp file next to the target, fsyncs it, renames it over the target and
 * fsyncs the directory, so a reader sees the old object or the new one, never
 * a part, and the object survives a crash once put resolves. Directories are
 * created on demand and fsynced into their parents.
 *
 * Temp files are named `.sh-tmp-<random>`; they never appear in `list`, and a
 * key whose last segment starts with `.sh-tmp-` is refused. One limitation a
 * directory has and S3 has not: `a` and `a/b` cannot both be objects.
 */
import { randomBytes } from 'node:crypto';
import {
  access,
  constants,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Dirent } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InvalidRequestError, ObjectNotFoundError, StreamHouseError } from '../protocol/errors.js';
import { errnoCode, fileSystemFaultKind, storageFault } from './storageErrors.js';
import { assertValidObjectKey, assertValidObjectPrefix, compareObjectKeys } from './objectKey.js';
import type { ObjectData, ObjectInfo, ObjectStore } from './objectStore.js';
import { assertValidRange } from './objectRange.js';

/** Options of {@link LocalDirectoryObjectStore}. */
export type LocalDirectoryObjectStoreOptions = {
  /** Directory holding the objects; created on the first put. Relative paths resolve against the cwd. */
  root: string;
};

/** Name prefix of in-flight temp files; `list` skips them. */
export const TEMP_FILE_PREFIX = '.sh-tmp-';

/** File errors meaning "there is no object under this key". */
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

export class LocalDirectoryObjectStore implements ObjectStore {
  /** Reads come from the page cache once a file has been read or written. */
  readonly cachedByOs = true;
  readonly url: string;
  /** Absolute root directory. */
  readonly root: string;
  /** Directories this store created or found, so a put does not mkdir each time. */
  private readonly knownDirectories = new Set<string>();

  constructor(options: LocalDirectoryObjectStoreOptions) {
    this.root = resolve(options.root);
    this.url = pathToFileURL(this.root).href;
  }

  async put(key: string, data: ObjectData): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const tempPath = join(dir, `${TEMP_FILE_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      const handle = await this.openTemp(dir, tempPath);
      try {
        await writeAll(handle, data instanceof Uint8Array ? [data] : data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tempPath, path);
      await fsyncDirectory(dir);
    } catch (error) {
      await unlink(tempPath).catch(() => undefined);
      throw storageError('put', key, error);
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      throw readError('get', key, error);
    }
  }

  async getRange(key: string, start: number, length: number, allocate?: (size: number) => Buffer): Promise<Buffer> {
    assertValidRange(key, start, length);
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw readError('getRange', key, error);
    }
    try {
      const { size } = await handle.stat();
      if (start > size) {
        throw new InvalidRequestError(`range start ${start} is beyond the end of ${key} (${size} bytes)`, {
          context: { objectKey: key },
        });
      }
      const wanted = Math.min(length, size - start);
      const buffer = allocate?.(wanted) ?? Buffer.allocUnsafe(wanted);
      if (buffer.length !== wanted) throw new Error(`allocate(${wanted}) returned ${buffer.length} bytes`);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(buffer, filled, wanted - filled, start + filled);
        if (bytesRead === 0) break; // cannot shrink under us (puts replace the file), but never spin
        filled += bytesRead;
      }
      return filled === wanted ? buffer : buffer.subarray(0, filled);
    } catch (error) {
      throw readError('getRange', key, error);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      return { key, size: info.size, lastModified: Math.floor(info.mtimeMs) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw storageError('head', key, error);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    assertValidObjectPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const startKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const found: ObjectInfo[] = [];
    try {
      await this.walk(join(this.root, startKey), startKey, prefix, found);
    } catch (error) {
      throw storageError('list', prefix, error);
    }
    return found.sort((a, b) => compareObjectKeys(a.key, b.key));
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isNotFound(error)) return;
      // unlink(2) of a directory is EPERM on some systems; a directory is no object either
      if (errnoCode(error) === 'EPERM' && (await isDirectory(path))) return;
      throw storageError('delete', key, error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.ensureDirectory(this.root);
      await access(this.root, constants.W_OK);
    } catch (error) {
      throw storageError('ping', this.root, error);
    }
  }

  async close(): Promise<void> {
    // Every call opens and closes its own handles: nothing to release.
  }

  /** The file path of a key, after checking that the key is valid and stays under the root. */
  private pathOf(key: string): string {
    assertValidObjectKey(key);
    const last = key.slice(key.lastIndexOf('/') + 1);
    if (last.startsWith(TEMP_FILE_PREFIX)) {
      throw new InvalidRequestError(
        `invalid object key ${JSON.stringify(key)}: names starting with ${TEMP_FILE_PREFIX} are reserved`,
        {
          context: { objectKey: key },
        },
      );
    }
    const path = join(this.root, key);
    // Key validation already rules out escapes; this guards the invariant itself.
    if (!path.startsWith(this.root + sep)) {
      throw new InvalidRequestError(`object key ${JSON.stringify(key)} leaves the store root`, {
        context: { objectKey: key },
      });
    }
    return path;
  }

  /**
   * Opens a new temp file in `dir`. Directories known to exist are not
   * created again (a mkdir per put showed in profiles); one removed behind the
   * store's back is created again on ENOENT.
   */
  private async openTemp(dir: string, tempPath: string): Promise<FileHandle> {
    if (!this.knownDirectories.has(dir)) {
      await this.ensureDirectory(dir);
      this.knownDirectories.add(dir);
    }
    try {
      return await open(tempPath, 'wx');
    } catch (error) {
      // Only a missing directory is made again; ENOTDIR (a file in the way) is a fault to report.
      if (errnoCode(error) !== 'ENOENT') throw error;
      this.knownDirectories.delete(dir);
      await this.ensureDirectory(dir);
      this.knownDirectories.add(dir);
      return open(tempPath, 'wx');
    }
  }

  /** Creates `dir` and missing ancestors, fsyncing each new directory and the parent it was added to. */
  private async ensureDirectory(dir: string): Promise<void> {
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated === undefined) return;
    const created = relative(firstCreated, dir)
      .split(sep)
      .filter((part) => part.length > 0);
    let current = firstCreated;
    await fsyncDirectory(dirname(firstCreated));
    await fsyncDirectory(current);
    for (const part of created) {
      current = join(current, part);
      await fsyncDirectory(current);
    }
  }

  private async walk(dir: string, keyPrefix: string, wanted: string, found: ObjectInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        const childPrefix = `${key}/`;
        // Descend only where keys starting with `wanted` can live.
        if (childPrefix.startsWith(wanted) || wanted.startsWith(childPrefix)) {
          await this.walk(join(dir, entry.name), childPrefix, wanted, found);
        }
      } else if (entry.isFile() && !entry.name.startsWith(TEMP_FILE_PREFIX) && key.startsWith(wanted)) {
        try {
          const info = await stat(join(dir, entry.name));
          found.push({ key, size: info.size, lastModified: Math.floor(info.mtimeMs) });
        } catch (error) {
          if (!isNotFound(error)) throw error; // deleted while listing: not listed
        }
      }
    }
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function isNotFound(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && NOT_FOUND_CODES.has(code);
}

function readError(operation: string, key: string, error: unknown): StreamHouseError {
  if (error instanceof StreamHouseError) return error;
  if (isNotFound(error)) {
    return new ObjectNotFoundError(`no object ${key}`, { cause: error, context: { objectKey: key } });
  }
  return storageError(operation, key, error);
}

/** A failure that is not "no such object": classified by its errno code (storageErrors.ts). */
function storageError(operation: string, key: string, error: unknown): StreamHouseError {
  const detail = error instanceof Error ? error.message : String(error);
  return storageFault(fileSystemFaultKind(error), `${operation} ${key} failed: ${detail}`, error, key);
}

/**
 * Writes the parts one after the other from the file's start: one writev per
 * round (FileHandle.writeFile would split a buffer into 512 KiB writes, each
 * a trip through the thread pool), again from where a short write stopped.
 */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let pending = parts.filter((part) => part.length > 0);
  let position = 0;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, position);
    if (bytesWritten === 0) throw new Error(`writev wrote nothing at byte ${position}`);
    position += bytesWritten;
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const part of pending) {
      if (skip >= part.length) skip -= part.length;
      else {
        rest.push(skip === 0 ? part : part.subarray(skip));
        skip = 0;
      }
    }
    pending = rest;
  }
}
