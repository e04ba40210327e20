/**
 * An ObjectStore that delegates every call to a real store and counts the
 * calls, so tests can assert how many requests a reader made.
 */
import type { ObjectData, ObjectInfo, ObjectStore } from '../../src/storage/objectStore.js';

/** Calls made so far, by method, and the ranges asked for. */
export type StoreCalls = {
  get: number;
  getRange: number;
  head: number;
  list: number;
  put: number;
  delete: number;
  ranges: Array<[number, number]>;
};

export class CountingObjectStore implements ObjectStore {
  calls: StoreCalls = emptyCalls();

  constructor(private readonly inner: ObjectStore) {}

  get url(): string {
    return this.inner.url;
  }

  /** Zeroes the counters. */
  reset(): void {
    this.calls = emptyCalls();
  }

  /** Total requests of every kind. */
  get total(): number {
    const { ranges: _ranges, ...counts } = this.calls;
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  put(key: string, data: ObjectData): Promise<void> {
    this.calls.put++;
    return this.inner.put(key, data);
  }

  get(key: string): Promise<Buffer> {
    this.calls.get++;
    return this.inner.get(key);
  }

  getRange(key: string, start: number, length: number): Promise<Buffer> {
    this.calls.getRange++;
    this.calls.ranges.push([start, length]);
    return this.inner.getRange(key, start, length);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    this.calls.head++;
    return this.inner.head(key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    this.calls.list++;
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    this.calls.delete++;
    return this.inner.delete(key);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function emptyCalls(): StoreCalls {
  return { get: 0, getRange: 0, head: 0, list: 0, put: 0, delete: 0, ranges: [] };
}
