/**
 * A least-recently-used cache bounded by bytes rather than entries: each
 * value is weighed when it is stored, and the least recently used entries are
 * evicted until the total fits the budget. A value heavier than the whole
 * budget is not stored at all.
 *
 * Built on Map's insertion order: a hit moves the entry to the end, eviction
 * takes from the front. Both are O(1).
 */
import { InvalidConfigError } from '../protocol/errors.js';

/** Options of {@link LruCache}. */
export type LruCacheOptions<K, V> = {
  /** Budget in bytes; 0 disables caching. */
  maxBytes: number;
  /** Weight of one entry in bytes (include per-entry overhead if it matters). Must be a non-negative number. */
  weigh: (value: V, key: K) => number;
};

/** Counters since the cache was created (or {@link LruCache.resetStats}). */
export type LruCacheStats = {
  /** `get` calls that found a value. */
  hits: number;
  /** `get` calls that found none. */
  misses: number;
  /** Entries dropped to make room (not counting `delete`, `clear` or replacement). */
  evictions: number;
};

type Entry<V> = { value: V; weight: number };

export class LruCache<K, V> {
  /** The byte budget. */
  readonly maxBytes: number;
  private readonly weigh: (value: V, key: K) => number;
  private readonly entries = new Map<K, Entry<V>>();
  private totalBytes = 0;
  private counters: LruCacheStats = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: LruCacheOptions<K, V>) {
    const { maxBytes, weigh } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new InvalidConfigError(`cache maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
    this.weigh = weigh;
  }

  /** Number of entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Total weight of the entries held, in bytes. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** A copy of the hit, miss and eviction counters. */
  get stats(): LruCacheStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters = { hits: 0, misses: 0, evictions: 0 };
  }

  /** The value for `key`, marking it most recently used; undefined on a miss. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Whether `key` is held, without touching its recency or the counters. */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores `value` as the most recently used entry, replacing any value under
   * `key`, evicting the least recently used entries as needed. Returns false
   * (and holds nothing under `key`) when the value alone outweighs the budget.
   */
  set(key: K, value: V): boolean {
    const weight = this.weigh(value, key);
    if (!(weight >= 0) || !Number.isFinite(weight)) {
      throw new InvalidConfigError(`cache weigh() returned ${weight}; weights must be finite and non-negative`);
    }
    this.delete(key);
    if (weight > this.maxBytes) return false;
    while (this.totalBytes + weight > this.maxBytes) this.evictOldest();
    this.entries.set(key, { value, weight });
    this.totalBytes += weight;
    return true;
  }

  /** Drops `key`; returns whether it was held. */
  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.totalBytes -= entry.weight;
    return true;
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.entries.keys()];
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done === true) return;
    this.delete(oldest.value);
    this.counters.evictions++;
  }
}
