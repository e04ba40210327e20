/** Real-backend harnesses for the metadata specs: a temp SQLite file, a unique Redis key prefix. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { MetadataStore } from '../../../src/metadata/metadataStore.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';
import { RedisMetadataStore } from '../../../src/metadata/redis/redisMetadataStore.js';
import { deleteKeysWithPrefix } from '../../../src/metadata/redis/redisKeys.js';
import { defaultRedisUrl } from '../../../src/metadata/redis/redisOptions.js';
import type { StoreHarness } from '../contract/harness.js';

/** A fresh temp directory holding `metadata.db`; every open() is another connection to that file. */
export async function sqliteHarness(): Promise<StoreHarness & { path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sh-metadata-'));
  const path = join(dir, 'metadata.db');
  const opened: MetadataStore[] = [];
  return {
    path,
    async open(clock) {
      // 'normal' keeps the suite fast; durability is not what these tests check.
      const store = new SqliteMetadataStore({ path, clock, synchronous: 'normal' });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A key prefix unique to this test run and harness. */
export function uniquePrefix(): string {
  return `sh-test:${process.pid}:${randomBytes(6).toString('hex')}:`;
}

/** A unique key prefix on the test Redis; every open() is another connection; cleanup deletes the keys. */
export async function redisHarness(prefix = uniquePrefix()): Promise<StoreHarness & { prefix: string }> {
  const opened: MetadataStore[] = [];
  return {
    prefix,
    async open(clock) {
      const store = new RedisMetadataStore({ url: defaultRedisUrl(), keyPrefix: prefix, clock });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      const admin = new Redis(defaultRedisUrl());
      try {
        await deleteKeysWithPrefix(admin, prefix);
      } finally {
        await admin.quit();
      }
    },
  };
}
