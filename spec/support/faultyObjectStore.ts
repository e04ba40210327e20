/**
 * A real LocalDirectoryObjectStore with injected write faults, for failures
 * a test cannot cause for real (tests run as root, whom chmod does not stop;
 * a disk cannot be filled on demand): while `putFault` is set, puts under
 * `faultPrefix` fail with a real errno error of that code, classified as the
 * directory store classifies it. Everything else goes to the real store.
 */
import type { ObjectData, ObjectInfo, ObjectStore } from '../../src/storage/objectStore.js';
import type { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { fileSystemFaultKind, storageFault } from '../../src/storage/storageErrors.js';

export class FaultyObjectStore implements ObjectStore {
  /** errno code puts fail with (`ENOSPC`, `EACCES`, ...); undefined: no fault. */
  putFault: string | undefined;
  /** Only keys starting with this fail. Default: every key. */
  faultPrefix = '';
  /** Puts that failed so far. */
  failedPuts = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly inner: LocalDirectoryObjectStore) {}

  get url(): string {
    return this.inner.url;
  }

  get cachedByOs(): boolean {
    return this.inner.cachedByOs;
  }

  /** Resolves once `count` puts have failed in all. */
  async failures(count: number): Promise<void> {
    while (this.failedPuts < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async put(key: string, data: ObjectData): Promise<void> {
    const code = this.putFault;
    if (code !== undefined && key.startsWith(this.faultPrefix)) {
      this.failedPuts++;
      for (const wake of this.waiters.splice(0)) wake();
      const error = Object.assign(new Error(`${code}: injected fault, open '${this.inner.root}/${key}'`), {
        code,
        errno: -1,
        syscall: 'open',
      });
      throw storageFault(fileSystemFaultKind(error), `put ${key} failed: ${error.message}`, error, key);
    }
    return this.inner.put(key, data);
  }

  get(key: string): Promise<Buffer> {
    return this.inner.get(key);
  }

  getRange(key: string, start: number, length: number, allocate?: (size: number) => Buffer): Promise<Buffer> {
    return this.inner.getRange(key, start, length, allocate);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
