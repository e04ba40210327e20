/**
 * Test support: a fault-injecting wrapper around a real ObjectStore. Writes
 * (`put`) can be made to fail, before or after reaching the store, or to
 * stall until released; reads and everything else pass straight through.
 */
import type { ObjectData, ObjectInfo, ObjectStore } from '../../src/storage/objectStore.js';

/** What a put does while a fault is set. */
export type WriteFault =
  /** Rejects with `error()` without writing. */
  | { kind: 'fail'; error: () => Error }
  /** Writes the object, then rejects with `error()` as if the answer were lost. */
  | { kind: 'failAfterWrite'; error: () => Error }
  /** Waits until {@link WriteFaultStore.heal}, then writes. */
  | { kind: 'stall' };

export class WriteFaultStore implements ObjectStore {
  /** Puts asked for, puts failed by a fault, puts that waited in a stall. */
  readonly stats = { puts: 0, failed: 0, stalled: 0 };
  private fault: WriteFault | undefined;
  private stalled: (() => void)[] = [];
  private readonly faultListeners = new Set<() => void>();

  constructor(private readonly inner: ObjectStore) {}

  get url(): string {
    return this.inner.url;
  }

  get cachedByOs(): boolean | undefined {
    return this.inner.cachedByOs;
  }

  /** Applies `fault` to every put from now on, until {@link heal}. */
  inject(fault: WriteFault): void {
    this.fault = fault;
  }

  /** Ends the fault: later puts go through, stalled ones proceed. */
  heal(): void {
    this.fault = undefined;
    for (const release of this.stalled.splice(0)) release();
  }

  /**
   * Resolves once `count` puts more than now have met a fault (failed or
   * stalled); rejects after `timeoutMs` with how many did.
   */
  faultsSeen(count: number, timeoutMs: number): Promise<void> {
    const seen = () => this.stats.failed + this.stats.stalled;
    const start = seen();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (seen() < start + count) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${count} faulted puts not seen within ${timeoutMs} ms (${seen() - start} were)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.faultListeners.delete(check);
      };
      this.faultListeners.add(check);
      check();
    });
  }

  async put(key: string, data: ObjectData): Promise<void> {
    this.stats.puts++;
    const fault = this.fault;
    if (fault?.kind === 'stall') {
      this.stats.stalled++;
      this.notify();
      await new Promise<void>((resolve) => this.stalled.push(resolve));
    } else if (fault?.kind === 'fail') {
      this.stats.failed++;
      this.notify();
      throw fault.error();
    }
    await this.inner.put(key, data);
    if (fault?.kind === 'failAfterWrite') {
      this.stats.failed++;
      this.notify();
      throw fault.error();
    }
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

  close(): Promise<void> {
    this.heal();
    return this.inner.close();
  }

  private notify(): void {
    for (const listener of [...this.faultListeners]) listener();
  }
}
