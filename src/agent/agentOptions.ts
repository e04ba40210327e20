/**
 * Options of one agent, with their defaults. `resolveAgentOptions` applies the
 * defaults once and validates, naming what to change.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { InvalidConfigError } from '../protocol/errors.js';
import type { MetadataStore } from '../metadata/metadataStore.js';
import type { ObjectStore } from '../storage/objectStore.js';
import { DEFAULT_MAX_PARTITIONS_PER_REQUEST } from './requestLimits.js';
import { DEFAULT_MAX_INFLIGHT_REQUEST_BYTES } from './inflightRequests.js';
import { DEFAULT_CONNECTION_IDLE_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from './connectionLimits.js';
import { DEFAULT_LEASE_IDLE_RELEASE_MS } from './idleLeases.js';
import { DEFAULT_MAX_MEMBER_METADATA_BYTES, DEFAULT_MAX_OFFSET_METADATA_BYTES } from './groups/groupLimits.js';

export type AgentOptions = {
  /** Where segment objects live. */
  objectStore: ObjectStore;
  /** Topics, leases, segments, groups. */
  metadataStore: MetadataStore;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Address clients should dial, when it differs from host:port (NAT, containers). Default `host:port`. */
  advertisedAddress?: string;
  /** Unique id among agents sharing a metadata store. Default `<hostname>-<random>`. */
  agentId?: string;
  /**
   * Root directory of write-ahead logs, for `buffered` acks; undefined
   * disables them. This agent writes `<walDir>/<agentId>/`. Agents on one disk
   * should share the root: one that takes a partition over then replays what
   * another acknowledged as buffered but never flushed. Default undefined.
   */
  walDir?: string;
  /**
   * An idle partition writer waits this long after a batch arrives for more to
   * share its object, ms. Batches arriving while a flush is under way go into
   * the next object at once. Default 1.
   */
  flushIntervalMs?: number;
  /** A partition writer flushes at once when this many bytes are pending. Default 4 MiB. */
  flushBytes?: number;
  /** Pending bytes per partition beyond which Produce waits (backpressure). Default 64 MiB. */
  maxPendingBytesPerPartition?: number;
  /** Largest gRPC message accepted, bytes. Default 64 MiB. */
  maxRequestBytes?: number;
  /**
   * Request bytes the agent holds at once over all calls (a Produce holds its
   * batches until acknowledged); a request that does not fit is refused with
   * AGENT_BUSY, which producers retry. At least maxRequestBytes. Default 256 MiB.
   */
  maxInflightRequestBytes?: number;
  /** Most client connections open at once (per listening address); extra ones are closed at once. Default 1024. */
  maxConnections?: number;
  /** A connection with no call under way for this long is closed (the client reconnects when it needs to), ms; 0 never. Default 300000. */
  connectionIdleTimeoutMs?: number;
  /** A connection that has not completed its HTTP/2 handshake within this is closed, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Lease time to live, ms; renewed every third of it. Default 10000. */
  leaseTtlMs?: number;
  /**
   * A partition lease nobody has written under for this long is released
   * (its writer closed), ms; 0 keeps leases for ever. Partitions of topics
   * with a retention limit keep theirs, so that retention keeps running.
   * Default 300000 (5 minutes).
   */
  leaseIdleReleaseMs?: number;
  /**
   * Most partitions one Produce, Fetch, ListOffsets, CommitOffsets or
   * FetchOffsets may name; beyond it the whole request fails with
   * LIMIT_EXCEEDED, nothing written and no lease taken. Default 1000.
   */
  maxPartitionsPerRequest?: number;
  /** Agents whose heartbeat is older than this are not live, ms. Default 10000. */
  agentTtlMs?: number;
  /** Longest long-poll a Fetch may ask for, ms. Default 30000. */
  maxFetchWaitMs?: number;
  /** Default bytes per partition returned by Fetch when the request says 0. Default 1 MiB. */
  defaultFetchMaxBytes?: number;
  /**
   * Budget of the cache of segment data blocks that Fetch serves from, bytes;
   * 0 disables it. Default 64 MiB, or 0 when the object store's reads are
   * cached by the operating system (a local directory): there the page
   * cache already holds what was read, and a second copy in the process only
   * cost a copy of every block read and garbage collections (one per Fetch
   * in a catch-up read of a topic larger than the cache).
   */
  segmentCacheBytes?: number;
  /** How often compaction and retention run, ms; 0 disables them. Default 30000. */
  maintenanceIntervalMs?: number;
  /** Objects smaller than this are merged by compaction. Default 1 MiB. */
  compactionMinObjectBytes?: number;
  /** Unregistered objects under a partition (from fenced writers or interrupted compactions) are deleted once this old, ms. Default 600000. */
  orphanGraceMs?: number;
  /**
   * How long the first join round of an empty consumer group stays open for
   * more members, ms (Kafka's `group.initial.rebalance.delay.ms`). Default 3000; 0 completes at once.
   */
  groupInitialRebalanceDelayMs?: number;
  /**
   * Largest consumer-group member metadata a JoinGroup may carry (client id,
   * protocol names and metadata), and largest assignment a leader may hand
   * a member, bytes; beyond it LIMIT_EXCEEDED. Default 1 MiB.
   */
  maxGroupMemberMetadataBytes?: number;
  /** Largest offset-commit metadata, UTF-8 bytes; beyond it the partition's result is OFFSET_METADATA_TOO_LARGE. Default 4096 (Kafka's). */
  maxOffsetMetadataBytes?: number;
  /** Structured logger. Default: a silent one. */
  logger?: Logger;
  /** Clock for lease and retention decisions. Default `Date.now`. */
  clock?: () => number;
};

