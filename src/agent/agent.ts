/**
 * One StreamHouse agent: a nice-grpc server over an object store and a
 * metadata store. Stateless apart from leases: any agent serves any partition
 * once it holds the partition's lease.
 *
 * ```ts
 * const agent = await startAgent({ objectStore, metadataStore, port: 0 });
 * console.log(agent.address); // 127.0.0.1:41234
 * await agent.stop();
 * ```
 */
import { createServer, type Server } from 'nice-grpc';
import type { Logger } from 'pino';
import {
  type FetchRequest,
  type FetchResponse,
  type ProduceRequest,
  type StreamHouseServiceImplementation,
  HealthResponse_Status,
} from '../protocol/generated/streamhouse.js';
import { agentServiceDefinition } from '../protocol/grpc/serviceDefinition.js';
import { ReadBufferPool } from '../storage/readBufferPool.js';
import { withHttp2ReceiveWindow } from './server/http2Windows.js';
import { ShuttingDownError, UnknownTopicOrPartitionError } from '../protocol/errors.js';
import type { Lease, TopicInfo } from '../metadata/metadataStore.js';
import { SegmentReader } from '../storage/segmentReader.js';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './agentOptions.js';
import { LeaseManager } from './leases/leaseManager.js';
import { PartitionWriter, type LostAppends } from './write/partitionWriter.js';
import { PartitionReader } from './read/partitionReader.js';
import { SegmentCommitBatcher } from './write/segmentCommitBatcher.js';
import { HighWatermarkNotifier } from './read/highWatermarkNotifier.js';
import { errorMiddleware } from './server/errorMiddleware.js';
import { handleProduce } from './write/produceHandler.js';
import { handleFetch } from './read/fetchHandler.js';
import * as admin from './server/adminHandlers.js';
import { deleteGroup, describeGroup, listGroups } from './groups/groupAdmin.js';
import { AgentRegistry } from './server/agentRegistry.js';
import { GroupCoordinator } from './groups/groupCoordinator.js';
import { Maintenance } from './maintenance/maintenance.js';
import { WriteAheadLog } from './write/writeAheadLog.js';
import { recoverPartitionFromLogs, recoverWriteAheadLog, WalLogs } from './write/walRecovery.js';
import { checkStores } from './server/startupCheck.js';
import { DirectoryLock } from './server/directoryLock.js';
import { settlesWithin } from './server/timeLimit.js';
import { IdleLeases } from './leases/idleLeases.js';
import { limitPartitions } from './server/requestLimits.js';
import { InflightRequestBytes } from './server/inflightRequests.js';
import { withConnectionLimits, type ConnectionStats } from './server/connectionLimits.js';
import { join } from 'node:path';
import { VERSION } from '../version.js';
import { KafkaListener } from '../kafka/kafkaListener.js';
import { TopicIdResolver } from '../kafka/topicIds.js';
import { topicPartitionId } from '../protocol/topicPartition.js';
import { TlsCertificates } from './tls/tlsCertificates.js';
import { principalInterceptor } from './tls/principal.js';
import { Authenticator } from '../auth/authenticator.js';
import { authMiddleware } from '../auth/grpcAuth.js';
import { AgentMetrics } from '../http/agentMetrics.js';
import { HttpPort } from '../http/httpPort.js';
import { readGroupLag } from '../http/groupLag.js';
import { ConsoleHandler } from '../http/console/consoleHandler.js';
import { ReadinessCheck } from '../http/readiness.js';
import { InstrumentedObjectStore, instrumentMetadataStore } from '../http/instrumentedStores.js';
import { GrpcHealth, HealthDefinition } from './server/grpcHealth.js';
import { AclAuthorizer } from './acl/aclAuthorizer.js';
import { authorizedService } from './acl/authorizedService.js';
import { LongPolls } from './read/longPolls.js';
import { ByteRateQuotas } from './server/byteRateQuotas.js';
import { quotaMiddleware } from './server/quotaMiddleware.js';
import { checkPartitionLimit } from './server/topicLimits.js';
import { boundReceives, MAX_CONCURRENT_STREAMS, type ReceiveStats } from './server/receiveBudget.js';
import type { KafkaQuotas } from '../kafka/kafkaQuotas.js';

