/**
 * An in-memory StreamHouse cluster for tests: topics, partitions, offsets,
 * idempotent producers, consumer groups and committed offsets, behind the
 * same client interface as gRPC agents, every wait on one scheduler.
 *
 * It keeps the agent's rules by running the agent's own code where it is
 * pure: batch validation and stamping, ProducerSequences (duplicates, gaps,
 * epochs), the GroupCoordinator (generations, rebalances, fencing) and the
 * metadata store's topic, producer-id and offset rules (SQLite in memory).
 * Faults are injected per call: errors, latencies, and agents that go away
 * (calls fail with AGENT_UNAVAILABLE) and come back.
 *
 * ```ts
 * const cluster = await createInMemoryCluster({ scheduler, topics: { orders: 3 } });
 * const producer = await cluster.producer({ lingerMs: 5 });
 * ```
 */
import { asyncScheduler, filter, firstValueFrom, map, merge, Subject, timer, type SchedulerLike } from 'rxjs';
import { GroupCoordinator } from '../agent/groups/groupCoordinator.js';
import { describeGroup, deleteGroup, listGroups } from '../agent/groups/groupAdmin.js';
import { topicConfigFromProto } from '../agent/server/adminHandlers.js';
import type { TopicInfo } from '../metadata/metadataStore.js';
import { SqliteMetadataStore } from '../metadata/sqlite/sqliteMetadataStore.js';
import { unknownTopicError } from '../metadata/storeErrors.js';
import { readProducerFields } from '../protocol/codec/batchLayout.js';
import {
  AgentUnavailableError,
  InvalidConfigError,
  InvalidRequestError,
  NotLeaderError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
  toErrorInfo,
  type StreamHouseError,
} from '../protocol/errors.js';
import {
  AckMode,
  HealthResponse_Status,
  OffsetSpec,
  type FetchPartitionResult,
  type FetchRequest,
  type ListOffsetsResult,
  type MetadataResponse,
  type ProducePartitionResult,
  type ProduceRequest,
  type TopicMetadata,
} from '../protocol/generated/streamhouse.js';
import type { AgentTransport } from '../client/cluster/agentTransport.js';
import type { StreamHouseClient } from '../client/agentClient.js';
import { createProducerOver, type Producer } from '../client/producer/producer.js';
import type { ProducerOptions } from '../client/producer/producerOptions.js';
import { createConsumerOver, type Consumer } from '../client/consumer/consumer.js';
import type { ConsumerOptions } from '../client/consumer/consumerOptions.js';
import { checkRecordBatch } from '../protocol/codec/recordBatchDecoder.js';
import { CALL_NAMES, clientOf, type CallName, type RequestOf, type ResponseOf } from './memoryAgentClient.js';
import { PartitionLog } from './partitionLog.js';

export type { CallName } from './memoryAgentClient.js';

export type InMemoryClusterOptions = {
  /** Scheduler of every latency, long poll and group deadline. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Number of agents. Default 1. */
  agents?: number;
  /** Topics to create: name → partition count. Default none. */
  topics?: Record<string, number>;
  /**
   * How long an empty group's first join round waits for more members, ms. Default 3000, as the agent
   * (free in virtual time).
   */
  initialRebalanceDelayMs?: number;
  /** Smallest session timeout a consumer may ask for, ms. Default 6000, as the agent. */
  minSessionTimeoutMs?: number;
};

/** Which calls a fault applies to. */
export type FaultTarget = {
  /** A call name (`produce`, `fetch`, …); default every call. */
  call?: CallName;
  /** An agent address; default every agent. */
  agent?: string;
};

/** A record as stored, for assertions. */
export type StoredRecord = { offset: number; key: string | null; value: string | null; timestamp: number };

/** One call an agent received: when (scheduler time), where, what. */
export type CallLogEntry = { at: number; agent: string; call: CallName };

type InjectedError = FaultTarget & { error: () => StreamHouseError; times: number };
type Latency = FaultTarget & { ms: number };
/** `gone` aborts when the agent stops, failing its calls under way; a new one on each start. */
type Agent = { id: string; address: string; up: boolean; startedAt: number; gone: AbortController };