/** Default {@link AgentOptions.segmentCacheBytes} for object stores the OS does not cache (S3). */
export const DEFAULT_SEGMENT_CACHE_BYTES = 64 * 1024 * 1024;

export type ResolvedAgentOptions = Required<Omit<AgentOptions, 'walDir' | 'advertisedAddress' | 'logger'>> & {
  walDir: string | undefined;
  advertisedAddress: string | undefined;
  logger: Logger | undefined;
};

export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  const {
    objectStore,
    metadataStore,
    host = '127.0.0.1',
    port = 0,
    advertisedAddress,
    agentId = `${hostname()}-${randomUUID().slice(0, 8)}`,
    walDir,
    flushIntervalMs = 1,
    flushBytes = 4 * 1024 * 1024,
    maxPendingBytesPerPartition = 64 * 1024 * 1024,
    maxRequestBytes = 64 * 1024 * 1024,
    maxInflightRequestBytes = Math.max(DEFAULT_MAX_INFLIGHT_REQUEST_BYTES, maxRequestBytes),
    maxConnections = DEFAULT_MAX_CONNECTIONS,
    connectionIdleTimeoutMs = DEFAULT_CONNECTION_IDLE_TIMEOUT_MS,
    handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS,
    leaseTtlMs = 10_000,
    leaseIdleReleaseMs = DEFAULT_LEASE_IDLE_RELEASE_MS,
    maxPartitionsPerRequest = DEFAULT_MAX_PARTITIONS_PER_REQUEST,
    agentTtlMs = 10_000,
    maxFetchWaitMs = 30_000,
    segmentCacheBytes = objectStore.cachedByOs === true ? 0 : DEFAULT_SEGMENT_CACHE_BYTES,
    defaultFetchMaxBytes = 1024 * 1024,
    maintenanceIntervalMs = 30_000,
    compactionMinObjectBytes = 1024 * 1024,
    orphanGraceMs = 600_000,
    groupInitialRebalanceDelayMs = 3000,
    maxGroupMemberMetadataBytes = DEFAULT_MAX_MEMBER_METADATA_BYTES,
    maxOffsetMetadataBytes = DEFAULT_MAX_OFFSET_METADATA_BYTES,
    logger,
    clock = Date.now,
  } = options;
  const positive = {
    flushBytes, maxPendingBytesPerPartition, maxRequestBytes, leaseTtlMs, agentTtlMs, defaultFetchMaxBytes, maxGroupMemberMetadataBytes, maxOffsetMetadataBytes,
    maxPartitionsPerRequest, maxInflightRequestBytes, maxConnections, handshakeTimeoutMs,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidConfigError(`agent option ${name} must be a positive integer, got ${value}`);
    }
  }
  const nonNegative = {
    port, flushIntervalMs, maxFetchWaitMs, leaseIdleReleaseMs, connectionIdleTimeoutMs, maintenanceIntervalMs, compactionMinObjectBytes, orphanGraceMs, groupInitialRebalanceDelayMs, segmentCacheBytes,
  };
  for (const [name, value] of Object.entries(nonNegative)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidConfigError(`agent option ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (maxInflightRequestBytes < maxRequestBytes) {
    throw new InvalidConfigError(
      `agent option maxInflightRequestBytes (${maxInflightRequestBytes}) is below maxRequestBytes (${maxRequestBytes}): ` +
        'a request of the largest accepted size could never be admitted; raise it or lower maxRequestBytes',
    );
  }
  if (port > 65535) throw new InvalidConfigError(`agent option port must be at most 65535, got ${port}`);
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(agentId)) {
    throw new InvalidConfigError(`agent option agentId must match [A-Za-z0-9._:-]{1,128}, got '${agentId}'`);
  }
  return {
    objectStore, metadataStore, host, port, advertisedAddress, agentId, walDir, flushIntervalMs, flushBytes,
    maxPendingBytesPerPartition, maxRequestBytes, leaseTtlMs, agentTtlMs, maxFetchWaitMs, defaultFetchMaxBytes, segmentCacheBytes,
    maintenanceIntervalMs, compactionMinObjectBytes, orphanGraceMs, groupInitialRebalanceDelayMs, logger, clock,
    maxGroupMemberMetadataBytes, maxOffsetMetadataBytes, leaseIdleReleaseMs, maxPartitionsPerRequest, maxInflightRequestBytes,
    maxConnections, connectionIdleTimeoutMs, handshakeTimeoutMs,
  };
}