/** At most this much of shutdownTimeoutMs is kept for sending the answers of appends failed when it runs out. */
const ANSWER_GRACE_MS = 500;
const TOPIC_CACHE_MS = 1000;

export class Agent {
  readonly agentId: string;
  private server: Server | undefined;
  private port = 0;
  private readonly writers = new Map<string, Promise<PartitionWriter>>();
  private readonly topicCache = new Map<string, { topic: TopicInfo | undefined; until: number }>();
  private readonly leases: LeaseManager;
  private readonly notifier: HighWatermarkNotifier;
  /** The segment commits of all this agent's partition writers, grouped per event-loop turn. */
  private readonly commitBatcher: SegmentCommitBatcher;
  private readonly segments: SegmentReader;
  /** Buffers Fetch reads segment data into, handed back once an answer is encoded (without a block cache only). */
  private readonly readBuffers = new ReadBufferPool();
  private readonly reader: PartitionReader;
  private readonly registry: AgentRegistry;
  /** Bearer tokens and SASL credentials to principals (options.auth). */
  private readonly authenticator: Authenticator;
  private readonly groups: GroupCoordinator;
  private readonly maintenance: Maintenance;
  private readonly idleLeases: IdleLeases;
  private readonly inflight: InflightRequestBytes;
  private readonly connectionStats: ConnectionStats = {
    open: 0,
    refused: 0,
    handshakeTimeouts: 0,
    refusedPerAddress: 0,
  };
  /** Streams reset because the request they started to send did not fit maxInflightRequestBytes. */
  readonly receiveStats: ReceiveStats = { refusedStreams: 0 };
  /** Fetch calls waiting for data, over both protocols (maxLongPolls). */
  readonly longPolls: LongPolls;
  /** Produce and fetch byte-rate quotas per principal. */
  readonly quotas: KafkaQuotas;
  private wal: WriteAheadLog | undefined;
  /** Every agent's logs under walDir, read when a partition is opened, to replay what was acknowledged as buffered. */
  private readonly walLogs: WalLogs | undefined;
  /** The lock on this agent's write-ahead log directory. */
  private lock: DirectoryLock | undefined;
  /** `none` appends answered but never written, over all partitions. */
  private readonly lost: LostAppends = { batches: 0, records: 0 };
  private readonly startedAt = Date.now();
  private stopping = false;
  private readonly logger: Logger | undefined;
  private kafka: KafkaListener | undefined;
  private tls: TlsCertificates | undefined;
  /** Checks calls against the ACLs, when AgentOptions.authorizer turns it on. */
  private acl: AclAuthorizer | undefined;
  readonly options: ResolvedAgentOptions;
  /** Kept only when the agent serves HTTP (httpPort); its stores are then instrumented. */
  private readonly metrics: AgentMetrics | undefined;
  private http: HttpPort | undefined;
  /** Every start step done: ready to serve (see /readyz). */
  private started = false;
  private readonly grpcHealth = new GrpcHealth();

