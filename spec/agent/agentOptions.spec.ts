import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEGMENT_CACHE_BYTES, resolveAgentOptions } from '../../src/agent/agentOptions.js';
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

describe('agent/agentOptions: limits', () => {
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

  it('has documented defaults', () => {
    const resolved = resolveAgentOptions({ objectStore, metadataStore });
    expect({
      maxInflightRequestBytes: resolved.maxInflightRequestBytes,
      maxPartitionsPerRequest: resolved.maxPartitionsPerRequest,
      maxConnections: resolved.maxConnections,
      handshakeTimeoutMs: resolved.handshakeTimeoutMs,
      connectionIdleTimeoutMs: resolved.connectionIdleTimeoutMs,
      leaseIdleReleaseMs: resolved.leaseIdleReleaseMs,
      maxGroupMemberMetadataBytes: resolved.maxGroupMemberMetadataBytes,
      maxOffsetMetadataBytes: resolved.maxOffsetMetadataBytes,
    }).to.deep.equal({
      maxInflightRequestBytes: 256 * 1024 * 1024,
      maxPartitionsPerRequest: 1000,
      maxConnections: 1024,
      handshakeTimeoutMs: 10_000,
      connectionIdleTimeoutMs: 300_000,
      leaseIdleReleaseMs: 300_000,
      maxGroupMemberMetadataBytes: 1024 * 1024,
      maxOffsetMetadataBytes: 4096,
    });
  });

  it('refuses limits that are not positive integers, and timeouts that are negative, naming the option', () => {
    for (const name of ['maxInflightRequestBytes', 'maxPartitionsPerRequest', 'maxConnections', 'handshakeTimeoutMs', 'maxGroupMemberMetadataBytes', 'maxOffsetMetadataBytes']) {
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expect(() => resolveAgentOptions({ objectStore, metadataStore, [name]: bad }), `${name} ${bad}`).to.throw(
          InvalidConfigError,
          `agent option ${name} must be a positive integer, got ${bad}`,
        );
      }
    }
    for (const name of ['connectionIdleTimeoutMs', 'leaseIdleReleaseMs']) {
      expect(resolveAgentOptions({ objectStore, metadataStore, [name]: 0 })[name as 'leaseIdleReleaseMs']).to.equal(0);
      expect(() => resolveAgentOptions({ objectStore, metadataStore, [name]: -1 })).to.throw(
        InvalidConfigError,
        `agent option ${name} must be a non-negative integer, got -1`,
      );
    }
  });
});
