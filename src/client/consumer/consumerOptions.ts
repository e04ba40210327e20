/**
 * Options of the Consumer, with Kafka-like defaults, applied and checked once
 * by `resolveConsumerOptions`.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import { checkBootstrap } from '../cluster/clusterMetadata.js';
import { checkClientTls, type ClientTlsOptions } from '../tlsOptions.js';
import { checkToken } from '../bearerToken.js';
import { InvalidConfigError } from '../../protocol/errors.js';
import { cooperativeStickyAssignor } from '../assignors/cooperativeStickyAssignor.js';
import type { Assignor } from '../assignors/types.js';
import { DEFAULT_COMMIT_STRATEGY, type CommitStrategy } from '../offsets/commitStrategy.js';
import type { OffsetStore } from '../offsets/offsetStore.js';
import { DEFAULT_RESET_STRATEGY, type ResetStrategy } from '../offsets/resetStrategy.js';
import type { TopicPartition } from '../offsets/types.js';
import { retryPolicy, type RetryPolicy } from '../retryPolicy.js';
import {
  resolveDeserialization,
  type DeserializationOptions,
  type ResolvedDeserialization,
} from '../serde/deserializationOptions.js';

/** The consumer's options; `K` and `V` are what its deserialisers make of keys and values (default: bytes). */
export type ConsumerOptions<K = Uint8Array, V = Uint8Array> = DeserializationOptions<K, V> & {
  /** Agents to learn the cluster from, `host:port`. Required, at least one. */
  bootstrap: string[];
  /** Names this client in agent logs and prefixes its member id. Default `'streamhouse-consumer'`. */
  clientId?: string;
  /**
   * Consumer group. Required with `topics` (group management). With
   * `assignment` it is optional and only names where offsets are committed
   * (outside group management, generation -1); without it nothing is
   * committed and `commit()` fails with InvalidConfigError.
   */
  groupId?: string;
  /** Group mode: topics to subscribe to; the group spreads their partitions over its members. */
  topics?: string[];
  /** Manual mode: exactly these partitions, no group membership. Give `topics` or `assignment`, not both. */
  assignment?: TopicPartition[];
  /**
   * Assignors offered at JoinGroup, in order of preference; the group uses
   * the first that every member offers. Default `[cooperativeStickyAssignor]`:
   * sticky and balanced, and members keep consuming what they keep during a
   * rebalance (only moved partitions pause). The rebalance protocol is
   * cooperative when every offered assignor is cooperative, else eager (all
   * partitions are revoked before each rejoin).
   */
  assignors?: Assignor[];
  /**
   * The group drops a member not heard from for this long, ms. Default 10 000. Agents accept 6 000..300 000 by
   * default.
   */
  sessionTimeoutMs?: number;
  /** Time between heartbeats, ms; keep it well under a third of the session timeout. Default 3 000. */
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin during a rebalance, ms. Default 60 000. */
  rebalanceTimeoutMs?: number;
  /** Upper bound of bytes of one fetch response (all partitions). Default 16 MiB, at most 64 MiB. */
  fetchMaxBytes?: number;
  /** Upper bound of bytes per partition in one fetch (at least one whole stored batch is returned). Default 1 MiB. */
  maxPartitionFetchBytes?: number;
  /** Long-poll: how long an agent may wait for `fetchMinBytes` to arrive, ms. Default 500. */
  fetchMaxWaitMs?: number;
  /** Bytes an agent waits for before answering a fetch (or until `fetchMaxWaitMs`). Default 1. */
  fetchMinBytes?: number;
  /**
   * Bound of the prefetch buffer, in batches (one batch = one partition's
   * records from one fetch): batches fetched or being fetched and not yet
   * processed never exceed it, so a slow subscriber does not make memory
   * grow. Memory is at most about `maxPrefetchBatches × maxPartitionFetchBytes`. Default 16.
   */
  maxPrefetchBatches?: number;
  /**
   * When a record counts as processed (and may be committed). `'delivery'`
   * (default): once delivered (see Consumer). `'explicit'`: only once the
   * application called `record.ack()` (or `batch.ack()`), and an offset is
   * committed only when it and every earlier offset of its partition were
   * acknowledged, so acknowledgements may come in any order (e.g. from
   * `mergeMap`). In `'delivery'` mode `ack()` is a no-op.
   */
  ackMode?: 'delivery' | 'explicit';
  /**
   * With `ackMode: 'explicit'`: records of one partition delivered and not
   * yet committable (unacknowledged, or acknowledged after an
   * unacknowledged one) at which fetching that partition stops until
   * acknowledgements make room. At most one more fetched batch is delivered
   * beyond it. Default 10 000.
   */
  maxUnackedPerPartition?: number;
  /** When offsets are committed. Default `{ type: 'periodic', intervalMs: 5000 }`. */
  commitStrategy?: CommitStrategy;
  /**
   * Where to start when nothing is committed or the committed offset (or a
   * fetch position) is outside the log. Default `{ type: 'latest' }`, as
   * Kafka's `auto.offset.reset`: a new group reads only records produced from
   * now on; use `{ type: 'earliest' }` to read the whole log.
   */
  resetStrategy?: ResetStrategy;
  /**
   * Where committed offsets live. Default: the agents' group offsets
   * (CommitOffsets / FetchOffsets, fenced by generation in group mode).
   * `MemoryOffsetStore` and `RedisOffsetStore` work too (not fenced).
   */
  offsetStore?: OffsetStore;
  /** Retries of retriable failures (fetch, ListOffsets, group calls). Defaults: see `retryPolicy`. */
  retry?: Partial<RetryPolicy>;
  /** Timeout of one request (a fetch gets `fetchMaxWaitMs` on top), ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Periodic cluster metadata refresh, ms; 0 disables. Default 30 000. */
  metadataRefreshMs?: number;
  /**
   * Scheduler of every time-based step (heartbeats, periodic commits, backoff, request deadlines, metadata
   * refreshes). Default `asyncScheduler`.
   */
  scheduler?: SchedulerLike;
  /** Connect to every agent over TLS (see ClientTlsOptions). Default plain text. */
  tls?: ClientTlsOptions;
  /** Bearer token sent to every agent (agents with `--auth`). Default none. */
  token?: string;
  /** Structured logger. Default none. */
  logger?: Logger;
};