  constructor(resolved: ResolvedAgentOptions) {
    this.metrics =
      resolved.httpPort === undefined
        ? undefined
        : new AgentMetrics({
            leasesHeld: () => this.leases.all().length,
            longPollWaiters: () => this.notifier.waiting,
            // The store as given: a scrape's reads are not counted as the agent's store calls.
            groupLag: () => readGroupLag(resolved.metadataStore),
          });
    const options = (this.options =
      this.metrics === undefined
        ? resolved
        : {
            ...resolved,
            objectStore: new InstrumentedObjectStore(resolved.objectStore, this.metrics),
            metadataStore: instrumentMetadataStore(resolved.metadataStore, this.metrics),
          });
    this.agentId = options.agentId;
    // Every line an agent logs names it.
    this.logger = options.logger?.child({ agentId: options.agentId });
    this.walLogs = options.walDir === undefined ? undefined : new WalLogs(options.walDir);
    this.notifier = new HighWatermarkNotifier(this.logger);
    this.commitBatcher = new SegmentCommitBatcher(options.metadataStore);
    this.leases = new LeaseManager({
      store: options.metadataStore,
      agentId: options.agentId,
      ttlMs: options.leaseTtlMs,
      safetyMarginMs: options.leaseSafetyMarginMs,
      logger: this.logger,
      clock: options.clock,
      onLost: (lease) => {
        this.metrics?.leaseLost();
        this.dropWriter(lease.topic, lease.partition, lease.epoch);
      },
    });
    this.segments = new SegmentReader({ dataCacheBytes: options.segmentCacheBytes, readBuffers: this.readBuffers });
    this.reader = new PartitionReader(options.metadataStore, options.objectStore, this.segments, (topic, partition) =>
      this.localBounds(topic, partition),
    );
    this.registry = new AgentRegistry(options.metadataStore, options.agentId, options.agentTtlMs, this.logger);
    this.authenticator = new Authenticator(options.auth, options.metadataStore, this.logger, options.clock);
    this.groups = new GroupCoordinator({
      store: options.metadataStore,
      clock: options.clock,
      initialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
      maxMemberMetadataBytes: options.maxGroupMemberMetadataBytes,
      maxGroupMembers: options.maxGroupMembers,
      maxOffsetMetadataBytes: options.maxOffsetMetadataBytes,
      logger: this.logger,
    });
    this.maintenance = new Maintenance({
      metadataStore: options.metadataStore,
      objectStore: options.objectStore,
      segments: this.segments,
      leases: this.leases,
      agentId: options.agentId,
      intervalMs: options.maintenanceIntervalMs,
      compactionMinObjectBytes: options.compactionMinObjectBytes,
      orphanGraceMs: options.orphanGraceMs,
      clock: options.clock,
      logger: this.logger,
      onLogStartMoved: (topic, partition, offset) => this.writerIfOpen(topic, partition)?.setLogStartOffset(offset),
    });
    this.inflight = new InflightRequestBytes(options.maxInflightRequestBytes);
    this.longPolls = new LongPolls(options.maxLongPolls);
    this.quotas = quotasOf(options);
    this.idleLeases = new IdleLeases({
      idleMs: options.leaseIdleReleaseMs,
      held: () => this.leases.all(),
      keep: async (lease) => {
        const config = (await this.topic(lease.topic))?.config;
        return config !== undefined && (config.retentionMs >= 0 || config.retentionBytes >= 0);
      },
      release: (lease) => this.releaseIdleLease(lease),
      clock: options.clock,
      logger: this.logger,
    });
  }

  /** host:port clients dial. */
  get address(): string {
    return this.options.advertisedAddress ?? `${this.options.host}:${this.port}`;
  }

  /**
   * Starts serving: locks its write-ahead log directory, checks that both
   * stores answer (startupCheck.ts), replays the log, listens, registers,
   * starts background work. When any step fails, what was started is undone
   * (nothing is left listening) and the step's error is thrown.
   */
  async start(): Promise<void> {
    try {
      await this.startSteps();
    } catch (error) {
      this.logger?.error({ err: error }, 'agent failed to start');
      await this.undoStart();
      throw error;
    }
  }

