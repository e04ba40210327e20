/**
 * Options of the Producer, with Kafka-4-like defaults, applied and checked
 * once by `resolveProducerOptions`.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Logger } from 'pino';
import { checkBootstrap } from '../cluster/clusterMetadata.js';
import { checkClientTls, type ClientTlsOptions } from '../tlsOptions.js';
import { checkToken } from '../bearerToken.js';
import { InvalidConfigError } from '../../protocol/errors.js';
import { MAX_BATCH_SIZE } from '../../protocol/codec/batchLayout.js';

/**
 * Largest `batchBytes`: half the batch ceiling, so a batch closed at batchBytes of estimated record sizes always
 * encodes within MAX_BATCH_SIZE.
 */
export const MAX_BATCH_BYTES_OPTION = MAX_BATCH_SIZE / 2;
import { ENCODABLE_CODECS, type CompressionCodec } from '../../protocol/codec/compression.js';
import { DEFAULT_RETRY_POLICY, retryPolicy, type RetryPolicy } from '../retryPolicy.js';
import type { Partitioner } from '../partitioners/partitioner.js';
import { createDefaultPartitioner } from '../partitioners/defaultPartitioner.js';
import type { Payload } from './producerRecord.js';
import type { Serializer } from '../serde/serde.js';
import { defaultSerialize } from '../serde/builtins.js';
import { checkedSerializer } from '../serde/serializeField.js';

/** When the agent answers a produce request (see docs/guarantees.md). */
export type Acks = 'durable' | 'buffered' | 'none';

