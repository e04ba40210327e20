/**
 * `streamhouse serve`: runs one agent in the foreground until SIGINT/SIGTERM,
 * then shuts down gracefully (stop accepting, finish in-flight requests,
 * flush, release leases) within --shutdown-timeout-ms, and exits.
 *
 * The data directory is locked while the agent runs (a second `serve` on it
 * is refused), or with --agent-id that id in it (agents of distinct ids may
 * share a directory); the agent listens only once its stores answer (it waits up to
 * --startup-timeout-ms, logging each attempt) and otherwise exits non-zero
 * naming the store.
 */
import { Command, Option } from 'commander';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createAgentLogger } from './agentLogger.js';
import { createObjectStore } from '../storage/createObjectStore.js';
import { createMetadataStore } from '../metadata/createMetadataStore.js';
import { startAgent, type Agent } from '../agent/agent.js';
import type { AgentTlsOptions, ClientAuth } from '../agent/tls/tlsOptions.js';
import type { AuthorizerOptions } from '../agent/acl/authorizerOptions.js';
import { addAuthorizerOptions, authorizerOptions, type AuthorizerFlags } from './authorizerFlags.js';
import type { AuthMode } from '../auth/authOptions.js';
import { readAuthFile } from '../auth/authFile.js';
import { InvalidConfigError } from '../protocol/errors.js';
import { addLimitFlags, limitOptions, type LimitFlags } from './limitFlags.js';
import type { AgentOptions } from '../agent/agentOptions.js';
import { AGENT_DEFAULTS } from '../agent/agentDefaults.js';
import { DirectoryLock } from '../agent/server/directoryLock.js';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../metadata/redis/redisOptions.js';
import type { ObjectStore } from '../storage/objectStore.js';
import type { OpenedMetadataStore } from '../metadata/createMetadataStore.js';
import { booleanOption } from './agentOption.js';
import { integerOption, type IntegerRange } from './integerOption.js';
import { applyHeapGrowingPercent, DEFAULT_HEAP_GROWING_PERCENT, MAX_HEAP_GROWING_PERCENT } from './heapTuning.js';

export type ServeFlags = AuthorizerFlags & {
  host: string;
  port: number;
  dataDir: string;
  objectStore?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3PathStyle?: boolean;
  metadata?: string;
  redisPrefix: string;
  redisCommandTimeoutMs?: number;
  agentId?: string;
  advertisedAddress?: string;
  kafka: boolean;
  kafkaPort: number;
  kafkaAdvertisedAddress?: string;
  kafkaAutoCreatePartitions: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth?: ClientAuth;
  auth: AuthMode;
  authFile?: string;
  http: boolean;
  httpPort: number;
  wal: boolean;
  flushIntervalMs: number;
  flushBytes: number;
  leaseTtlMs: number;
  leaseSafetyMarginMs?: number;
  producerIdExpirationMs: number;
  maxRequestBytes: number;
  maxDecompressedBatchBytes: number;
  maxTimestampAheadMs: number;
  segmentCacheBytes?: number;
  maintenanceIntervalMs: number;
  storageRetryTimeoutMs?: number;
  storageFailureHoldMs?: number;
  shutdownTimeoutMs?: number;
  startupTimeoutMs?: number;
  heapGrowingPercent: number;
  maxInflightRequestBytes?: number;
  maxConnections: number;
  connectionIdleTimeoutMs: number;
  handshakeTimeoutMs: number;
  leaseIdleReleaseMs: number;
  maxPartitionsPerRequest: number;
  maxGroupMemberMetadataBytes: number;
  maxGroupMembers: number;
  maxOffsetMetadataBytes: number;
  logLevel: string;
} & LimitFlags;

const int = (name: string, range?: IntegerRange) => integerOption(name, range);
const POSITIVE: IntegerRange = { min: 1 };

export function serveCommand(): Command {
  return addAuthorizerOptions(serveCommandWithoutAuthorizer());
}