  private async startSteps(): Promise<void> {
    if (this.options.walDir !== undefined) {
      // Beside the log directory, whose files are all log files.
      const { walDir, agentId } = this.options;
      this.lock = await DirectoryLock.acquire({
        dir: join(walDir, agentId),
        lockFile: join(walDir, `${agentId}.lock`),
        agentId,
      });
    }
    const { metadataStore, objectStore, startupTimeoutMs } = this.options;
    const { logger } = this;
    await checkStores({ metadataStore, objectStore, timeoutMs: startupTimeoutMs, logger });
    if (this.options.walDir !== undefined) {
      this.wal = await WriteAheadLog.open(join(this.options.walDir, this.agentId), this.logger);
      this.wal.onSynced = this.metrics?.walSynced;
    }
    if (this.options.tls !== undefined) this.tls = await TlsCertificates.load(this.options.tls);
    if (this.options.authorizer !== undefined) {
      const acl = new AclAuthorizer({ ...this.options.authorizer, store: metadataStore, logger });
      await acl.start();
      this.acl = acl;
    }
    const server = createServer({
      'grpc.max_receive_message_length': this.options.maxRequestBytes,
      'grpc.max_send_message_length': this.options.maxRequestBytes,
      'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
      // Also without TLS: it drops a principal a client claims in its metadata.
      interceptors: [principalInterceptor(this.logger)],
      ...(this.options.connectionIdleTimeoutMs > 0
        ? { 'grpc.max_connection_idle_ms': this.options.connectionIdleTimeoutMs }
        : {}),
    })
      .use(errorMiddleware)
      .use(this.inflight.middleware());
    // An encoded Fetch answer holds copies of its records: the buffers they were read into can be read into again.
    const releaseReads = (answer: FetchResponse): void => {
      for (const result of answer.results) this.readBuffers.release(result.records);
    };
    // Quotas charge the principal authentication settled on, so they run after it.
    server
      .with(authMiddleware(this.authenticator))
      .with(quotaMiddleware(this.quotas.produce, this.quotas.fetch))
      .add(agentServiceDefinition(this.options.maxRequestBytes, releaseReads), this.service());
    server.add(HealthDefinition, this.grpcHealth.implementation());
    this.server = server;
    this.leases.start();
    if (this.wal !== undefined) {
      // Before serving: replayed batches must get back the offsets they were acknowledged with.
      await recoverWriteAheadLog(this.wal, (topic, partition) => this.writer(topic, partition), this.logger);
    }
    // Large receive windows: a big Produce arrives without waiting for window updates (see http2Windows.ts).
    const { maxConnections, handshakeTimeoutMs, maxConnectionsPerAddress } = this.options;
    const listen = () => server.listen(`${this.options.host}:${this.options.port}`, this.tls?.credentials());
    this.port = await withHttp2ReceiveWindow(this.options.maxRequestBytes, () =>
      withConnectionLimits(
        { maxConnections, handshakeTimeoutMs, maxConnectionsPerAddress },
        this.connectionStats,
        listen,
        (http2Server) => boundReceives(http2Server, this.inflight, this.receiveStats),
      ),
    );
    await this.startKafka();
    await this.startHttp();
    await this.registry.start(this.address, this.kafkaAddress);
    this.maintenance.start();
    this.idleLeases.start();
    this.started = true;
    this.logger?.info({ address: this.address }, 'agent started');
  }

  /** Undoes what a failed start did: as a crash, but leases are given back and the lock released. */
  private async undoStart(): Promise<void> {
    this.stopping = true;
    this.acl?.stop();
    this.maintenance.stop();
    for (const writer of this.openWriters.values()) writer.abandon();
    void this.leases.releaseAll();
    this.registry.kill();
    this.server?.forceShutdown();
    await this.kafka?.close();
    await this.http?.close();
    await this.wal?.close();
    await this.lock?.release();
  }

  /**
   * Graceful stop: refuse new requests, let in-flight ones finish, flush every
   * writer, release leases so other agents take over at once, deregister.
   * Resolves within `shutdownTimeoutMs`: appends still unanswered by then fail
   * with SHUTTING_DOWN, connections are closed, and what is left undone
   * (lease release, deregistration) lapses after its TTL as after a crash.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.grpcHealth.notServing();
    this.acl?.stop();
    const { shutdownTimeoutMs } = this.options;
    const deadline = Date.now() + shutdownTimeoutMs;
    // The last part of the bound is for answering the appends failed at its end.
    const answerMs = Math.min(ANSWER_GRACE_MS, Math.floor(shutdownTimeoutMs / 5));
    this.maintenance.stop();
    this.idleLeases.stop();
    const kafkaClosed = Promise.resolve(this.kafka?.close());
    const shutdown = Promise.resolve(this.server?.shutdown());
    const flushes = [...this.writers.values()].map(async (w) => (await w).close());
    if (!(await settlesWithin(Promise.allSettled([...flushes, shutdown, kafkaClosed]), shutdownTimeoutMs - answerMs))) {
      this.logger?.warn({ shutdownTimeoutMs }, 'shutdown out of time: failing pending appends, closing connections');
      const reason = new ShuttingDownError(
        `agent ${this.agentId} stopped before this append was committed (shutdownTimeoutMs ${shutdownTimeoutMs})`,
      );
      for (const writer of this.openWriters.values()) writer.abort(reason);
      if (!(await settlesWithin(shutdown, answerMs))) this.server?.forceShutdown();
    }
    const cleanup = (async () => {
      await this.leases.releaseAll();
      await this.registry.stop();
      await this.wal?.close();
      await this.notifier.close();
    })();
    if (!(await settlesWithin(cleanup, deadline - Date.now()))) {
      this.logger?.warn({ shutdownTimeoutMs }, 'shutdown out of time: leases and registration lapse after their TTL');
    }
    await this.http?.close();
    await this.lock?.release();
    this.logger?.info('agent stopped');
  }

  /** Stops at once without flushing or releasing anything: a crash, for tests of failover. */
  async kill(): Promise<void> {
    this.stopping = true;
    this.acl?.stop();
    this.maintenance.stop();
    this.idleLeases.stop();
    // A crashed process flushes nothing: drop what the writers hold, and their linger timers with it.
    for (const writer of this.openWriters.values()) writer.abandon();
    this.leases.stop();
    this.registry.kill();
    this.server?.forceShutdown();
    await this.kafka?.close();
    await this.http?.close();
    await this.wal?.close();
    await this.notifier.close();
    this.lock?.abandon();
  }

