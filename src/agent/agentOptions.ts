/**
 * Options of one agent, with their defaults. `resolveAgentOptions` applies the
 * defaults once and validates, naming what to change.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { InvalidConfigError } from '../protocol/errors.js';
import { MAX_BATCH_SIZE } from '../protocol/codec/batchLayout.js';
import type { MetadataStore } from '../metadata/metadataStore.js';
import type { ObjectStore } from '../storage/objectStore.js';
import {
  resolveAuthorizerOptions,
  type AuthorizerOptions,
  type ResolvedAuthorizerOptions,
} from './acl/authorizerOptions.js';
import { resolveTlsOptions, type AgentTlsOptions, type ResolvedAgentTls } from './tls/tlsOptions.js';
import { resolveAuthOptions, type AuthOptions, type ResolvedAuthOptions } from '../auth/authOptions.js';
import { AGENT_DEFAULTS } from './agentDefaults.js';
import { checkRate, type PrincipalQuota } from './server/byteRateQuotas.js';

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
  /**
   * Port of the Kafka wire-protocol listener (on `host`); 0 picks a free one; undefined serves no Kafka. Default
   * undefined.
   */
  kafkaPort?: number;
  /** host:port Kafka clients should dial, when it differs from host:kafkaPort. Default `host:kafkaPort`. */
  kafkaAdvertisedAddress?: string;
  /**
   * Topic auto-creation on the Kafka port: a Metadata request that names a topic that does not exist (and allows
   * auto-creation) creates it with this many partitions, as Kafka's `auto.create.topics.enable` with
   * `num.partitions`; 0 creates nothing. ACLs (`create`) and the topic limits apply. Default 0.
   */
  kafkaAutoCreatePartitions?: number;
  /** TLS on the gRPC listener, with client certificates as `clientAuth` says. Default undefined: plain text. */
  tls?: AgentTlsOptions;
  /** Authentication of gRPC calls (bearer tokens, client certificates) and Kafka connections (SASL). Default off. */
  auth?: AuthOptions;
  /**
   * Checks every call against the metadata store's ACLs (docs/security.md, Authorisation); calls no ACL allows are
   * denied. Default undefined: every call is allowed.
   */
  authorizer?: AuthorizerOptions;
  /**
   * Port of the HTTP listener (on `host`) serving Prometheus `/metrics`, `/healthz` and `/readyz`; 0 picks a free one;
   * undefined serves no HTTP (and keeps no metrics). Default undefined (`serve` defaults to 9644).
   */
  httpPort?: number;
  /** Time between samples of the web console's produce and fetch rate chart, ms (at least 100). Default 5000. */
  consoleRateSampleMs?: number;
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
   * Largest records section of a compressed batch once decompressed; larger ones answer INVALID_RECORD. Default 32
   * MiB.
   */
  maxDecompressedBatchBytes?: number;
  /**
   * How far after the agent's clock a batch's max timestamp may lie, ms; later
   * ones answer INVALID_TIMESTAMP (Kafka's `log.message.timestamp.after.max.ms`).
   * -1 accepts any. Default 3600000 (one hour).
   */
  maxTimestampAheadMs?: number;
  /** Lease time to live, ms; renewed every third of it. Default 10000. */
  leaseTtlMs?: number;
  /**
   * The agent stops acknowledging (in every ack mode) and writing to its
   * write-ahead log this long before a lease's TTL runs out by its own
   * clock, counted from when it asked for the lease or its last renewal:
   * the allowance for clock drift between agents and the metadata store.
   * A partition whose lease may have expired so is leased again (a new
   * epoch, state reloaded from the store) before it serves again. At most
   * half of leaseTtlMs. Default min(1000, leaseTtlMs / 5).
   */
  leaseSafetyMarginMs?: number;
  /**
   * Idempotence state of a producer that has not written to a partition for
   * this long is dropped (Kafka's `producer.id.expiration.ms`); its next batch
   * there must start a new sequence. Default 86400000 (one day).
   */
  producerIdExpirationMs?: number;
  /**
   * Request bytes the agent holds at once over all calls (a Produce holds its
   * batches until acknowledged); a request that does not fit is refused with
   * AGENT_BUSY, which producers retry. At least maxRequestBytes. Default 256 MiB.
   */
  maxInflightRequestBytes?: number;
  /** Most client connections open at once (per listening address); extra ones are closed at once. Default 1024. */
  maxConnections?: number;
  /**
   * A connection with no call under way for this long is closed (the client reconnects when it needs to), ms; 0 never.
   * Default 300000.
   */
  connectionIdleTimeoutMs?: number;
  /** A connection that has not completed its HTTP/2 handshake within this is closed, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /**
   * Most connections one client address holds open at once, on the gRPC and on the Kafka port each; extra ones are
   * closed at once. Default 128.
   */
  maxConnectionsPerAddress?: number;
  /**
   * Most Fetch calls (gRPC and Kafka together) waiting for data at once; a Fetch that would wait beyond it is
   * answered at once with what is there. Default 1000.
   */
  maxLongPolls?: number;
  /** Most topics in the cluster; CreateTopic beyond it fails with INVALID_CONFIG. Default 10000. */
  maxTopics?: number;
  /** Most partitions of one topic; CreateTopic asking for more fails with INVALID_CONFIG. Default 1000. */
  maxPartitionsPerTopic?: number;
  /**
   * Produce bytes per second each principal may send (the TLS client certificate's CN, or `ANONYMOUS`); beyond it
   * answers are delayed (throttled), never dropped. 0: no quota. Default 0.
   */
  produceQuotaBytesPerSecond?: number;
  /** Fetch bytes per second each principal may read, as produceQuotaBytesPerSecond. 0: no quota. Default 0. */
  fetchQuotaBytesPerSecond?: number;
  /** Quotas of named principals, in place of the two defaults (0: not limited). Default none. */
  principalQuotas?: Readonly<Record<string, PrincipalQuota>>;
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
  /**
   * Unregistered objects under a partition (from fenced writers or interrupted compactions) are deleted once this old,
   * ms. Default 600000.
   */
  orphanGraceMs?: number;
  /**
   * How long the first join round of an empty consumer group stays open for
   * more members, ms (Kafka's `group.initial.rebalance.delay.ms`). Default 3000; 0 completes at once.
   */
  groupInitialRebalanceDelayMs?: number;
  /**
   * How long a partition's flush retries retriable store failures (a full
   * disk, an unreachable S3, a Redis outage), ms. Then the appends it holds
   * fail with the last error, the writer stops and releases the partition's
   * lease. Failures that no retry fixes (StorageFailureError) fail at once.
   * Default 30000; 0 fails on the first error.
   */
  storageRetryTimeoutMs?: number;
  /**
   * After a partition's writer stopped on a store failure, appends to that
   * partition on this agent fail at once with that error for this long, ms
   * (so `none` and `buffered` appends are not accepted into a failing
   * writer); the next append after it tries the store again. Default 5000.
   */
  storageFailureHoldMs?: number;
  /**
   * Longest graceful stop, ms: in-flight requests and flushes get this long,
   * then appends not yet answered fail with SHUTTING_DOWN and whatever is left
   * (releasing leases, deregistering) is abandoned as after a crash. Default 10000.
   */
  shutdownTimeoutMs?: number;
  /**
   * How long start-up waits for the metadata and object stores to answer,
   * retrying with a logged message each attempt, ms; then startAgent rejects
   * with the last error and nothing is left listening. Default 30000.
   */
  startupTimeoutMs?: number;
  /**
   * Largest consumer-group member metadata a JoinGroup may carry (client id,
   * protocol names and metadata), and largest assignment a leader may hand
   * a member, bytes; beyond it LIMIT_EXCEEDED. Default 1 MiB.
   */
  maxGroupMemberMetadataBytes?: number;
  /**
   * Most members one consumer group may have; a new member's join beyond it fails with GROUP_MAX_SIZE_REACHED
   * (never retriable), members already in the group are unaffected. Default 1000 (see DEFAULT_MAX_GROUP_MEMBERS).
   */
  maxGroupMembers?: number;
  /**
   * Largest offset-commit metadata, UTF-8 bytes; beyond it the partition's result is OFFSET_METADATA_TOO_LARGE.
   * Default 4096 (Kafka's).
   */
  maxOffsetMetadataBytes?: number;
  /** Structured logger. Default: a silent one. */
  logger?: Logger;
  /** Clock for lease and retention decisions. Default `Date.now`. */
  clock?: () => number;
};

