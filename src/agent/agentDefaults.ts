/**
 * The agent's defaults, defined once: `resolveAgentOptions` applies them, every `streamhouse serve` flag shows
 * them, and spec/docsDefaults.spec.ts checks README.md and docs/operations.md against them.
 */
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS } from './write/producerSequences.js';
import { DEFAULT_MAX_PARTITIONS_PER_REQUEST } from './server/requestLimits.js';
import { DEFAULT_MAX_INFLIGHT_REQUEST_BYTES } from './server/inflightRequests.js';
import {
  DEFAULT_CONNECTION_IDLE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
} from './server/connectionLimits.js';
import { DEFAULT_ACL_REFRESH_MS } from './acl/authorizerOptions.js';
import { DEFAULT_LEASE_IDLE_RELEASE_MS } from './leases/idleLeases.js';
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from './server/addressLimits.js';
import { DEFAULT_MAX_LONG_POLLS } from './read/longPolls.js';
import { DEFAULT_MAX_PARTITIONS_PER_TOPIC, DEFAULT_MAX_TOPICS } from './server/topicLimits.js';
import {
  DEFAULT_MAX_GROUP_MEMBERS,
  DEFAULT_MAX_MEMBER_METADATA_BYTES,
  DEFAULT_MAX_OFFSET_METADATA_BYTES,
} from './groups/groupLimits.js';

const MiB = 1024 * 1024;

/**
 * Default of each {@link AgentOptions} field that has a fixed one (see each field's comment for its meaning).
 * Defaults computed at start-up are not here: `agentId` (`<hostname>-<random>`), `leaseSafetyMarginMs`
 * (min(1000, leaseTtlMs / 5)); `maxInflightRequestBytes` is at least `maxRequestBytes` and `segmentCacheBytes` is 0
 * for a store the OS caches (a directory).
 */
export const AGENT_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  flushIntervalMs: 1,
  flushBytes: 4 * MiB,
  maxPendingBytesPerPartition: 64 * MiB,
  maxRequestBytes: 64 * MiB,
  maxDecompressedBatchBytes: 32 * MiB,
  maxTimestampAheadMs: 3_600_000,
  leaseTtlMs: 10_000,
  producerIdExpirationMs: DEFAULT_PRODUCER_ID_EXPIRATION_MS,
  maxInflightRequestBytes: DEFAULT_MAX_INFLIGHT_REQUEST_BYTES,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  connectionIdleTimeoutMs: DEFAULT_CONNECTION_IDLE_TIMEOUT_MS,
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  maxLongPolls: DEFAULT_MAX_LONG_POLLS,
  maxTopics: DEFAULT_MAX_TOPICS,
  maxPartitionsPerTopic: DEFAULT_MAX_PARTITIONS_PER_TOPIC,
  produceQuotaBytesPerSecond: 0,
  fetchQuotaBytesPerSecond: 0,
  leaseIdleReleaseMs: DEFAULT_LEASE_IDLE_RELEASE_MS,
  maxPartitionsPerRequest: DEFAULT_MAX_PARTITIONS_PER_REQUEST,
  agentTtlMs: 10_000,
  maxFetchWaitMs: 30_000,
  defaultFetchMaxBytes: MiB,
  segmentCacheBytes: 64 * MiB,
  maintenanceIntervalMs: 30_000,
  consoleRateSampleMs: 5000,
  compactionMinObjectBytes: MiB,
  orphanGraceMs: 600_000,
  groupInitialRebalanceDelayMs: 3000,
  storageRetryTimeoutMs: 30_000,
  storageFailureHoldMs: 5000,
  shutdownTimeoutMs: 10_000,
  startupTimeoutMs: 30_000,
  maxGroupMemberMetadataBytes: DEFAULT_MAX_MEMBER_METADATA_BYTES,
  maxGroupMembers: DEFAULT_MAX_GROUP_MEMBERS,
  maxOffsetMetadataBytes: DEFAULT_MAX_OFFSET_METADATA_BYTES,
  aclRefreshMs: DEFAULT_ACL_REFRESH_MS,
  kafkaAutoCreatePartitions: 0,
  /** What `streamhouse serve` adds: fixed ports (gRPC, Kafka, HTTP) and a data directory. */
  serve: {
    port: 9660,
    kafkaPort: 9092,
    httpPort: 9644,
    dataDir: './data',
    redisPrefix: 'streamhouse:',
    logLevel: 'info',
    /** `--auth`: no authentication. */
    auth: 'off',
    /** `--authorizer`: every call allowed. */
    authorizer: 'none',
  },
} as const;