  /** `none` appends this agent answered but could not write (their flush failed), since it started. */
  get lostAppends(): Readonly<LostAppends> {
    return { ...this.lost };
  }

  /** host:port Kafka clients dial, or undefined when the agent serves no Kafka. */
  get kafkaAddress(): string | undefined {
    if (this.kafka === undefined) return undefined;
    return this.options.kafkaAdvertisedAddress ?? `${this.options.host}:${this.kafka.port}`;
  }

  /** Serves the Kafka protocol on `kafkaPort` with this agent's own service (see src/kafka/). */
  private async startKafka(): Promise<void> {
    if (this.options.kafkaPort === undefined) return;
    const kafka = new KafkaListener(
      {
        service: this.service(),
        authorizer: this.acl,
        agentId: this.agentId,
        metadataStore: this.options.metadataStore,
        topicIds: new TopicIdResolver(this.options.metadataStore),
        autoCreatePartitions: this.options.kafkaAutoCreatePartitions,
        topicLimits: { maxTopics: this.options.maxTopics, maxPartitionsPerTopic: this.options.maxPartitionsPerTopic },
        agentTtlMs: this.options.agentTtlMs,
        bufferedAcksEnabled: this.options.walDir !== undefined,
        advertisedAddress: () => this.kafkaAddress ?? '',
        logger: this.logger,
        authenticator: this.authenticator,
        saslTimeoutMs: this.options.auth.saslTimeoutMs,
        quotas: this.quotas,
        longPolls: this.longPolls,
      },
      {
        maxFrameBytes: this.options.maxRequestBytes,
        maxConnectionsPerAddress: this.options.maxConnectionsPerAddress,
        tls: this.tls,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      },
    );
    await kafka.listen(this.options.host, this.options.kafkaPort);
    this.kafka = kafka;
  }

  /**
   * Reads the TLS certificate, key and CA files again; new connections get
   * them, open ones keep theirs. When they are unusable the ones in use are
   * kept and InvalidConfigError is thrown. Does nothing without TLS.
   */
  async reloadTls(): Promise<void> {
    if (this.tls === undefined) return;
    await this.tls.reload();
    this.logger?.info({ certFile: this.tls.options.certFile }, 'TLS certificates reloaded');
  }

  /** host:port of the HTTP port (metrics, health), or undefined when the agent serves no HTTP. */
  get httpAddress(): string | undefined {
    return this.http === undefined ? undefined : `${this.options.host}:${this.http.port}`;
  }

  /** Serves metrics, health and the web console on `httpPort` (see src/http/). */
  private async startHttp(): Promise<void> {
    if (this.options.httpPort === undefined || this.metrics === undefined) return;
    const { host, httpPort, metadataStore, objectStore } = this.options;
    const { logger } = this;
    const readiness = new ReadinessCheck({
      started: () => this.started,
      stopping: () => this.stopping,
      metadataStore,
      objectStore,
    });
    // The web console runs this agent's own service (src/http/console/).
    const handler = new ConsoleHandler({
      service: this.service(),
      metadataStore,
      metrics: this.metrics,
      agentId: this.agentId,
      agentTtlMs: this.options.agentTtlMs,
      rateSampleMs: this.options.consoleRateSampleMs,
      authenticator: this.authenticator,
    });
    try {
      const { metrics, tls } = this;
      this.http = await HttpPort.listen({ host, port: httpPort, metrics, readiness, logger, handler, tls });
    } catch (error) {
      handler.close();
      throw error;
    }
  }