/** Default of `maxUnackedPerPartition`. */
export const DEFAULT_MAX_UNACKED_PER_PARTITION = 10_000;

/** Largest gRPC message of the consumer's connections (the ConnectionPool default), bytes. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** @internal The options with every default applied. */
export type ResolvedConsumerOptions = Required<
  Omit<
    ConsumerOptions,
    'groupId' | 'topics' | 'assignment' | 'offsetStore' | 'retry' | 'logger' | 'tls' | 'token' | SerdeKeys
  >
> & {
  /** Deserialisation: see resolveDeserialization. */
  serde: ResolvedDeserialization;
  tls: ClientTlsOptions | undefined;
  token: string | undefined;
  groupId: string | undefined;
  /** Subscribed topics, sorted; undefined in manual mode. */
  topics: string[] | undefined;
  /** Assigned partitions, sorted; undefined in group mode. */
  assignment: TopicPartition[] | undefined;
  offsetStore: OffsetStore | undefined;
  retry: RetryPolicy;
  logger: Logger | undefined;
};

type SerdeKeys = keyof DeserializationOptions<unknown, unknown>;

/** @internal Applies defaults and checks every option; throws InvalidConfigError naming what to change. */
export function resolveConsumerOptions<K, V>(options: ConsumerOptions<K, V>): ResolvedConsumerOptions {
  const {
    bootstrap,
    clientId = 'streamhouse-consumer',
    groupId,
    topics,
    assignment,
    assignors = [cooperativeStickyAssignor],
    sessionTimeoutMs = 10_000,
    heartbeatIntervalMs = 3_000,
    rebalanceTimeoutMs = 60_000,
    fetchMaxBytes = 16 * 1024 * 1024,
    maxPartitionFetchBytes = 1024 * 1024,
    fetchMaxWaitMs = 500,
    fetchMinBytes = 1,
    maxPrefetchBatches = 16,
    ackMode = 'delivery',
    maxUnackedPerPartition = DEFAULT_MAX_UNACKED_PER_PARTITION,
    commitStrategy = DEFAULT_COMMIT_STRATEGY,
    resetStrategy = DEFAULT_RESET_STRATEGY,
    offsetStore,
    retry = {},
    requestTimeoutMs = 30_000,
    metadataRefreshMs = 30_000,
    scheduler = asyncScheduler,
    tls,
    token,
    logger,
  } = options;
  checkBootstrap(bootstrap);
  if ((topics === undefined) === (assignment === undefined)) {
    throw new InvalidConfigError('give either topics (group mode) or assignment (manual mode), exactly one of them');
  }
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId === '')) {
    throw new InvalidConfigError('groupId must be a non-empty string when given');
  }
  if (topics !== undefined) checkTopics(topics, groupId);
  if (assignment !== undefined) checkAssignment(assignment);
  if (
    !Array.isArray(assignors) ||
    assignors.length === 0 ||
    new Set(assignors.map((a) => a.name)).size !== assignors.length
  ) {
    throw new InvalidConfigError('assignors must list at least one assignor, each name once');
  }
  const positive = {
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs,
    fetchMaxBytes,
    maxPartitionFetchBytes,
    fetchMinBytes,
    maxPrefetchBatches,
    requestTimeoutMs,
    maxUnackedPerPartition,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new InvalidConfigError(`consumer option ${name} must be a positive integer, got ${value}`);
  }
  for (const [name, value] of Object.entries({ fetchMaxWaitMs, metadataRefreshMs })) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new InvalidConfigError(`consumer option ${name} must be a non-negative integer, got ${value}`);
  }
  if (ackMode !== 'delivery' && ackMode !== 'explicit') {
    throw new InvalidConfigError(
      `consumer option ackMode must be 'delivery' or 'explicit', got ${JSON.stringify(ackMode)}`,
    );
  }
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs}); a third ` +
        `of it is usual`,
    );
  }
  if (fetchMaxBytes > MAX_MESSAGE_BYTES) {
    throw new InvalidConfigError(
      `fetchMaxBytes (${fetchMaxBytes}) must not exceed ${MAX_MESSAGE_BYTES}, the largest gRPC message a connection ` +
        `takes`,
    );
  }
  if (maxPartitionFetchBytes > fetchMaxBytes) {
    throw new InvalidConfigError(
      `maxPartitionFetchBytes (${maxPartitionFetchBytes}) must not exceed fetchMaxBytes (${fetchMaxBytes})`,
    );
  }
  const serde = resolveDeserialization(options as DeserializationOptions<unknown, unknown>);
  return {
    bootstrap,
    clientId,
    groupId,
    topics: topics === undefined ? undefined : [...new Set(topics)].sort(),
    assignment: assignment === undefined ? undefined : sortPartitions(assignment),
    assignors,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs,
    fetchMaxBytes,
    maxPartitionFetchBytes,
    fetchMaxWaitMs,
    fetchMinBytes,
    maxPrefetchBatches,
    ackMode,
    maxUnackedPerPartition,
    commitStrategy,
    resetStrategy,
    offsetStore,
    retry: retryPolicy(retry),
    requestTimeoutMs,
    metadataRefreshMs,
    scheduler,
    tls: tls === undefined ? undefined : checkClientTls(tls),
    token: token === undefined ? undefined : checkToken(token),
    logger,
    serde,
  };
}

function checkTopics(topics: string[], groupId: string | undefined): void {
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new InvalidConfigError(`topics must list at least one non-empty topic name, got ${JSON.stringify(topics)}`);
  }
  if (groupId === undefined)
    throw new InvalidConfigError(
      'topics (group mode) need a groupId; use assignment to read partitions without a group',
    );
}

function checkAssignment(assignment: TopicPartition[]): void {
  if (!Array.isArray(assignment) || assignment.length === 0) {
    throw new InvalidConfigError('assignment must list at least one { topic, partition }');
  }
  const seen = new Set<string>();
  for (const { topic, partition } of assignment) {
    if (typeof topic !== 'string' || topic === '' || !Number.isSafeInteger(partition) || partition < 0) {
      throw new InvalidConfigError(
        `assignment entry ${JSON.stringify({ topic, partition })} needs a topic name and a partition >= 0`,
      );
    }
    const key = `${partition}:${topic}`;
    if (seen.has(key)) throw new InvalidConfigError(`assignment lists ${topic}/${partition} twice`);
    seen.add(key);
  }
}

function sortPartitions(list: TopicPartition[]): TopicPartition[] {
  return list
    .map(({ topic, partition }) => ({ topic, partition }))
    .sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition));
}