/** Default {@link AgentOptions.storageRetryTimeoutMs}. */
export const DEFAULT_STORAGE_RETRY_TIMEOUT_MS = AGENT_DEFAULTS.storageRetryTimeoutMs;
/** Default {@link AgentOptions.segmentCacheBytes} for object stores the OS does not cache (S3). */
export const DEFAULT_SEGMENT_CACHE_BYTES = AGENT_DEFAULTS.segmentCacheBytes;

export type ResolvedAgentOptions = Required<
  Omit<
    AgentOptions,
    | 'walDir'
    | 'advertisedAddress'
    | 'kafkaPort'
    | 'kafkaAdvertisedAddress'
    | 'httpPort'
    | 'logger'
    | 'tls'
    | 'authorizer'
    | 'auth'
  >
> & {
  auth: ResolvedAuthOptions;
  tls: ResolvedAgentTls | undefined;
  authorizer: ResolvedAuthorizerOptions | undefined;
  walDir: string | undefined;
  advertisedAddress: string | undefined;
  kafkaPort: number | undefined;
  kafkaAdvertisedAddress: string | undefined;
  httpPort: number | undefined;
  logger: Logger | undefined;
};

export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  const {
    objectStore,
    metadataStore,
    host = AGENT_DEFAULTS.host,
    port = AGENT_DEFAULTS.port,
    advertisedAddress,
    kafkaPort,
    kafkaAdvertisedAddress,
    kafkaAutoCreatePartitions = AGENT_DEFAULTS.kafkaAutoCreatePartitions,
    tls,
    authorizer,
    auth,
    httpPort,
    agentId = `${hostname()}-${randomUUID().slice(0, 8)}`,
    walDir,
    flushIntervalMs = AGENT_DEFAULTS.flushIntervalMs,
    flushBytes = AGENT_DEFAULTS.flushBytes,
    maxPendingBytesPerPartition = AGENT_DEFAULTS.maxPendingBytesPerPartition,
    maxRequestBytes = AGENT_DEFAULTS.maxRequestBytes,
    maxDecompressedBatchBytes = AGENT_DEFAULTS.maxDecompressedBatchBytes,
    maxTimestampAheadMs = AGENT_DEFAULTS.maxTimestampAheadMs,
    leaseTtlMs = AGENT_DEFAULTS.leaseTtlMs,
    leaseSafetyMarginMs = Math.min(1000, Math.floor(leaseTtlMs / 5)),
    producerIdExpirationMs = AGENT_DEFAULTS.producerIdExpirationMs,
    maxInflightRequestBytes = Math.max(AGENT_DEFAULTS.maxInflightRequestBytes, maxRequestBytes),
    maxConnections = AGENT_DEFAULTS.maxConnections,
    connectionIdleTimeoutMs = AGENT_DEFAULTS.connectionIdleTimeoutMs,
    handshakeTimeoutMs = AGENT_DEFAULTS.handshakeTimeoutMs,
    maxConnectionsPerAddress = AGENT_DEFAULTS.maxConnectionsPerAddress,
    maxLongPolls = AGENT_DEFAULTS.maxLongPolls,
    maxTopics = AGENT_DEFAULTS.maxTopics,
    maxPartitionsPerTopic = AGENT_DEFAULTS.maxPartitionsPerTopic,
    produceQuotaBytesPerSecond = AGENT_DEFAULTS.produceQuotaBytesPerSecond,
    fetchQuotaBytesPerSecond = AGENT_DEFAULTS.fetchQuotaBytesPerSecond,
    principalQuotas = {},
    leaseIdleReleaseMs = AGENT_DEFAULTS.leaseIdleReleaseMs,
    maxPartitionsPerRequest = AGENT_DEFAULTS.maxPartitionsPerRequest,
    agentTtlMs = AGENT_DEFAULTS.agentTtlMs,
    maxFetchWaitMs = AGENT_DEFAULTS.maxFetchWaitMs,
    segmentCacheBytes = objectStore.cachedByOs === true ? 0 : AGENT_DEFAULTS.segmentCacheBytes,
    defaultFetchMaxBytes = AGENT_DEFAULTS.defaultFetchMaxBytes,
    maintenanceIntervalMs = AGENT_DEFAULTS.maintenanceIntervalMs,
    consoleRateSampleMs = AGENT_DEFAULTS.consoleRateSampleMs,
    compactionMinObjectBytes = AGENT_DEFAULTS.compactionMinObjectBytes,
    orphanGraceMs = AGENT_DEFAULTS.orphanGraceMs,
    groupInitialRebalanceDelayMs = AGENT_DEFAULTS.groupInitialRebalanceDelayMs,
    storageRetryTimeoutMs = AGENT_DEFAULTS.storageRetryTimeoutMs,
    storageFailureHoldMs = AGENT_DEFAULTS.storageFailureHoldMs,
    shutdownTimeoutMs = AGENT_DEFAULTS.shutdownTimeoutMs,
    startupTimeoutMs = AGENT_DEFAULTS.startupTimeoutMs,
    maxGroupMemberMetadataBytes = AGENT_DEFAULTS.maxGroupMemberMetadataBytes,
    maxGroupMembers = AGENT_DEFAULTS.maxGroupMembers,
    maxOffsetMetadataBytes = AGENT_DEFAULTS.maxOffsetMetadataBytes,
    logger,
    clock = Date.now,
  } = options;
  const positive = {
    flushBytes,
    maxPendingBytesPerPartition,
    maxRequestBytes,
    maxDecompressedBatchBytes,
    leaseTtlMs,
    agentTtlMs,
    defaultFetchMaxBytes,
    maxGroupMemberMetadataBytes,
    maxGroupMembers,
    maxOffsetMetadataBytes,
    maxPartitionsPerRequest,
    maxInflightRequestBytes,
    maxConnections,
    handshakeTimeoutMs,
    maxConnectionsPerAddress,
    maxLongPolls,
    maxTopics,
    maxPartitionsPerTopic,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidConfigError(`agent option ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(startupTimeoutMs) || startupTimeoutMs <= 0) {
    throw new InvalidConfigError(`agent option startupTimeoutMs must be a positive integer, got ${startupTimeoutMs}`);
  }
  const nonNegative = {
    port,
    flushIntervalMs,
    leaseSafetyMarginMs,
    maxFetchWaitMs,
    leaseIdleReleaseMs,
    connectionIdleTimeoutMs,
    maintenanceIntervalMs,
    compactionMinObjectBytes,
    orphanGraceMs,
    groupInitialRebalanceDelayMs,
    segmentCacheBytes,
    storageRetryTimeoutMs,
    storageFailureHoldMs,
    shutdownTimeoutMs,
    kafkaAutoCreatePartitions,
  };
  if (!Number.isSafeInteger(consoleRateSampleMs) || consoleRateSampleMs < 100) {
    throw new InvalidConfigError(
      `agent option consoleRateSampleMs must be an integer >= 100, got ${consoleRateSampleMs}`,
    );
  }
  for (const [name, value] of Object.entries(nonNegative)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidConfigError(`agent option ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(maxTimestampAheadMs) || maxTimestampAheadMs < -1) {
    throw new InvalidConfigError(
      `agent option maxTimestampAheadMs must be an integer >= -1, got ${maxTimestampAheadMs}`,
    );
  }
  if (maxDecompressedBatchBytes > MAX_BATCH_SIZE) {
    throw new InvalidConfigError(
      `agent option maxDecompressedBatchBytes must be at most ${MAX_BATCH_SIZE}, got ${maxDecompressedBatchBytes}`,
    );
  }
  if (maxInflightRequestBytes < maxRequestBytes) {
    throw new InvalidConfigError(
      `agent option maxInflightRequestBytes (${maxInflightRequestBytes}) is below maxRequestBytes ` +
        `(${maxRequestBytes}): ` +
        'a request of the largest accepted size could never be admitted; raise it or lower maxRequestBytes',
    );
  }
  checkRate('produceQuotaBytesPerSecond', produceQuotaBytesPerSecond);
  checkRate('fetchQuotaBytesPerSecond', fetchQuotaBytesPerSecond);
  if (typeof principalQuotas !== 'object' || principalQuotas === null) {
    throw new InvalidConfigError('agent option principalQuotas must be an object of principal to quotas');
  }
  for (const [principal, quota] of Object.entries(principalQuotas)) {
    checkRate(`principalQuotas.${principal}.produceBytesPerSecond`, quota?.produceBytesPerSecond ?? 0);
    checkRate(`principalQuotas.${principal}.fetchBytesPerSecond`, quota?.fetchBytesPerSecond ?? 0);
  }
  if (port > 65535) throw new InvalidConfigError(`agent option port must be at most 65535, got ${port}`);
  if (kafkaPort !== undefined && (!Number.isSafeInteger(kafkaPort) || kafkaPort < 0 || kafkaPort > 65535)) {
    throw new InvalidConfigError(`agent option kafkaPort must be an integer in [0, 65535], got ${kafkaPort}`);
  }
  if (httpPort !== undefined && (!Number.isSafeInteger(httpPort) || httpPort < 0 || httpPort > 65535)) {
    throw new InvalidConfigError(`agent option httpPort must be an integer in [0, 65535], got ${httpPort}`);
  }
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(agentId)) {
    throw new InvalidConfigError(`agent option agentId must match [A-Za-z0-9._:-]{1,128}, got '${agentId}'`);
  }
  if (!Number.isSafeInteger(producerIdExpirationMs) || producerIdExpirationMs <= 0) {
    throw new InvalidConfigError(
      `agent option producerIdExpirationMs must be a positive integer, got ${producerIdExpirationMs}`,
    );
  }
  if (kafkaAutoCreatePartitions > maxPartitionsPerTopic) {
    throw new InvalidConfigError(
      `agent option kafkaAutoCreatePartitions (${kafkaAutoCreatePartitions}) is above maxPartitionsPerTopic ` +
        `(${maxPartitionsPerTopic}): every topic it created would be refused`,
    );
  }
  if (leaseSafetyMarginMs > leaseTtlMs / 2) {
    throw new InvalidConfigError(
      `agent option leaseSafetyMarginMs must be at most half of leaseTtlMs (${leaseTtlMs}), got ${leaseSafetyMarginMs}`,
    );
  }
  return {
    objectStore,
    metadataStore,
    host,
    port,
    advertisedAddress,
    kafkaPort,
    kafkaAdvertisedAddress,
    kafkaAutoCreatePartitions,
    tls: tls === undefined ? undefined : resolveTlsOptions(tls),
    authorizer: authorizer === undefined ? undefined : resolveAuthorizerOptions(authorizer),
    auth: resolveAuthOptions(auth),
    httpPort,
    agentId,
    walDir,
    flushIntervalMs,
    flushBytes,
    maxPendingBytesPerPartition,
    maxRequestBytes,
    maxDecompressedBatchBytes,
    maxTimestampAheadMs,
    leaseTtlMs,
    agentTtlMs,
    maxFetchWaitMs,
    defaultFetchMaxBytes,
    segmentCacheBytes,
    maintenanceIntervalMs,
    consoleRateSampleMs,
    compactionMinObjectBytes,
    orphanGraceMs,
    groupInitialRebalanceDelayMs,
    logger,
    clock,
    leaseSafetyMarginMs,
    producerIdExpirationMs,
    storageRetryTimeoutMs,
    storageFailureHoldMs,
    shutdownTimeoutMs,
    startupTimeoutMs,
    maxGroupMemberMetadataBytes,
    maxGroupMembers,
    maxOffsetMetadataBytes,
    leaseIdleReleaseMs,
    maxPartitionsPerRequest,
    maxInflightRequestBytes,
    maxConnections,
    connectionIdleTimeoutMs,
    handshakeTimeoutMs,
    maxConnectionsPerAddress,
    maxLongPolls,
    maxTopics,
    maxPartitionsPerTopic,
    produceQuotaBytesPerSecond,
    fetchQuotaBytesPerSecond,
    principalQuotas,
  };
}