  /** Runs one compaction and retention pass now (the background loop does the same every maintenanceIntervalMs). */
  runMaintenance() {
    return this.maintenance.runOnce();
  }

  /**
   * Request bytes held now, the most ever held at once, and requests refused for want of room (see
   * maxInflightRequestBytes).
   */
  get inflightRequestBytes(): { bytes: number; peakBytes: number; maxBytes: number; refusals: number } {
    const { bytes, peakBytes, maxBytes, refusals } = this.inflight;
    return { bytes, peakBytes, maxBytes, refusals };
  }

  /** Client connections open now, and those closed by maxConnections and handshakeTimeoutMs so far. */
  get connections(): ConnectionStats {
    return { ...this.connectionStats };
  }

  /** Relays commits through Redis so long-polls on other agents wake too. */
  get highWatermarks(): HighWatermarkNotifier {
    return this.notifier;
  }

  private localBounds(topic: string, partition: number) {
    const writer = this.writerIfOpen(topic, partition);
    if (writer === undefined || writer.isStopped) return undefined;
    return { highWatermark: writer.committedHighWatermark, logStartOffset: writer.startOffset };
  }

  private openWriters = new Map<string, PartitionWriter>();

  private writerIfOpen(topic: string, partition: number): PartitionWriter | undefined {
    return this.openWriters.get(topicPartitionId(topic, partition));
  }

  /** The writer of a partition, leasing the partition first when needed. */
  private writer(topic: string, partition: number): Promise<PartitionWriter> {
    if (this.stopping) return Promise.reject(new ShuttingDownError(`agent ${this.agentId} is shutting down`));
    this.idleLeases.used(topic, partition);
    const key = topicPartitionId(topic, partition);
    const open = this.openWriters.get(key);
    if (open !== undefined && !open.isStopped && this.leases.held(topic, partition) !== undefined)
      return Promise.resolve(open);
    // A writer that stopped on a store failure answers with it for a while, rather than accept appends it cannot write.
    const failure = open?.failure;
    if (failure !== undefined && this.options.clock() - failure.at < this.options.storageFailureHoldMs)
      return Promise.reject(failure.error);
    let pending = this.writers.get(key);
    if (pending === undefined || open?.isStopped) {
      const opening: Promise<PartitionWriter> = (async () => {
        const lease = await this.leases.ensure(topic, partition);
        const writer: PartitionWriter = await PartitionWriter.open({
          topic,
          partition,
          lease,
          currentLease: () => this.leases.held(topic, partition),
          objectStore: this.options.objectStore,
          metadataStore: this.options.metadataStore,
          commitBatcher: this.commitBatcher,
          flushIntervalMs: this.options.flushIntervalMs,
          flushBytes: this.options.flushBytes,
          maxPendingBytes: this.options.maxPendingBytesPerPartition,
          producerIdExpirationMs: this.options.producerIdExpirationMs,
          storageRetryTimeoutMs: this.options.storageRetryTimeoutMs,
          lostAppends: this.lost,
          onFlushed: this.metrics?.flushed,
          wal: this.wal,
          logger: this.logger,
          clock: this.options.clock,
          onCommit: (t, p, hwm) => {
            this.notifier.publish(t, p, hwm);
            this.wal?.markCommitted(t, p, hwm);
          },
          // Only this writer and its own lease: a successor opened meanwhile is left alone.
          onFenced: (t, p) => {
            this.metrics?.leaseLost();
            this.leases.forget(t, p, lease.epoch);
            this.dropWriter(t, p, lease.epoch);
          },
          // The stopped writer stays in openWriters, answering with its error for storageFailureHoldMs.
          onFailed: (t, p) => void this.leases.release(t, p, lease.epoch),
        });
        if (this.walLogs !== undefined) {
          // Batches acknowledged as buffered (by another agent on this disk, or by this one before a failed flush)
          // but never flushed: replay them at their offsets before anything new.
          try {
            await recoverPartitionFromLogs(this.walLogs, writer, this.logger);
          } catch (error) {
            writer.abandon();
            throw error;
          }
        }
        this.openWriters.set(key, writer);
        return writer;
      })();
      opening.catch(() => {
        if (this.writers.get(key) === opening) this.writers.delete(key);
      });
      this.writers.set(key, opening);
      pending = opening;
    }
    return pending;
  }