/** The producer's options; `K` and `V` are the key and value types its serialisers take (default: Payload). */
export type ProducerOptions<K = Payload, V = Payload> = {
  /** Agents to learn the cluster from, `host:port`. Required, at least one. */
  bootstrap: string[];
  /**
   * Turns a record's key into bytes (null keys stay null). Default: strings
   * as UTF-8, bytes as they are, anything else as JSON.
   */
  keySerializer?: Serializer<K>;
  /** Turns a record's value into bytes (null, a tombstone, stays null). Default: as `keySerializer`'s. */
  valueSerializer?: Serializer<V>;
  /** Names this client in agent logs. Default `'streamhouse-producer'`. */
  clientId?: string;
  /** How long a partition's batch waits for more records after its first, ms. Default 5. */
  lingerMs?: number;
  /**
   * A batch closes at this many bytes of records (records' estimated sizes), at most 32 MiB. Default 16 384 (16 KiB).
   */
  batchBytes?: number;
  /** A batch closes at this many records. Default 10 000. */
  batchRecords?: number;
  /**
   * Compression of each batch's records: `'none'`, `'gzip'`, `'snappy'`, `'lz4'` (LZ4 frame format) or `'zstd'`.
   * Default `'none'`.
   */
  compression?: CompressionCodec;
  /** Ack mode of every request. Default `'durable'`. */
  acks?: Acks;
  /** Idempotent sends: the agent drops a retried duplicate. Default true. */
  idempotence?: boolean;
  /**
   * Retries of a batch's retriable failures (NOT_LEADER, AGENT_UNAVAILABLE,
   * REQUEST_TIMED_OUT, …) and of a new producer epoch. Defaults: `maxRetries`
   * Infinity (a batch is retried until `deliveryTimeoutMs`, as Kafka's
   * `retries` bounded by `delivery.timeout.ms`), `initialBackoffMs` 100
   * doubling (`multiplier` 2) up to `maxBackoffMs` 1000 (Kafka's
   * `retry.backoff.ms` and `retry.backoff.max.ms`), `jitter` 0.2 (±20 %).
   */
  retry?: Partial<RetryPolicy>;
  /** Timeout of one produce request, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** A record not acknowledged this long after `send` fails with DeliveryTimeoutError, ms. Default 120 000. */
  deliveryTimeoutMs?: number;
  /** Requests in flight per partition. Default 5 with idempotence (at most 5), else 1 (keeps order through retries). */
  maxInFlightPerPartition?: number;
  /** Requests in flight across all partitions. Default 64. */
  maxInFlightRequests?: number;
  /**
   * Bytes of records accepted but not yet acknowledged. Default 32 MiB.
   * Besides, the producer keeps for reuse up to this many bytes (at most
   * 64 MiB) of emptied batch buffers, and as many of answered request buffers.
   */
  maxBufferedBytes?: number;
  /** How long `send` waits for buffer room before failing with BufferFullError, ms. Default 60 000. */
  maxBlockMs?: number;
  /** Picks a partition for records without one. Default: murmur2 of the key (Kafka's), sticky for null keys. */
  partitioner?: Partitioner;
  /** Periodic cluster metadata refresh, ms. Default 30 000. */
  metadataRefreshMs?: number;
  /**
   * Scheduler of every time-based step (linger, backoff, delivery timeout, request deadlines, maxBlockMs, metadata
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

/**
 * Most requests in flight per partition with idempotence: agents remember a producer's last five batches per partition
 * (as Kafka).
 */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/**
 * The producer's retry defaults ({@link ProducerOptions.retry}): Kafka's backoff, retries bounded only by the delivery
 * timeout.
 */
export const DEFAULT_PRODUCER_RETRY: Readonly<RetryPolicy> = Object.freeze({
  ...DEFAULT_RETRY_POLICY,
  maxRetries: Infinity,
});

export type ResolvedProducerOptions = Required<
  Omit<ProducerOptions, 'logger' | 'retry' | 'tls' | 'token' | 'keySerializer' | 'valueSerializer'>
> & {
  keySerializer: Serializer<unknown>;
  valueSerializer: Serializer<unknown>;
  tls: ClientTlsOptions | undefined;
  token: string | undefined;
  retry: RetryPolicy;
  logger: Logger | undefined;
};

export function resolveProducerOptions<K, V>(options: ProducerOptions<K, V>): ResolvedProducerOptions {
  const {
    bootstrap,
    clientId = 'streamhouse-producer',
    lingerMs = 5,
    batchBytes = 16 * 1024,
    batchRecords = 10_000,
    compression = 'none',
    acks = 'durable',
    idempotence = true,
    retry = {},
    requestTimeoutMs = 30_000,
    deliveryTimeoutMs = 120_000,
    maxInFlightPerPartition = idempotence ? 5 : 1,
    maxInFlightRequests = 64,
    maxBufferedBytes = 32 * 1024 * 1024,
    maxBlockMs = 60_000,
    partitioner = createDefaultPartitioner(),
    metadataRefreshMs = 30_000,
    scheduler = asyncScheduler,
    tls,
    token,
    logger,
  } = options;
  checkBootstrap(bootstrap);
  const keySerializer = resolveSerializer('keySerializer', options.keySerializer as Serializer<unknown> | undefined);
  const valueSerializer = resolveSerializer(
    'valueSerializer',
    options.valueSerializer as Serializer<unknown> | undefined,
  );
  const positive = {
    batchBytes,
    batchRecords,
    requestTimeoutMs,
    deliveryTimeoutMs,
    maxInFlightPerPartition,
    maxInFlightRequests,
    maxBufferedBytes,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new InvalidConfigError(`producer option ${name} must be a positive integer, got ${value}`);
  }
  for (const [name, value] of Object.entries({ lingerMs, maxBlockMs, metadataRefreshMs })) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new InvalidConfigError(`producer option ${name} must be a non-negative integer, got ${value}`);
  }
  if (!ENCODABLE_CODECS.includes(compression))
    throw new InvalidConfigError(
      `compression must be one of ${ENCODABLE_CODECS.join(', ')}, got '${String(compression)}'`,
    );
  if (acks !== 'durable' && acks !== 'buffered' && acks !== 'none') {
    throw new InvalidConfigError(`acks must be 'durable', 'buffered' or 'none', got '${String(acks)}'`);
  }
  if (idempotence && acks === 'none')
    throw new InvalidConfigError(
      "idempotence needs acks 'durable' or 'buffered': set idempotence: false for acks 'none'",
    );
  if (!idempotence && maxInFlightPerPartition > 1 && options.maxInFlightPerPartition !== undefined) {
    throw new InvalidConfigError(
      'maxInFlightPerPartition > 1 can reorder records on retry without idempotence; enable idempotence or use 1',
    );
  }
  if (idempotence && maxInFlightPerPartition > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw new InvalidConfigError(
      `maxInFlightPerPartition must be at most ${MAX_IDEMPOTENT_IN_FLIGHT} with idempotence (agents recognise ` +
        `retries of a producer's last ${MAX_IDEMPOTENT_IN_FLIGHT} batches only), got ${maxInFlightPerPartition}`,
    );
  }
  if (batchBytes > MAX_BATCH_BYTES_OPTION)
    throw new InvalidConfigError(
      `producer option batchBytes must be at most ${MAX_BATCH_BYTES_OPTION} (32 MiB), got ${batchBytes}`,
    );
  if (maxBufferedBytes < batchBytes)
    throw new InvalidConfigError(`maxBufferedBytes (${maxBufferedBytes}) must be at least batchBytes (${batchBytes})`);
  const retryDefaults = { maxRetries: retry.maxRetries ?? DEFAULT_PRODUCER_RETRY.maxRetries };
  return {
    bootstrap,
    clientId,
    lingerMs,
    batchBytes,
    batchRecords,
    compression,
    acks,
    idempotence,
    retry: retryPolicy({ ...retry, ...retryDefaults }),
    requestTimeoutMs,
    deliveryTimeoutMs,
    maxInFlightPerPartition,
    maxInFlightRequests,
    maxBufferedBytes,
    maxBlockMs,
    partitioner,
    metadataRefreshMs,
    scheduler,
    tls: tls === undefined ? undefined : checkClientTls(tls),
    token: token === undefined ? undefined : checkToken(token),
    logger,
    keySerializer,
    valueSerializer,
  };
}

/** The default serialiser, or the user's one checked to return bytes. */
function resolveSerializer(name: string, serializer: Serializer<unknown> | undefined): Serializer<unknown> {
  if (serializer === undefined) return defaultSerialize;
  if (typeof serializer !== 'function')
    throw new InvalidConfigError(`producer option ${name} must be a function (value, topic) => Uint8Array`);
  return checkedSerializer(serializer);
}
