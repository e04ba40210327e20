import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostname } from 'node:os';
import {
  DEFAULT_SEGMENT_CACHE_BYTES,
  DEFAULT_STORAGE_RETRY_TIMEOUT_MS,
  resolveAgentOptions,
} from '../../src/agent/agentOptions.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { InvalidConfigError } from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';
import { CountingObjectStore } from '../storage/countingObjectStore.js';

/** One SQLite metadata store and one directory object store for every resolveAgentOptions case. */
describe('agent/agentOptions', () => {
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

  describe('defaults', () => {
    it('applies the documented default of every option', () => {
      const { agentId, clock, ...resolved } = resolveAgentOptions({ objectStore, metadataStore });
      expect(agentId).to.match(new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{8}$`));
      expect(clock).to.equal(Date.now);
      expect(resolved).to.deep.equal({
        objectStore,
        metadataStore,
        host: '127.0.0.1',
        port: 0,
        advertisedAddress: undefined,
        kafkaPort: undefined,
        kafkaAdvertisedAddress: undefined,
        kafkaAutoCreatePartitions: 0,
        tls: undefined,
        authorizer: undefined,
        auth: { mode: 'off', users: new Map(), userCacheMs: 5000, saslTimeoutMs: 10_000 },
        httpPort: undefined,
        walDir: undefined,
        flushIntervalMs: 1,
        flushBytes: 4 * 1024 * 1024,
        maxPendingBytesPerPartition: 64 * 1024 * 1024,
        maxRequestBytes: 64 * 1024 * 1024,
        maxDecompressedBatchBytes: 32 * 1024 * 1024,
        maxTimestampAheadMs: 3_600_000,
        leaseTtlMs: 10_000,
        leaseSafetyMarginMs: 1000,
        producerIdExpirationMs: 86_400_000,
        storageRetryTimeoutMs: 30_000,
        storageFailureHoldMs: 5000,
        shutdownTimeoutMs: 10_000,
        startupTimeoutMs: 30_000,
        maxInflightRequestBytes: 256 * 1024 * 1024,
        maxPartitionsPerRequest: 1000,
        maxConnections: 1024,
        handshakeTimeoutMs: 10_000,
        maxConnectionsPerAddress: 128,
        maxLongPolls: 1000,
        maxTopics: 10_000,
        maxPartitionsPerTopic: 1000,
        produceQuotaBytesPerSecond: 0,
        fetchQuotaBytesPerSecond: 0,
        principalQuotas: {},
        connectionIdleTimeoutMs: 300_000,
        leaseIdleReleaseMs: 300_000,
        maxGroupMemberMetadataBytes: 1024 * 1024,
        maxGroupMembers: 1000,
        maxOffsetMetadataBytes: 4096,
        agentTtlMs: 10_000,
        maxFetchWaitMs: 30_000,
        defaultFetchMaxBytes: 1024 * 1024,
        segmentCacheBytes: 0,
        maintenanceIntervalMs: 30_000,
        consoleRateSampleMs: 5000,
        compactionMinObjectBytes: 1024 * 1024,
        orphanGraceMs: 600_000,
        groupInitialRebalanceDelayMs: 3000,
        logger: undefined,
      });
    });

    it('refuses a Kafka auto-create partition count that is negative, fractional or past the per-topic limit', () => {
      for (const kafkaAutoCreatePartitions of [-1, 1.5]) {
        expect(() => resolveAgentOptions({ objectStore, metadataStore, kafkaAutoCreatePartitions })).to.throw(
          InvalidConfigError,
          `agent option kafkaAutoCreatePartitions must be a non-negative integer, got ${kafkaAutoCreatePartitions}`,
        );
      }
      expect(() =>
        resolveAgentOptions({ objectStore, metadataStore, kafkaAutoCreatePartitions: 5, maxPartitionsPerTopic: 4 }),
      ).to.throw(
        InvalidConfigError,
        'agent option kafkaAutoCreatePartitions (5) is above maxPartitionsPerTopic (4): ' +
          'every topic it created would be refused',
      );
      expect(
        resolveAgentOptions({ objectStore, metadataStore, kafkaAutoCreatePartitions: 4, maxPartitionsPerTopic: 4 })
          .kafkaAutoCreatePartitions,
      ).to.equal(4);
    });

    it('refuses a console rate sample interval below 100 ms or fractional, naming the option', () => {
      for (const consoleRateSampleMs of [99, 0, 150.5]) {
        expect(() => resolveAgentOptions({ objectStore, metadataStore, consoleRateSampleMs })).to.throw(
          InvalidConfigError,
          `agent option consoleRateSampleMs must be an integer >= 100, got ${consoleRateSampleMs}`,
        );
      }
    });

    it('gives each agent its own default id', () => {
      expect(resolveAgentOptions({ objectStore, metadataStore }).agentId).not.to.equal(
        resolveAgentOptions({ objectStore, metadataStore }).agentId,
      );
    });
  });

  describe('segment cache', () => {
    it('is off by default over a objectStore directory, whose reads the page cache keeps', () => {
      expect(objectStore.cachedByOs).to.equal(true);
      expect(resolveAgentOptions({ objectStore: objectStore, metadataStore }).segmentCacheBytes).to.equal(0);
    });

    it('is 64 MiB by default over a store the OS does not cache', () => {
      // A wrapper does not claim the OS cache (as S3ObjectStore does not).
      const remote = new CountingObjectStore(objectStore);
      expect((remote as ObjectStore).cachedByOs).to.equal(undefined);
      expect(resolveAgentOptions({ objectStore: remote, metadataStore }).segmentCacheBytes).to.equal(64 * 1024 * 1024);
      expect(DEFAULT_SEGMENT_CACHE_BYTES).to.equal(64 * 1024 * 1024);
    });

    it('takes an explicit budget, and refuses a negative or fractional one', () => {
      expect(
        resolveAgentOptions({ objectStore: objectStore, metadataStore, segmentCacheBytes: 1024 }).segmentCacheBytes,
      ).to.equal(1024);
      expect(() => resolveAgentOptions({ objectStore: objectStore, metadataStore, segmentCacheBytes: -1 })).to.throw(
        InvalidConfigError,
        'agent option segmentCacheBytes must be a non-negative integer, got -1',
      );
      expect(() => resolveAgentOptions({ objectStore: objectStore, metadataStore, segmentCacheBytes: 1.5 })).to.throw(
        InvalidConfigError,
      );
    });
  });

  describe('producer id expiration', () => {
    it("is one day by default (Kafka's producer.id.expiration.ms) and must be a positive integer", () => {
      expect(resolveAgentOptions({ objectStore, metadataStore }).producerIdExpirationMs).to.equal(86_400_000);
      expect(
        resolveAgentOptions({ objectStore, metadataStore, producerIdExpirationMs: 60_000 }).producerIdExpirationMs,
      ).to.equal(60_000);
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expect(() => resolveAgentOptions({ objectStore, metadataStore, producerIdExpirationMs: bad })).to.throw(
          InvalidConfigError,
          `agent option producerIdExpirationMs must be a positive integer, got ${bad}`,
        );
      }
    });
  });

  describe('lease safety margin', () => {
    it('is 1000 ms by default, or a fifth of a shorter lease TTL', () => {
      const margin = (leaseTtlMs?: number) =>
        resolveAgentOptions({ objectStore, metadataStore, ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }) })
          .leaseSafetyMarginMs;
      expect([margin(), margin(30_000), margin(2000), margin(500), margin(1)]).to.deep.equal([1000, 1000, 400, 100, 0]);
    });

    it('takes 0 up to half the lease TTL, and refuses anything else naming the limit', () => {
      expect(
        resolveAgentOptions({ objectStore, metadataStore, leaseTtlMs: 2000, leaseSafetyMarginMs: 1000 })
          .leaseSafetyMarginMs,
      ).to.equal(1000);
      expect(resolveAgentOptions({ objectStore, metadataStore, leaseSafetyMarginMs: 0 }).leaseSafetyMarginMs).to.equal(
        0,
      );
      expect(() =>
        resolveAgentOptions({ objectStore, metadataStore, leaseTtlMs: 2000, leaseSafetyMarginMs: 1001 }),
      ).to.throw(
        InvalidConfigError,
        'agent option leaseSafetyMarginMs must be at most half of leaseTtlMs (2000), got 1001',
      );
      for (const bad of [-1, 0.5, Number.NaN]) {
        expect(() => resolveAgentOptions({ objectStore, metadataStore, leaseSafetyMarginMs: bad })).to.throw(
          InvalidConfigError,
          `agent option leaseSafetyMarginMs must be a non-negative integer, got ${bad}`,
        );
      }
    });
  });

  describe('failure bounds', () => {
    const names = ['storageRetryTimeoutMs', 'storageFailureHoldMs', 'shutdownTimeoutMs', 'startupTimeoutMs'] as const;

    it('bounds store retries, failure holds, shutdown and start-up by default', () => {
      const resolved = resolveAgentOptions({ objectStore, metadataStore });
      expect(names.map((name) => resolved[name])).to.deep.equal([30_000, 5000, 10_000, 30_000]);
      expect(DEFAULT_STORAGE_RETRY_TIMEOUT_MS).to.equal(30_000);
      const zero = resolveAgentOptions({
        objectStore,
        metadataStore,
        storageRetryTimeoutMs: 0,
        storageFailureHoldMs: 0,
        shutdownTimeoutMs: 0,
        startupTimeoutMs: 1,
      });
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

  describe('limits', () => {
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
        maxGroupMembers: resolved.maxGroupMembers,
        maxOffsetMetadataBytes: resolved.maxOffsetMetadataBytes,
      }).to.deep.equal({
        maxInflightRequestBytes: 256 * 1024 * 1024,
        maxPartitionsPerRequest: 1000,
        maxConnections: 1024,
        handshakeTimeoutMs: 10_000,
        connectionIdleTimeoutMs: 300_000,
        leaseIdleReleaseMs: 300_000,
        maxGroupMemberMetadataBytes: 1024 * 1024,
        maxGroupMembers: 1000,
        maxOffsetMetadataBytes: 4096,
      });
    });

    it('refuses limits that are not positive integers, and timeouts that are negative, naming the option', () => {
      for (const name of [
        'maxInflightRequestBytes',
        'maxPartitionsPerRequest',
        'maxConnections',
        'handshakeTimeoutMs',
        'maxConnectionsPerAddress',
        'maxLongPolls',
        'maxTopics',
        'maxPartitionsPerTopic',
        'maxGroupMemberMetadataBytes',
        'maxGroupMembers',
        'maxOffsetMetadataBytes',
      ]) {
        for (const bad of [0, -1, 1.5, Number.NaN]) {
          expect(() => resolveAgentOptions({ objectStore, metadataStore, [name]: bad }), `${name} ${bad}`).to.throw(
            InvalidConfigError,
            `agent option ${name} must be a positive integer, got ${bad}`,
          );
        }
      }
      for (const name of ['connectionIdleTimeoutMs', 'leaseIdleReleaseMs']) {
        expect(resolveAgentOptions({ objectStore, metadataStore, [name]: 0 })[name as 'leaseIdleReleaseMs']).to.equal(
          0,
        );
        expect(() => resolveAgentOptions({ objectStore, metadataStore, [name]: -1 })).to.throw(
          InvalidConfigError,
          `agent option ${name} must be a non-negative integer, got -1`,
        );
      }
    });
  });
});