  /**
   * Closes an idle partition's writer and gives its lease up; false (and the
   * lease kept) when a write opened the partition again meanwhile.
   */
  private async releaseIdleLease(lease: Lease): Promise<boolean> {
    const key = topicPartitionId(lease.topic, lease.partition);
    await this.closeWriter(key);
    if (this.writers.has(key)) return false;
    this.leases.forget(lease.topic, lease.partition, lease.epoch);
    // Not released in the store (it failed, or the topic is gone): the lease runs out on its own.
    await this.options.metadataStore
      .releaseLease(lease)
      .catch((err: unknown) =>
        this.logger?.warn({ err, topic: lease.topic, partition: lease.partition }, 'idle lease release failed'),
      );
    return true;
  }

  /** Takes a partition's writer (open or being opened) out of service at once, resolving once it is closed. */
  private async closeWriter(key: string): Promise<void> {
    const pending = this.writers.get(key);
    this.writers.delete(key);
    const writer = await pending?.catch(() => undefined);
    if (writer === undefined) return;
    if (this.openWriters.get(key) === writer) this.openWriters.delete(key);
    await writer.close().catch(() => undefined);
  }

  /** Closes a partition's writer; with `epoch`, only the writer of that lease epoch. */
  private dropWriter(topic: string, partition: number, epoch?: number): void {
    const key = topicPartitionId(topic, partition);
    const writer = this.openWriters.get(key);
    if (writer === undefined || (epoch !== undefined && writer.epoch !== epoch)) return;
    this.openWriters.delete(key);
    this.writers.delete(key);
    void writer.close().catch(() => undefined);
  }

  private async topic(name: string): Promise<TopicInfo | undefined> {
    const now = Date.now();
    const cached = this.topicCache.get(name);
    if (cached !== undefined && cached.until > now) return cached.topic;
    const topic = await this.options.metadataStore.getTopic(name);
    this.topicCache.set(name, { topic, until: now + TOPIC_CACHE_MS });
    // Deleted (and maybe created again) through another agent: nothing of the old topic may serve the new one.
    if (cached?.topic !== undefined && topic?.id !== cached.topic.id) void this.forgetTopic(name);
    return topic;
  }

  /**
   * Forgets a deleted topic: its leases at once, so no writer opens under
   * them, and its writers, resolving once they are closed (appends not yet
   * committed fail: the partitions are gone).
   */
  private async forgetTopic(name: string): Promise<void> {
    for (const lease of this.leases.all()) {
      if (lease.topic === name) this.leases.forget(lease.topic, lease.partition, lease.epoch);
    }
    const keys = [...this.writers.keys()].filter((key) => key.startsWith(`${name}/`));
    await Promise.all(keys.map((key) => this.closeWriter(key)));
  }

  private adminContext(): admin.AdminContext {
    return {
      agentId: this.agentId,
      metadataStore: this.options.metadataStore,
      objectStore: this.options.objectStore,
      segments: this.segments,
      reader: this.reader,
      agentTtlMs: this.options.agentTtlMs,
      clock: this.options.clock,
    };
  }

  /** Reads the ACLs from the metadata store now instead of at the next refresh; nothing without an authorizer. */
  async refreshAcls(): Promise<void> {
    await this.acl?.refresh();
  }

  /** The service both listeners run: checked against the ACLs when authorisation is on. */
  private service(): StreamHouseServiceImplementation {
    const service = this.uncheckedService();
    return this.acl === undefined ? service : authorizedService(service, this.acl);
  }

