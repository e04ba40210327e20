import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEGMENT_CACHE_BYTES, DEFAULT_STORAGE_RETRY_TIMEOUT_MS, resolveAgentOptions } from '../../src/agent/agentOptions.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { InvalidConfigError } from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';
import { CountingObjectStore } from '../storage/countingObjectStore.js';

describe('agent/agentOptions: segment cache', () => {
  let dir: string;
  let metadataStore: SqliteMetadataStore;
  let local: LocalDirectoryObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-options-'));
    metadataStore = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
    local = new LocalDirectoryObjectStore({ root: join(dir, 'objects') });
  });
  after(async () => {
    await metadataStore.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is off by default over a local directory, whose reads the page cache keeps', () => {
    expect(local.cachedByOs).to.equal(true);
    expect(resolveAgentOptions({ objectStore: local, metadataStore }).segmentCacheBytes).to.equal(0);
  });

  it('is 64 MiB by default over a store the OS does not cache', () => {
    // A wrapper does not claim the OS cache (as S3ObjectStore does not).
    const remote = new CountingObjectStore(local);
    expect((remote as ObjectStore).cachedByOs).to.equal(undefined);
    expect(resolveAgentOptions({ objectStore: remote, metadataStore }).segmentCacheBytes).to.equal(64 * 1024 * 1024);
    expect(DEFAULT_SEGMENT_CACHE_BYTES).to.equal(64 * 1024 * 1024);
  });

  it('takes an explicit budget, and refuses a negative or fractional one', () => {
    expect(resolveAgentOptions({ objectStore: local, metadataStore, segmentCacheBytes: 1024 }).segmentCacheBytes).to.equal(1024);
    expect(() => resolveAgentOptions({ objectStore: local, metadataStore, segmentCacheBytes: -1 })).to.throw(
      InvalidConfigError,
      'agent option segmentCacheBytes must be a non-negative integer, got -1',
    );
    expect(() => resolveAgentOptions({ objectStore: local, metadataStore, segmentCacheBytes: 1.5 })).to.throw(InvalidConfigError);
  });
});

describe('agent/agentOptions: failure bounds', () => {
  let dir: string;
  let metadataStore: SqliteMetadataStore;
  let objectStore: LocalDirectoryObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-options-'));
    metadataStore = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
    objectStore = new LocalDirectoryObjectStore({ root: join(dir, 'objects') });
  });
  after(async () => {
    await metadataStore.close();
    await rm(dir, { recursive: true, force: true });
  });

  const names = ['storageRetryTimeoutMs', 'storageFailureHoldMs', 'shutdownTimeoutMs', 'startupTimeoutMs'] as const;

  it('bounds store retries, failure holds, shutdown and start-up by default', () => {
    const resolved = resolveAgentOptions({ objectStore, metadataStore });
    expect(names.map((name) => resolved[name])).to.deep.equal([30_000, 5000, 10_000, 30_000]);
    expect(DEFAULT_STORAGE_RETRY_TIMEOUT_MS).to.equal(30_000);
    const zero = resolveAgentOptions({ objectStore, metadataStore, storageRetryTimeoutMs: 0, storageFailureHoldMs: 0, shutdownTimeoutMs: 0, startupTimeoutMs: 1 });
    expect(names.map((name) => zero[name])).to.deep.equal([0, 0, 0, 1]);
  });

  it('refuses negative, fractional or non-numeric bounds (and no start-up time at all), naming the option', () => {
    for (const name of names) {
      for (const bad of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const rule = name === 'startupTimeoutMs' ? 'a positive integer' : 'a non-negative integer';
        expect(() => resolveAgentOptions({ objectStore, metadataStore, [name]: bad })).to.throw(
          InvalidConfigError,
          `agent option ${name} must be ${rule}, got ${bad}`,
        );
      }
    }
    expect(() => resolveAgentOptions({ objectStore, metadataStore, startupTimeoutMs: 0 })).to.throw(
      InvalidConfigError,
      'agent option startupTimeoutMs must be a positive integer, got 0',
    );
  });
});