/** Port of every in-memory agent's address (nothing listens there). */
const PORT = 9660;
/** Most agents a cluster may have. */
const MAX_AGENTS = 64;
/** Most entries `calls` keeps; the oldest go first. */
const MAX_CALL_LOG = 100_000;

export class InMemoryCluster {
  readonly scheduler: SchedulerLike;
  /** Every agent's address, as a client's bootstrap list. */
  readonly bootstrap: string[];
  /** Every call the agents received, in order (the latest 100 000). */
  readonly calls: CallLogEntry[] = [];
  private readonly agents: Agent[];
  private readonly logs = new Map<string, PartitionLog[]>();
  /** topic/partition → index of the agent leading it. */
  private readonly leaders = new Map<string, number>();
  private readonly errors: InjectedError[] = [];
  private latencies: Latency[] = [];
  private readonly appended = new Subject<string>();
  private readonly clients = new Map<string, StreamHouseClient>();
  private readonly groups: GroupCoordinator;

  /** @internal Use createInMemoryCluster. */
  constructor(
    private readonly store: SqliteMetadataStore,
    options: InMemoryClusterOptions,
  ) {
    const { scheduler = asyncScheduler, agents = 1 } = options;
    if (!Number.isSafeInteger(agents) || agents < 1 || agents > MAX_AGENTS) {
      throw new InvalidConfigError(`agents must be an integer in 1..${MAX_AGENTS}, got ${agents}`);
    }
    this.scheduler = scheduler;
    this.agents = Array.from({ length: agents }, (_, i) => ({
      id: `agent-${i + 1}`,
      address: `agent-${i + 1}.in-memory:${PORT}`,
      up: true,
      startedAt: scheduler.now(),
      gone: new AbortController(),
    }));
    this.bootstrap = this.agents.map((a) => a.address);
    this.groups = new GroupCoordinator({
      store,
      clock: () => scheduler.now(),
      wait: (ms, signal) => this.wait(ms, signal),
      ...(options.initialRebalanceDelayMs === undefined
        ? {}
        : { initialRebalanceDelayMs: options.initialRebalanceDelayMs }),
      ...(options.minSessionTimeoutMs === undefined ? {} : { minSessionTimeoutMs: options.minSessionTimeoutMs }),
    });
  }

  // ---- set-up and faults ------------------------------------------------------------------------

  /** Creates a topic (the agent's name, partition and config rules apply). */
  async createTopic(name: string, partitions: number): Promise<void> {
    await this.store.createTopic(name, partitions);
    this.logsOf(await this.store.getTopic(name));
  }

  /** The next `times` calls matching `target` fail with `error` (a fresh one each time when a function). */
  failNext(target: FaultTarget, error: StreamHouseError | (() => StreamHouseError), times = 1): void {
    checkTarget(target);
    if (!Number.isSafeInteger(times) || times < 1) throw new InvalidConfigError(`times must be >= 1, got ${times}`);
    this.errors.push({ ...target, error: typeof error === 'function' ? error : () => error, times });
  }

  /** Calls matching `target` take `ms` (scheduler time) before they are answered; 0 removes the latency. */
  setLatency(target: FaultTarget, ms: number): void {
    checkTarget(target);
    if (!Number.isFinite(ms) || ms < 0) throw new InvalidConfigError(`latency must be a number of ms >= 0, got ${ms}`);
    this.latencies = this.latencies.filter((l) => l.call !== target.call || l.agent !== target.agent);
    if (ms > 0) this.latencies.push({ ...target, ms });
  }

  /** The agent goes away: its calls fail with AGENT_UNAVAILABLE and it loses its partitions' leases. */
  stopAgent(address: string): void {
    const agent = this.agent(address);
    agent.up = false;
    agent.gone.abort(new AgentUnavailableError(`agent ${address} went away during the call (in-memory cluster)`));
  }

  /** The agent comes back (its leases stay with whoever took them meanwhile). */
  startAgent(address: string): void {
    const agent = this.agent(address);
    if (!agent.up) {
      agent.startedAt = this.scheduler.now();
      agent.gone = new AbortController();
    }
    agent.up = true;
  }