  private uncheckedService(): StreamHouseServiceImplementation {
    const produceContext = {
      topic: (name: string) => this.topic(name),
      writer: (topic: string, partition: number) => this.writer(topic, partition),
      bufferedAcksEnabled: this.options.walDir !== undefined,
      batchLimits: () => ({
        maxRecordsBytes: this.options.maxDecompressedBatchBytes,
        maxTimestamp:
          this.options.maxTimestampAheadMs < 0 ? Infinity : this.options.clock() + this.options.maxTimestampAheadMs,
      }),
    };
    const fetchContext = {
      reader: this.reader,
      notifier: this.notifier,
      maxFetchWaitMs: this.options.maxFetchWaitMs,
      defaultFetchMaxBytes: this.options.defaultFetchMaxBytes,
      longPolls: this.longPolls,
    };
    const ctx = this.adminContext();
    const maxPartitions = this.options.maxPartitionsPerRequest;
    const produce = limitPartitions('Produce', maxPartitions, (request: ProduceRequest) =>
      handleProduce(produceContext, request),
    );
    const fetch = limitPartitions('Fetch', maxPartitions, (request: FetchRequest, context: { signal: AbortSignal }) =>
      handleFetch(fetchContext, request, context.signal),
    );
    const metrics = this.metrics;
    return {
      produce: metrics === undefined ? produce : (request) => metrics.observeProduce(request, () => produce(request)),
      fetch: metrics === undefined ? fetch : (request, context) => metrics.observeFetch(() => fetch(request, context)),
      listOffsets: limitPartitions('ListOffsets', maxPartitions, (request) => admin.handleListOffsets(ctx, request)),
      metadata: (request) => admin.handleMetadata(ctx, request),
      createTopic: async (request) => {
        // The partition bound here; the topic count by the store, atomically with the create.
        checkPartitionLimit(this.options, request.name, request.partitions);
        return { topic: await admin.createTopic(ctx, request, { maxTopics: this.options.maxTopics }) };
      },
      deleteTopic: async (request) => {
        // Nothing of the topic is worth flushing any more (and a flush retrying a full disk must not write again).
        const gone = new UnknownTopicOrPartitionError(`topic '${request.name}' was deleted`, {
          context: { topic: request.name },
        });
        for (let p = 0; p < ((await this.topic(request.name))?.partitions ?? 0); p++) {
          this.writerIfOpen(request.name, p)?.abort(gone);
          this.dropWriter(request.name, p);
        }
        // Objects, metadata (which keeps the topic's last lease epoch), then objects written meanwhile.
        await admin.deleteTopic(ctx, request.name);
        this.topicCache.delete(request.name);
        await this.forgetTopic(request.name);
        return {};
      },
      listTopics: async () => ({ names: (await this.options.metadataStore.listTopics()).map((t) => t.name) }),
      describeTopic: async (request) => ({ topic: await admin.describeTopic(ctx, request.name) }),
      alterTopicConfig: async (request) => {
        const topic = await admin.alterTopicConfig(ctx, request);
        this.topicCache.delete(request.name);
        return { topic };
      },
      joinGroup: (request, context) => this.groups.join(request, context.signal),
      syncGroup: (request, context) => this.groups.sync(request, context.signal),
      heartbeat: (request) => this.groups.heartbeat(request),
      leaveGroup: (request) => this.groups.leave(request),
      commitOffsets: limitPartitions('CommitOffsets', maxPartitions, (request) => this.groups.commitOffsets(request)),
      fetchOffsets: limitPartitions('FetchOffsets', maxPartitions, (request) => this.groups.fetchOffsets(request)),
      listGroups: () => listGroups(this.options.metadataStore),
      describeGroup: (request) => describeGroup(this.options.metadataStore, request.groupId),
      deleteGroup: async (request) => {
        await deleteGroup(this.options.metadataStore, request.groupId);
        return {};
      },
      initProducerId: (request) => admin.handleInitProducerId(ctx, request),
      health: async () => ({
        status: this.stopping ? HealthResponse_Status.NOT_SERVING : HealthResponse_Status.SERVING,
        agentId: this.agentId,
        version: VERSION,
        uptimeMs: Date.now() - this.startedAt,
      }),
    };
  }
}

/** The produce and fetch quotas of the agent's options. */
function quotasOf(options: ResolvedAgentOptions): KafkaQuotas {
  const named = Object.entries(options.principalQuotas);
  const rates = (key: 'produceBytesPerSecond' | 'fetchBytesPerSecond') =>
    new Map(named.flatMap(([principal, quota]) => (quota[key] === undefined ? [] : [[principal, quota[key]]])));
  return {
    produce: new ByteRateQuotas(options.produceQuotaBytesPerSecond, rates('produceBytesPerSecond')),
    fetch: new ByteRateQuotas(options.fetchQuotaBytesPerSecond, rates('fetchBytesPerSecond')),
  };
}

/** Creates and starts an agent. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const agent = new Agent(resolveAgentOptions(options));
  await agent.start();
  return agent;
}