function serveCommandWithoutAuthorizer(): Command {
  return addLimitFlags(new Command('serve'))
    .description('run an agent in the foreground (Ctrl-C stops it gracefully)')
    .addOption(
      new Option('--host <host>', 'interface to listen on').env('STREAMHOUSE_HOST').default(AGENT_DEFAULTS.host),
    )
    .addOption(
      new Option('--port <port>', 'port to listen on (0 = any free port)')
        .env('STREAMHOUSE_PORT')
        .default(AGENT_DEFAULTS.serve.port)
        .argParser(int('--port', { max: 65535 })),
    )
    .addOption(
      new Option('--data-dir <dir>', 'directory for the embedded defaults: objects/, metadata.db, wal/')
        .env('STREAMHOUSE_DATA_DIR')
        .default(AGENT_DEFAULTS.serve.dataDir),
    )
    .addOption(
      new Option(
        '--object-store <url>',
        'a directory, file:///dir or s3://bucket/prefix (default <data-dir>/objects)',
      ).env('STREAMHOUSE_OBJECT_STORE'),
    )
    .addOption(
      new Option('--s3-endpoint <url>', 'S3-compatible endpoint, e.g. http://127.0.0.1:9000').env(
        'STREAMHOUSE_S3_ENDPOINT',
      ),
    )
    .addOption(new Option('--s3-region <region>', 'S3 region').env('AWS_REGION'))
    .addOption(
      new Option('--s3-path-style [bool]', 'path-style S3 addressing (most S3-compatible servers): true or false')
        .env('STREAMHOUSE_S3_PATH_STYLE')
        .preset('true')
        .argParser(booleanOption('--s3-path-style')),
    )
    .addOption(
      new Option('--metadata <url>', 'SQLite file path or redis://host:port/db (default <data-dir>/metadata.db)').env(
        'STREAMHOUSE_METADATA',
      ),
    )
    .addOption(
      new Option('--redis-prefix <prefix>', 'key prefix in Redis')
        .env('STREAMHOUSE_REDIS_PREFIX')
        .default(AGENT_DEFAULTS.serve.redisPrefix),
    )
    .addOption(
      new Option(
        '--redis-command-timeout-ms <ms>',
        `a Redis command without an answer fails after this long (default ${DEFAULT_REDIS_COMMAND_TIMEOUT_MS})`,
      )
        .env('STREAMHOUSE_REDIS_COMMAND_TIMEOUT_MS')
        .argParser(int('--redis-command-timeout-ms')),
    )
    .addOption(
      new Option(
        '--agent-id <id>',
        'unique agent id (default: kept in <data-dir>/agent-id, created as <hostname>-<random>)',
      ).env('STREAMHOUSE_AGENT_ID'),
    )
    .addOption(
      new Option('--advertised-address <host:port>', 'address clients dial, if not host:port').env(
        'STREAMHOUSE_ADVERTISED_ADDRESS',
      ),
    )
    .addOption(
      new Option('--kafka-port <port>', 'port of the Kafka wire protocol (0 = any free port)')
        .env('STREAMHOUSE_KAFKA_PORT')
        .default(AGENT_DEFAULTS.serve.kafkaPort)
        .argParser(int('--kafka-port', { max: 65535 })),
    )
    .addOption(
      new Option('--kafka-advertised-address <host:port>', 'address Kafka clients dial, if not host:kafka-port').env(
        'STREAMHOUSE_KAFKA_ADVERTISED_ADDRESS',
      ),
    )
    .addOption(
      new Option(
        '--kafka-auto-create-partitions <n>',
        'Kafka Metadata for a missing topic creates it with n partitions (0 = never, as Kafka with auto-creation off)',
      )
        .env('STREAMHOUSE_KAFKA_AUTO_CREATE_PARTITIONS')
        .default(AGENT_DEFAULTS.kafkaAutoCreatePartitions)
        .argParser(int('--kafka-auto-create-partitions', { min: 0 })),
    )
    .addOption(new Option('--no-kafka', 'serve no Kafka wire protocol'))
    .addOption(
      new Option(
        '--tls-cert <file>',
        'PEM certificate chain: serve gRPC, Kafka and HTTP over TLS (SIGHUP reloads it)',
      ).env('STREAMHOUSE_TLS_CERT'),
    )
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('STREAMHOUSE_TLS_KEY'))
    .addOption(
      new Option('--tls-ca <file>', 'PEM CA certificates client certificates are checked against').env(
        'STREAMHOUSE_TLS_CA',
      ),
    )
    .addOption(
      new Option('--tls-client-auth <mode>', 'client certificates: none, optional or required (needs --tls-ca)')
        .env('STREAMHOUSE_TLS_CLIENT_AUTH')
        .choices(['none', 'optional', 'required']),
    )
    .addOption(
      new Option(
        '--auth <mode>',
        'authentication: off, optional or required (bearer tokens, client certificates, SASL)',
      )
        .env('STREAMHOUSE_AUTH')
        .choices(['off', 'optional', 'required'])
        .default(AGENT_DEFAULTS.serve.auth),
    )
    .addOption(
      new Option(
        '--auth-file <file>',
        "JSON users beside the metadata store's (`streamhouse users add --auth-file`)",
      ).env('STREAMHOUSE_AUTH_FILE'),
    )
    .addOption(
      new Option('--http-port <port>', 'port of Prometheus /metrics, /healthz and /readyz (0 = any free port)')
        .env('STREAMHOUSE_HTTP_PORT')
        .default(AGENT_DEFAULTS.serve.httpPort)
        .argParser(int('--http-port', { max: 65535 })),
    )
    .addOption(new Option('--no-http', 'serve no HTTP port (no metrics, no health endpoints)'))
    .addOption(new Option('--no-wal', 'disable the write-ahead log in <data-dir>/wal (and so `buffered` acks)'))
    .addOption(
      new Option('--flush-interval-ms <ms>', 'an idle partition waits this long for more batches to share an object')
        .env('STREAMHOUSE_FLUSH_INTERVAL_MS')
        .default(AGENT_DEFAULTS.flushIntervalMs)
        .argParser(int('--flush-interval-ms')),
    )
    .addOption(
      new Option('--flush-bytes <bytes>', 'flush a partition at once at this many pending bytes')
        .env('STREAMHOUSE_FLUSH_BYTES')
        .default(AGENT_DEFAULTS.flushBytes)
        .argParser(int('--flush-bytes', POSITIVE)),
    )
    .addOption(
      new Option('--lease-ttl-ms <ms>', 'partition lease time to live')
        .env('STREAMHOUSE_LEASE_TTL_MS')
        .default(AGENT_DEFAULTS.leaseTtlMs)
        .argParser(int('--lease-ttl-ms', POSITIVE)),
    )
    .addOption(
      new Option('--max-request-bytes <bytes>', 'largest gRPC message')
        .env('STREAMHOUSE_MAX_REQUEST_BYTES')
        .default(AGENT_DEFAULTS.maxRequestBytes)
        .argParser(int('--max-request-bytes', POSITIVE)),
    )
    .addOption(
      new Option(
        '--segment-cache-bytes <bytes>',
        'cache of segment data for Fetch (default 0 for a directory store, whose reads the page cache keeps; 64 MiB ' +
          'for S3)',
      )
        .env('STREAMHOUSE_SEGMENT_CACHE_BYTES')
        .argParser(int('--segment-cache-bytes')),
    )
    .addOption(
      new Option('--maintenance-interval-ms <ms>', 'compaction and retention period (0 = off)')
        .env('STREAMHOUSE_MAINTENANCE_INTERVAL_MS')
        .default(AGENT_DEFAULTS.maintenanceIntervalMs)
        .argParser(int('--maintenance-interval-ms')),
    )
    .addOption(
      new Option(
        '--heap-growing-percent <percent>',
        'V8 heap growth between full garbage collections (0 = V8 default; see src/cli/heapTuning.ts)',
      )
        .env('STREAMHOUSE_HEAP_GROWING_PERCENT')
        .default(DEFAULT_HEAP_GROWING_PERCENT)
        .argParser(int('--heap-growing-percent', { max: MAX_HEAP_GROWING_PERCENT })),
    )
    .addOption(
      new Option(
        '--max-inflight-request-bytes <bytes>',
        'request bytes held at once, beyond which requests are refused as AGENT_BUSY and retried by producers ' +
          '(default 256 MiB, at least --max-request-bytes)',
      )
        .env('STREAMHOUSE_MAX_INFLIGHT_REQUEST_BYTES')
        .argParser(int('--max-inflight-request-bytes', POSITIVE)),
    )
    .addOption(
      new Option('--max-connections <n>', 'most client connections open at once; extra ones are closed')
        .env('STREAMHOUSE_MAX_CONNECTIONS')
        .default(AGENT_DEFAULTS.maxConnections)
        .argParser(int('--max-connections', POSITIVE)),
    )
    .addOption(
      new Option(
        '--connection-idle-timeout-ms <ms>',
        'close a connection with no call under way for this long (0 = never)',
      )
        .env('STREAMHOUSE_CONNECTION_IDLE_TIMEOUT_MS')
        .default(AGENT_DEFAULTS.connectionIdleTimeoutMs)
        .argParser(int('--connection-idle-timeout-ms')),
    )
    .addOption(
      new Option(
        '--handshake-timeout-ms <ms>',
        'close a connection that has not completed its HTTP/2 handshake within this',
      )
        .env('STREAMHOUSE_HANDSHAKE_TIMEOUT_MS')
        .default(AGENT_DEFAULTS.handshakeTimeoutMs)
        .argParser(int('--handshake-timeout-ms', POSITIVE)),
    )
    .addOption(
      new Option(
        '--lease-idle-release-ms <ms>',
        'give up the lease of a partition nobody wrote to for this long (0 = never)',
      )
        .env('STREAMHOUSE_LEASE_IDLE_RELEASE_MS')
        .default(AGENT_DEFAULTS.leaseIdleReleaseMs)
        .argParser(int('--lease-idle-release-ms')),
    )
    .addOption(
      new Option('--max-partitions-per-request <n>', 'most partitions one Produce, Fetch or offsets request may name')
        .env('STREAMHOUSE_MAX_PARTITIONS_PER_REQUEST')
        .default(AGENT_DEFAULTS.maxPartitionsPerRequest)
        .argParser(int('--max-partitions-per-request', POSITIVE)),
    )
    .addOption(
      new Option(
        '--max-group-member-metadata-bytes <bytes>',
        'largest consumer-group member metadata, and assignment, accepted',
      )
        .env('STREAMHOUSE_MAX_GROUP_MEMBER_METADATA_BYTES')
        .default(AGENT_DEFAULTS.maxGroupMemberMetadataBytes)
        .argParser(int('--max-group-member-metadata-bytes', POSITIVE)),
    )
    .addOption(
      new Option('--max-group-members <n>', 'most members one consumer group may have')
        .env('STREAMHOUSE_MAX_GROUP_MEMBERS')
        .default(AGENT_DEFAULTS.maxGroupMembers)
        .argParser(int('--max-group-members', POSITIVE)),
    )
    .addOption(
      new Option('--max-offset-metadata-bytes <bytes>', 'largest offset-commit metadata accepted')
        .env('STREAMHOUSE_MAX_OFFSET_METADATA_BYTES')
        .default(AGENT_DEFAULTS.maxOffsetMetadataBytes)
        .argParser(int('--max-offset-metadata-bytes', POSITIVE)),
    )
    .addOption(
      new Option(
        '--lease-safety-margin-ms <ms>',
        "stop acknowledging this long before a lease runs out by this agent's clock (default min(1000, TTL / 5))",
      )
        .env('STREAMHOUSE_LEASE_SAFETY_MARGIN_MS')
        .argParser(int('--lease-safety-margin-ms')),
    )
    .addOption(
      new Option(
        '--producer-id-expiration-ms <ms>',
        'forget the idempotence state of a producer idle this long on a partition',
      )
        .env('STREAMHOUSE_PRODUCER_ID_EXPIRATION_MS')
        .default(AGENT_DEFAULTS.producerIdExpirationMs)
        .argParser(int('--producer-id-expiration-ms', POSITIVE)),
    )
    .addOption(
      new Option(
        '--max-decompressed-batch-bytes <bytes>',
        'largest records section of a compressed batch once decompressed',
      )
        .env('STREAMHOUSE_MAX_DECOMPRESSED_BATCH_BYTES')
        .default(AGENT_DEFAULTS.maxDecompressedBatchBytes)
        .argParser(int('--max-decompressed-batch-bytes', { min: 1, max: 64 * 1024 * 1024 })),
    )
    .addOption(
      new Option(
        '--max-timestamp-ahead-ms <ms>',
        'refuse batches whose max timestamp is further than this ahead of the clock (-1 = any)',
      )
        .env('STREAMHOUSE_MAX_TIMESTAMP_AHEAD_MS')
        .default(AGENT_DEFAULTS.maxTimestampAheadMs)
        .argParser(int('--max-timestamp-ahead-ms', { minusOne: 'accept any timestamp' })),
    )
    .addOption(
      new Option('--storage-retry-timeout-ms <ms>', `a flush retries a failing store this long, then its appends fail`)
        .env('STREAMHOUSE_STORAGE_RETRY_TIMEOUT_MS')
        .default(AGENT_DEFAULTS.storageRetryTimeoutMs)
        .argParser(int('--storage-retry-timeout-ms')),
    )
    .addOption(
      new Option('--storage-failure-hold-ms <ms>', `after a store failure a partition answers it at once this long`)
        .env('STREAMHOUSE_STORAGE_FAILURE_HOLD_MS')
        .default(AGENT_DEFAULTS.storageFailureHoldMs)
        .argParser(int('--storage-failure-hold-ms')),
    )
    .addOption(
      new Option('--shutdown-timeout-ms <ms>', `longest graceful stop; then pending appends fail`)
        .env('STREAMHOUSE_SHUTDOWN_TIMEOUT_MS')
        .default(AGENT_DEFAULTS.shutdownTimeoutMs)
        .argParser(int('--shutdown-timeout-ms')),
    )
    .addOption(
      new Option('--startup-timeout-ms <ms>', `wait this long for the stores at start, then exit non-zero`)
        .env('STREAMHOUSE_STARTUP_TIMEOUT_MS')
        .default(AGENT_DEFAULTS.startupTimeoutMs)
        .argParser(int('--startup-timeout-ms', POSITIVE)),
    )
    .addOption(
      new Option('--log-level <level>', 'trace, debug, info, warn, error, silent')
        .env('STREAMHOUSE_LOG_LEVEL')
        .default(AGENT_DEFAULTS.serve.logLevel),
    )
    .action(async (flags: ServeFlags) => serve(flags));
}