  // ---- clients ----------------------------------------------------------------------------------

  /** A transport over which clients reach this cluster's agents. */
  transport(): AgentTransport {
    return {
      get: (address) => ({ client: this.client(address) }),
      invalidate: () => {},
      closeAll: () => {},
    };
  }

  /** A real Producer on this cluster: `bootstrap` and `scheduler` are the cluster's unless given. */
  producer(options: Partial<ProducerOptions> = {}): Promise<Producer> {
    return createProducerOver(this.transport(), { bootstrap: this.bootstrap, scheduler: this.scheduler, ...options });
  }

  /** A real Consumer on this cluster: `bootstrap` and `scheduler` are the cluster's unless given. */
  consumer(options: Partial<ConsumerOptions> = {}): Consumer {
    return createConsumerOver(this.transport(), { bootstrap: this.bootstrap, scheduler: this.scheduler, ...options });
  }

  /** The client of one agent (an unknown address answers AGENT_UNAVAILABLE, like a closed port). */
  client(address: string): StreamHouseClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = clientOf((call, request, signal) => this.handle(address, call, request, signal));
      this.clients.set(address, client);
    }
    return client;
  }

  /** The records of a partition as stored, keys and values as UTF-8. */
  records(topic: string, partition: number): StoredRecord[] {
    const log = this.logs.get(topic)?.[partition];
    if (log === undefined) throw new UnknownTopicOrPartitionError(`no partition ${topic}/${partition}`);
    const out: StoredRecord[] = [];
    const bytes = log.read(0, Number.MAX_SAFE_INTEGER);
    for (let position = 0; position < bytes.length; ) {
      const { frame, cursor } = checkRecordBatch(bytes.subarray(position));
      while (cursor.next()) {
        out.push({
          offset: cursor.offset,
          key: cursor.key === null ? null : Buffer.from(cursor.key).toString(),
          value: cursor.value === null ? null : Buffer.from(cursor.value).toString(),
          timestamp: cursor.timestamp,
        });
      }
      position += frame.size;
    }
    return out;
  }

  /** Releases the metadata store. */
  async close(): Promise<void> {
    this.appended.complete();
    await this.store.close();
  }

  // ---- calls ------------------------------------------------------------------------------------

  private async handle<K extends CallName>(
    address: string,
    call: K,
    request: RequestOf<K>,
    signal: AbortSignal | undefined,
  ): Promise<ResponseOf<K>> {
    const agent = this.agents.find((a) => a.address === address);
    this.calls.push({ at: this.scheduler.now(), agent: address, call });
    if (this.calls.length > MAX_CALL_LOG) this.calls.splice(0, this.calls.length - MAX_CALL_LOG);
    const unavailable = () => new AgentUnavailableError(`agent ${address} is not reachable (in-memory cluster)`);
    if (agent === undefined || !agent.up) throw unavailable();
    // The agent going away ends the call as a dropped connection would.
    const gone = agent.gone.signal;
    const callSignal = signal === undefined ? gone : AbortSignal.any([signal, gone]);
    const latency = this.latencies.find((l) => matches(l, call, address))?.ms ?? 0;
    if (latency > 0) await this.wait(latency, callSignal);
    const injected = this.errors.find((e) => e.times > 0 && matches(e, call, address));
    if (injected !== undefined) {
      injected.times--;
      throw injected.error();
    }
    return (await this.until(this.answer(agent, call, request, callSignal), gone)) as ResponseOf<K>;
  }

  private async answer(agent: Agent, call: CallName, request: unknown, signal: AbortSignal | undefined) {
    const store = this.store;
    switch (call) {
      case 'produce':
        return this.produce(agent, request as ProduceRequest);
      case 'fetch':
        return this.fetch(request as FetchRequest, signal);
      case 'listOffsets':
        return this.listOffsets(request as RequestOf<'listOffsets'>);
      case 'metadata':
        return this.metadata(agent, (request as RequestOf<'metadata'>).topics);
      case 'createTopic': {
        const r = request as RequestOf<'createTopic'>;
        await store.createTopic(r.name, r.partitions, topicConfigFromProto(r.config));
        return { topic: await this.topicMetadata(r.name) };
      }
      case 'deleteTopic': {
        const { name } = request as RequestOf<'deleteTopic'>;
        if ((await store.getTopic(name)) === undefined) throw unknownTopicError(name);
        await store.deleteTopic(name);
        this.logs.delete(name);
        return {};
      }
      case 'listTopics':
        return { names: (await store.listTopics()).map((t) => t.name) };
      case 'describeTopic':
        return { topic: await this.topicMetadata((request as RequestOf<'describeTopic'>).name) };
      case 'alterTopicConfig': {
        const r = request as RequestOf<'alterTopicConfig'>;
        await store.alterTopicConfig(r.name, topicConfigFromProto(r.config));
        return { topic: await this.topicMetadata(r.name) };
      }
      case 'joinGroup':
        return this.groups.join(request as RequestOf<'joinGroup'>, signal);
      case 'syncGroup':
        return this.groups.sync(request as RequestOf<'syncGroup'>, signal);
      case 'heartbeat':
        return this.groups.heartbeat(request as RequestOf<'heartbeat'>);
      case 'leaveGroup':
        return this.groups.leave(request as RequestOf<'leaveGroup'>);
      case 'commitOffsets':
        return this.groups.commitOffsets(request as RequestOf<'commitOffsets'>);
      case 'fetchOffsets':
        return this.groups.fetchOffsets(request as RequestOf<'fetchOffsets'>);
      case 'listGroups':
        return listGroups(store);
      case 'describeGroup':
        return describeGroup(store, (request as RequestOf<'describeGroup'>).groupId);
      case 'deleteGroup':
        await deleteGroup(store, (request as RequestOf<'deleteGroup'>).groupId);
        return {};
      case 'initProducerId': {
        const { producerId } = request as RequestOf<'initProducerId'>;
        return producerId < 0 ? store.allocateProducerId() : store.bumpProducerEpoch(producerId);
      }
      case 'health':
        return {
          status: HealthResponse_Status.SERVING,
          agentId: agent.id,
          version: 'in-memory',
          uptimeMs: this.scheduler.now() - agent.startedAt,
        };
    }
  }

  private async produce(agent: Agent, request: ProduceRequest) {
    if (![AckMode.ACK_MODE_DURABLE, AckMode.ACK_MODE_BUFFERED, AckMode.ACK_MODE_NONE].includes(request.acks)) {
      throw new InvalidRequestError(`unknown acks mode ${request.acks}`);
    }
    if (request.partitions.length === 0) throw new InvalidRequestError('produce request carries no partitions');
    const results: ProducePartitionResult[] = [];
    for (const data of request.partitions) {
      const base = { topic: data.topic, partition: data.partition };
      try {
        const context = { ...base };
        const topic = await this.store.getTopic(data.topic);
        const log = this.logsOf(topic)?.[data.partition];
        if (topic === undefined || log === undefined) {
          throw new UnknownTopicOrPartitionError(`no partition ${data.topic}/${data.partition}`, { context });
        }
        this.lead(agent, data.topic, data.partition);
        if (data.batch.length > topic.config.maxMessageBytes) {
          throw new RecordTooLargeError(
            `batch of ${data.batch.length} bytes exceeds max.message.bytes ${topic.config.maxMessageBytes} ` +
              `of topic ${data.topic}`,
            { context },
          );
        }
        const { producerId, producerEpoch, baseSequence } = readProducerFields(data.batch);
        if (producerId !== request.producerId) {
          throw new InvalidRequestError(
            `batch producerId ${producerId} differs from the request's ${request.producerId}`,
            { context },
          );
        }
        if (producerId >= 0 && (producerEpoch !== request.producerEpoch || baseSequence < 0)) {
          throw new InvalidRequestError(
            `idempotent batch needs the request's epoch ${request.producerEpoch} and a sequence`,
            { context },
          );
        }
        const appended = log.append(data.batch, producerId, producerEpoch);
        this.appended.next(`${data.topic}/${data.partition}`);
        const none = request.acks === AckMode.ACK_MODE_NONE;
        results.push({
          ...base,
          error: undefined,
          baseOffset: none ? -1 : appended.baseOffset,
          recordCount: appended.recordCount,
          appendTimeMs: appended.appendTime,
          logStartOffset: log.logStartOffset,
        });
      } catch (error) {
        results.push({
          ...base,
          error: toErrorInfo(error),
          baseOffset: -1,
          recordCount: 0,
          appendTimeMs: 0,
          logStartOffset: -1,
        });
      }
    }
    return { results };
  }

  /** Takes the partition's lease for `agent` unless another agent that is up holds it (then NOT_LEADER). */
  private lead(agent: Agent, topic: string, partition: number): void {
    const key = `${topic}/${partition}`;
    const index = this.agents.indexOf(agent);
    const leader = this.leaders.get(key);
    if (leader !== undefined && leader !== index && this.agents[leader]!.up) {
      throw new NotLeaderError(`${key} is led by ${this.agents[leader]!.id}`, { context: { topic, partition } });
    }
    this.leaders.set(key, index);
  }

  /** Reads each partition; long-polls up to maxWaitMs (scheduler time) while nothing is there. */
  private async fetch(request: FetchRequest, signal: AbortSignal | undefined) {
    if (request.partitions.length === 0) throw new InvalidRequestError('fetch request names no partitions');
    const deadline = this.scheduler.now() + request.maxWaitMs;
    for (;;) {
      const results = await Promise.all(request.partitions.map((p) => this.readPartition(p)));
      const bytes = results.reduce((sum, r) => sum + r.records.length, 0);
      const remaining = deadline - this.scheduler.now();
      if (bytes >= Math.max(1, request.minBytes) || remaining <= 0 || results.some((r) => r.error !== undefined)) {
        return { results };
      }
      const watched = new Set(request.partitions.map((p) => `${p.topic}/${p.partition}`));
      const moved = merge(
        this.appended.pipe(filter((key) => watched.has(key))),
        timer(remaining, this.scheduler).pipe(map(() => 'timeout')),
      );
      if ((await this.until(firstValueFrom(moved, { defaultValue: 'timeout' }), signal)) === 'timeout') {
        return { results: await Promise.all(request.partitions.map((p) => this.readPartition(p))) };
      }
    }
  }

  private async readPartition(p: FetchRequest['partitions'][number]): Promise<FetchPartitionResult> {
    const base = { topic: p.topic, partition: p.partition };
    try {
      const log = this.logsOf(await this.store.getTopic(p.topic))?.[p.partition];
      if (log === undefined) throw new UnknownTopicOrPartitionError(`no partition ${p.topic}/${p.partition}`);
      const records = log.read(p.offset, p.maxBytes > 0 ? p.maxBytes : 1024 * 1024);
      return {
        ...base,
        error: undefined,
        highWatermark: log.highWatermark,
        logStartOffset: log.logStartOffset,
        records,
      };
    } catch (error) {
      return { ...base, error: toErrorInfo(error), highWatermark: -1, logStartOffset: -1, records: Buffer.alloc(0) };
    }
  }

  private async listOffsets(request: RequestOf<'listOffsets'>) {
    const results = await Promise.all(
      request.partitions.map(async (p): Promise<ListOffsetsResult> => {
        const base = { topic: p.topic, partition: p.partition };
        try {
          const log = this.logsOf(await this.store.getTopic(p.topic))?.[p.partition];
          if (log === undefined) throw new UnknownTopicOrPartitionError(`no partition ${p.topic}/${p.partition}`);
          switch (p.spec) {
            case OffsetSpec.OFFSET_SPEC_EARLIEST:
              return { ...base, error: undefined, offset: log.logStartOffset, timestampMs: -1 };
            case OffsetSpec.OFFSET_SPEC_LATEST:
              return { ...base, error: undefined, offset: log.highWatermark, timestampMs: -1 };
            case OffsetSpec.OFFSET_SPEC_TIMESTAMP: {
              const found = log.offsetForTimestamp(p.timestampMs);
              return { ...base, error: undefined, offset: found?.offset ?? -1, timestampMs: found?.timestamp ?? -1 };
            }
            default:
              throw new InvalidRequestError(`unknown offset spec ${p.spec}`);
          }
        } catch (error) {
          return { ...base, error: toErrorInfo(error), offset: -1, timestampMs: -1 };
        }
      }),
    );
    return { results };
  }

  private async metadata(agent: Agent, topics: string[]): Promise<MetadataResponse> {
    const names = topics.length > 0 ? topics : (await this.store.listTopics()).map((t) => t.name);
    return {
      topics: await Promise.all(names.map((name) => this.topicMetadata(name, false))),
      agents: this.agents
        .filter((a) => a.up)
        .map((a) => ({ agentId: a.id, address: a.address, startedAtMs: a.startedAt, lastHeartbeatMs: 0 })),
      agentId: agent.id,
    };
  }

  /** A topic's metadata: leaders that are up, high watermarks; unknown topics carry their error (or throw). */
  private async topicMetadata(name: string, throwUnknown = true): Promise<TopicMetadata> {
    const topic = await this.store.getTopic(name);
    const logs = this.logsOf(topic);
    if (topic === undefined || logs === undefined) {
      if (throwUnknown) throw unknownTopicError(name);
      const error = toErrorInfo(new UnknownTopicOrPartitionError(`no topic ${name}`));
      return { name, error, partitions: [], config: undefined, createdAtMs: 0, topicId: '' };
    }
    return {
      name,
      error: undefined,
      config: { ...topic.config },
      createdAtMs: topic.createdAt,
      topicId: topic.id,
      partitions: logs.map((log) => {
        const leader = this.agents[this.leaders.get(`${name}/${log.partition}`) ?? -1];
        const up = leader?.up === true;
        return {
          partition: log.partition,
          leaderAgentId: up ? leader.id : '',
          leaderAddress: up ? leader.address : '',
          leaseEpoch: 0,
          highWatermark: log.highWatermark,
          logStartOffset: log.logStartOffset,
        };
      }),
    };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** The partitions of a topic the store knows, created (leaders spread over the agents) on first sight. */
  private logsOf(topic: TopicInfo | undefined): PartitionLog[] | undefined {
    if (topic === undefined) return undefined;
    let logs = this.logs.get(topic.name);
    if (logs === undefined || logs.length !== topic.partitions) {
      const clock = () => this.scheduler.now();
      logs = Array.from({ length: topic.partitions }, (_, p) => logs?.[p] ?? new PartitionLog(topic.name, p, clock));
      for (const log of logs) {
        const key = `${topic.name}/${log.partition}`;
        if (!this.leaders.has(key)) this.leaders.set(key, log.partition % this.agents.length);
      }
      this.logs.set(topic.name, logs);
    }
    return logs;
  }

  private agent(address: string): Agent {
    const agent = this.agents.find((a) => a.address === address);
    if (agent === undefined) {
      throw new InvalidConfigError(`no agent ${address} in this cluster (agents: ${this.bootstrap.join(', ')})`);
    }
    return agent;
  }

  /** Waits `ms` on the scheduler; rejects with the signal's reason when it aborts first. */
  private wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return this.until(
      firstValueFrom(timer(ms, this.scheduler)).then(() => undefined),
      signal,
    );
  }

  private until<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) return promise;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}

/** Refuses a fault target naming a call the agent does not have. */
function checkTarget(target: FaultTarget): void {
  if (target.call !== undefined && !CALL_NAMES.includes(target.call)) {
    throw new InvalidConfigError(`no agent call ${String(target.call)}: one of ${CALL_NAMES.join(', ')}`);
  }
}

function matches(target: FaultTarget, call: CallName, address: string): boolean {
  return (
    (target.call === undefined || target.call === call) && (target.agent === undefined || target.agent === address)
  );
}

/** Creates an in-memory cluster with its topics. */
export async function createInMemoryCluster(options: InMemoryClusterOptions = {}): Promise<InMemoryCluster> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const store = new SqliteMetadataStore({ path: ':memory:', clock: () => scheduler.now() });
  try {
    const cluster = new InMemoryCluster(store, options);
    for (const [name, partitions] of Object.entries(options.topics ?? {})) await cluster.createTopic(name, partitions);
    return cluster;
  } catch (error) {
    await store.close();
    throw error;
  }
}
