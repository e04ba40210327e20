/**
 * Opens the metadata backend a location names: `redis://` or `rediss://` URLs
 * select Redis, anything else is a SQLite file path (a `file://` URL, a plain
 * path, or `:memory:`).
 */
import type { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import type { MetadataStore } from './metadataStore.js';
import { RedisMetadataStore } from './redis/redisMetadataStore.js';
import { SqliteMetadataStore } from './sqlite/sqliteMetadataStore.js';
import type { SqliteSynchronous } from './sqlite/sqliteOptions.js';

export type CreateMetadataStoreOptions = {
  /** Redis key prefix. Default `'streamhouse:'`. */
  keyPrefix?: string;
  /** Current time in ms since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** SQLite durability. Default `'full'` (see SqliteSynchronous). */
  synchronous?: SqliteSynchronous;
  /**
   * Redis commands without an answer after this many ms fail with MetadataError. Default 5000 (see
   * RedisMetadataStoreOptions.commandTimeoutMs).
   */
  redisCommandTimeoutMs?: number;
};

export type OpenedMetadataStore = {
  store: MetadataStore;
  /** The Redis connection when the backend is Redis (e.g. to derive pub/sub connections from). */
  redis?: Redis;
  /** Where the metadata lives, for logs: `sqlite:<path>` or `redis:<url> prefix <prefix>`. */
  description: string;
};

/** Opens the store at `location`; see the module comment for the forms accepted. */
export async function createMetadataStore(
  location: string,
  options: CreateMetadataStoreOptions = {},
): Promise<OpenedMetadataStore> {
  const { keyPrefix = 'streamhouse:', clock = Date.now, synchronous = 'full', redisCommandTimeoutMs } = options;
  if (/^rediss?:\/\//i.test(location)) {
    const store = new RedisMetadataStore({
      url: location,
      keyPrefix,
      clock,
      ...(redisCommandTimeoutMs !== undefined ? { commandTimeoutMs: redisCommandTimeoutMs } : {}),
    });
    return { store, redis: store.client, description: `redis:${redactPassword(location)} prefix ${keyPrefix}` };
  }
  const path = location.startsWith('file://') ? fileURLToPath(location) : location;
  return { store: new SqliteMetadataStore({ path, clock, synchronous }), description: `sqlite:${path}` };
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