/**
 * The agent id kept in `<data-dir>/agent-id`, created on first start: a
 * restarted agent keeps its id, so it finds its own write-ahead log again.
 */
async function stableAgentId(dataDir: string): Promise<string> {
  const path = join(dataDir, 'agent-id');
  const stored = await readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  if (stored !== '') return stored;
  const id = `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${randomUUID().slice(0, 8)}`;
  await writeFile(path, `${id}\n`);
  return id;
}

export async function serve(flags: ServeFlags): Promise<void> {
  // A reader that went away (`serve | head`) must not crash the agent while it shuts down.
  process.stdout.on('error', () => undefined);
  applyHeapGrowingPercent(flags.heapGrowingPercent);
  const logger: Logger = createAgentLogger(flags.logLevel);
  // Listening for signals from the start: one sent as soon as the agent says it listens must not find the default
  // action.
  let serving = false;
  const signalled = new Promise<string>((resolve) => {
    let received: string | undefined;
    const onSignal = (signal: string) => {
      if (received !== undefined || !serving) {
        logger.warn({ signal }, serving ? 'second signal: exiting at once' : 'signal during start-up: exiting at once');
        process.exit(130);
      }
      received = signal;
      resolve(signal);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  const tls = tlsOptions(flags);
  const authorizer = authorizerOptions(flags);
  let running: Required<Opened> | undefined;
  if (tls !== undefined) {
    // SIGHUP reloads the certificate files; the ones in use stay when the new ones are unusable.
    process.on('SIGHUP', () => {
      const agent = running?.agent;
      if (agent === undefined) return logger.warn('SIGHUP during start-up: certificates not reloaded');
      agent.reloadTls().catch((err: unknown) => logger.error({ err }, 'TLS reload failed: certificates kept'));
    });
  }
  const dataDir = resolve(flags.dataDir);
  await mkdir(dataDir, { recursive: true });
  // An agent whose id is kept in the directory locks the directory, before the id is read or created (two would share
  // it);
  // agents given distinct --agent-id may share one (and replay each other's write-ahead logs), each locking its own id.
  const lock = await DirectoryLock.acquire(
    flags.agentId !== undefined
      ? { dir: dataDir, agentId: flags.agentId, lockFile: join(dataDir, `${flags.agentId}.lock`) }
      : { dir: dataDir },
  );
  const opened: Opened = {};
  try {
    running = await startServing(flags, dataDir, logger, opened, tls, authorizer);
  } catch (error) {
    await closeAll(opened);
    await lock.release();
    throw error;
  }
  serving = true;
  announce(running, { tls: tls !== undefined, auth: flags.auth !== 'off' });
  const signal = await signalled;
  logger.info({ signal }, 'shutting down');
  try {
    await closeAll(running);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exitCode = 1;
  }
  await lock.release();
  process.stdout.write('StreamHouse agent stopped.\n');
  // Work the shutdown bound gave up on (a store call that never answers) must not keep the process alive.
  process.exit();
}

/** The agent's tls option from the --tls-* flags, or undefined when none is given. */
function tlsOptions(flags: ServeFlags): AgentTlsOptions | undefined {
  const { tlsCert, tlsKey, tlsCa, tlsClientAuth } = flags;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (tlsCa !== undefined || tlsClientAuth !== undefined) {
      throw new InvalidConfigError('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    }
    return undefined;
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    throw new InvalidConfigError('--tls-cert and --tls-key go together: give both');
  }
  return {
    certFile: tlsCert,
    keyFile: tlsKey,
    ...(tlsCa !== undefined ? { caFile: tlsCa } : {}),
    ...(tlsClientAuth !== undefined ? { clientAuth: tlsClientAuth } : {}),
  };
}

/** What serve has opened so far. */
type Opened = { objectStore?: ObjectStore; metadata?: OpenedMetadataStore; agent?: Agent };

/** Opens the stores and starts the agent, recording each in `opened` as it goes (for closeAll on a failure). */
async function startServing(
  flags: ServeFlags,
  dataDir: string,
  logger: Logger,
  opened: Opened,
  tls: AgentTlsOptions | undefined,
  authorizer: AuthorizerOptions | undefined,
): Promise<Required<Opened>> {
  const s3: { endpoint?: string; region?: string; forcePathStyle?: boolean } = {};
  if (flags.s3Endpoint !== undefined) s3.endpoint = flags.s3Endpoint;
  if (flags.s3Region !== undefined) s3.region = flags.s3Region;
  if (flags.s3PathStyle !== undefined) s3.forcePathStyle = flags.s3PathStyle;
  const objectStore = (opened.objectStore = createObjectStore(flags.objectStore ?? join(dataDir, 'objects'), s3));
  const metadata = (opened.metadata = await createMetadataStore(flags.metadata ?? join(dataDir, 'metadata.db'), {
    keyPrefix: flags.redisPrefix,
    ...(flags.redisCommandTimeoutMs !== undefined ? { redisCommandTimeoutMs: flags.redisCommandTimeoutMs } : {}),
  }));
  const agentId = flags.agentId ?? (await stableAgentId(dataDir));
  const users = flags.authFile === undefined ? [] : await readAuthFile(flags.authFile);
  const options: AgentOptions = {
    agentId,
    objectStore,
    metadataStore: metadata.store,
    host: flags.host,
    port: flags.port,
    walDir: flags.wal ? join(dataDir, 'wal') : undefined,
    flushIntervalMs: flags.flushIntervalMs,
    flushBytes: flags.flushBytes,
    leaseTtlMs: flags.leaseTtlMs,
    producerIdExpirationMs: flags.producerIdExpirationMs,
    maxRequestBytes: flags.maxRequestBytes,
    maxDecompressedBatchBytes: flags.maxDecompressedBatchBytes,
    maxTimestampAheadMs: flags.maxTimestampAheadMs,
    maintenanceIntervalMs: flags.maintenanceIntervalMs,
    maxConnections: flags.maxConnections,
    connectionIdleTimeoutMs: flags.connectionIdleTimeoutMs,
    handshakeTimeoutMs: flags.handshakeTimeoutMs,
    leaseIdleReleaseMs: flags.leaseIdleReleaseMs,
    maxPartitionsPerRequest: flags.maxPartitionsPerRequest,
    maxGroupMemberMetadataBytes: flags.maxGroupMemberMetadataBytes,
    maxGroupMembers: flags.maxGroupMembers,
    maxOffsetMetadataBytes: flags.maxOffsetMetadataBytes,
    logger,
    ...limitOptions(flags),
    ...(flags.advertisedAddress !== undefined ? { advertisedAddress: flags.advertisedAddress } : {}),
    ...(flags.leaseSafetyMarginMs !== undefined ? { leaseSafetyMarginMs: flags.leaseSafetyMarginMs } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(authorizer !== undefined ? { authorizer } : {}),
    auth: { mode: flags.auth, users },
    ...(flags.kafka ? { kafkaPort: flags.kafkaPort, kafkaAutoCreatePartitions: flags.kafkaAutoCreatePartitions } : {}),
    ...(flags.http ? { httpPort: flags.httpPort } : {}),
    ...(flags.kafka && flags.kafkaAdvertisedAddress !== undefined
      ? { kafkaAdvertisedAddress: flags.kafkaAdvertisedAddress }
      : {}),
    ...(flags.maxInflightRequestBytes !== undefined ? { maxInflightRequestBytes: flags.maxInflightRequestBytes } : {}),
    ...(flags.segmentCacheBytes !== undefined ? { segmentCacheBytes: flags.segmentCacheBytes } : {}),
    ...(flags.storageRetryTimeoutMs !== undefined ? { storageRetryTimeoutMs: flags.storageRetryTimeoutMs } : {}),
    ...(flags.storageFailureHoldMs !== undefined ? { storageFailureHoldMs: flags.storageFailureHoldMs } : {}),
    ...(flags.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: flags.shutdownTimeoutMs } : {}),
    ...(flags.startupTimeoutMs !== undefined ? { startupTimeoutMs: flags.startupTimeoutMs } : {}),
  };
  const agent = (opened.agent = await startAgent(options));
  if (metadata.redis !== undefined) await agent.highWatermarks.connectRedis(metadata.redis, flags.redisPrefix);
  return { objectStore, metadata, agent };
}

/** Stops the agent (within its shutdownTimeoutMs), then closes the stores. */
async function closeAll(opened: Opened): Promise<void> {
  await opened.agent?.stop();
  const closed = await Promise.allSettled([opened.objectStore?.close(), opened.metadata?.store.close()]);
  for (const result of closed) if (result.status === 'rejected') throw result.reason;
}

/** What the start-up message must say about how to reach a secured agent. */
type Secured = { tls: boolean; auth: boolean };

function announce({ agent, objectStore, metadata }: Required<Opened>, secured: Secured): void {
  // A secured agent needs the client's CA and credentials on each command.
  const clientFlags = [
    ...(secured.tls ? ['--tls-ca <ca.crt>'] : []),
    ...(secured.auth ? ['(token in STREAMHOUSE_TOKEN)'] : []),
  ].join(' ');
  const cli = 'npm run cli --';
  const on = `--agent ${agent.address}${clientFlags === '' ? '' : ` ${clientFlags}`}`;
  const http = `${secured.tls ? 'https' : 'http'}://${agent.httpAddress}`;
  const kafka = agent.kafkaAddress;
  process.stdout.write(
    [
      `StreamHouse agent ${agent.agentId} listening on ${agent.address}`,
      `  objects:  ${objectStore.url}`,
      `  metadata: ${metadata.description}`,
      ...(agent.httpAddress === undefined
        ? []
        : [
            `  console:  ${http}/`,
            `  metrics:  ${http}/metrics (Prometheus)`,
            `  health:   ${http}/healthz, ${http}/readyz, gRPC grpc.health.v1.Health`,
          ]),
      ...(secured.tls ? ['  tls:      every port (clients need its CA)'] : []),
      ...(secured.auth ? ['  auth:     credentials required or checked (docs/security.md)'] : []),
      '',
      'Try it from another terminal:',
      `  ${cli} topics create demo --partitions 3 ${on}`,
      `  printf 'hello\\nworld\\n' | ${cli} produce demo ${on}`,
      `  ${cli} consume demo --from-beginning ${on}`,
      ...(kafka === undefined
        ? []
        : secured.tls || secured.auth
          ? ['', `Kafka clients: ${kafka} (security settings for kcat and KafkaJS: docs/security.md)`]
          : [
              '',
              `Kafka clients: ${kafka} (see docs/kafka.md), e.g. with kcat:`,
              `  kcat -b ${kafka} -L`,
              `  printf 'k1:hello\\nk2:world\\n' | kcat -b ${kafka} -P -t demo -K:`,
              `  kcat -b ${kafka} -C -t demo -o beginning -e -f '%k:%s\\n'`,
            ]),
      '',
      'Ctrl-C stops the agent gracefully.',
      '',
    ].join('\n'),
  );
}
