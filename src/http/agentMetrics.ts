/**
 * One agent's Prometheus metrics, in a registry of its own (several agents
 * in one process do not collide). Counters are bumped per request or per
 * batch, never per record: a batch's record count is read from its header.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ErrorCode,
  type FetchResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/generated/streamhouse.js';
import {
  RECORD_COUNT_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BATCH_LOG_OVERHEAD,
} from '../protocol/codec/batchLayout.js';
import { toErrorInfo } from '../protocol/errors.js';
import type { GroupRecord } from '../metadata/metadataStore.js';
import { BoundedLabels } from './boundedLabels.js';
import { MAX_LAG_SERIES, type GroupLagReading } from './groupLag.js';

/** Distinct topic (and group) label values kept; later ones are counted as `other`. */
export const MAX_TOPIC_LABELS = 1000;

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** 1 KiB to 64 MiB, by fours. */
const SIZE_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536].map((k) => k * 1024);

/** What the agent reports when scraped, read at that moment. */
export type AgentGauges = {
  leasesHeld(): number;
  longPollWaiters(): number;
  /** Consumer-group lag per partition, read at scrape time (see groupLag.ts); none reported when absent. */
  groupLag?(): Promise<GroupLagReading>;
};

/** `ok`, or the error code's name. */
export function resultLabel(code: ErrorCode | undefined): string {
  if (code === undefined || code === ErrorCode.NONE) return 'ok';
  return ErrorCode[code] ?? 'UNKNOWN';
}

/** The big-endian int32 at `at` (no view allocated: this runs per batch). */
function int32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** Records in a batch, from its header (0 when it is too short to have one). */
function batchRecordCount(batch: Uint8Array): number {
  if (batch.length < BATCH_HEADER_SIZE) return 0;
  return Math.max(0, int32(batch, RECORD_COUNT_OFFSET));
}

/** Records in concatenated batches, walking their headers (a partial batch at the end counts none). */
function batchesRecordCount(bytes: Uint8Array): number {
  let records = 0;
  let position = 0;
  while (position + BATCH_HEADER_SIZE <= bytes.length) {
    const size = BATCH_LOG_OVERHEAD + int32(bytes, position + BATCH_LENGTH_OFFSET);
    if (size < BATCH_HEADER_SIZE || position + size > bytes.length) break;
    records += Math.max(0, int32(bytes, position + RECORD_COUNT_OFFSET));
    position += size;
  }
  return records;
}

/** Records and bytes produced (accepted) and fetched since the agent started. */
export type TrafficTotals = {
  producedRecords: number;
  producedBytes: number;
  fetchedRecords: number;
  fetchedBytes: number;
};

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly topics = new BoundedLabels(MAX_TOPIC_LABELS);
  private readonly groupLabels = new BoundedLabels(MAX_TOPIC_LABELS);

  private readonly produceRequests: Counter<'result'>;
  private readonly produceBatches: Counter<'topic' | 'result'>;
  private readonly produceRecords: Counter<'topic' | 'result'>;
  private readonly produceBytes: Counter<'topic' | 'result'>;
  private readonly produceSeconds: Histogram;
  private readonly fetchRequests: Counter<'result'>;
  private readonly fetchRecords: Counter<'topic'>;
  private readonly fetchBytes: Counter<'topic'>;
  private readonly fetchSeconds: Histogram;
  private readonly flushBytes: Histogram;
  private readonly flushSeconds: Histogram;
  readonly objectStoreOps: Counter<'op' | 'result'>;
  readonly objectStoreSeconds: Histogram<'op'>;
  readonly objectStoreBytes: Counter<'op'>;
  readonly metadataStoreOps: Counter<'op' | 'result'>;
  readonly metadataStoreSeconds: Histogram<'op'>;
  private readonly walAppends: Counter;
  private readonly walBytes: Counter;
  private readonly walSyncSeconds: Histogram;
  private readonly leaseAcquisitions: Counter;
  private readonly leaseLosses: Counter;
  private readonly groupMembers: Gauge<'group'>;
  private readonly groupGeneration: Gauge<'group'>;

  constructor(gauges: AgentGauges) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });

    this.produceRequests = counter('streamhouse_produce_requests_total', 'Produce calls, by result of the call', [
      'result',
    ]);
    this.produceBatches = counter('streamhouse_produce_batches_total', 'Batches produced, by topic and result', [
      'topic',
      'result',
    ]);
    this.produceRecords = counter('streamhouse_produce_records_total', 'Records produced, by topic and result', [
      'topic',
      'result',
    ]);
    this.produceBytes = counter('streamhouse_produce_bytes_total', 'Batch bytes produced, by topic and result', [
      'topic',
      'result',
    ]);
    this.produceSeconds = histogram(
      'streamhouse_produce_duration_seconds',
      'Time to answer a Produce call',
      [],
      LATENCY_BUCKETS,
    );
    this.fetchRequests = counter('streamhouse_fetch_requests_total', 'Fetch calls, by result of the call', ['result']);
    this.fetchRecords = counter('streamhouse_fetch_records_total', 'Records returned by Fetch, by topic', ['topic']);
    this.fetchBytes = counter('streamhouse_fetch_bytes_total', 'Batch bytes returned by Fetch, by topic', ['topic']);
    this.fetchSeconds = histogram(
      'streamhouse_fetch_duration_seconds',
      'Time to answer a Fetch call, long-poll wait included',
      [],
      LATENCY_BUCKETS,
    );
    this.flushBytes = histogram('streamhouse_flush_bytes', 'Batch bytes per segment flush', [], SIZE_BUCKETS);
    this.flushSeconds = histogram(
      'streamhouse_flush_duration_seconds',
      'Time to write and commit one segment',
      [],
      LATENCY_BUCKETS,
    );
    this.objectStoreOps = counter(
      'streamhouse_object_store_operations_total',
      'Object-store calls, by kind and result',
      ['op', 'result'],
    );
    this.objectStoreSeconds = histogram(
      'streamhouse_object_store_operation_duration_seconds',
      'Object-store call latency, by kind',
      ['op'],
      LATENCY_BUCKETS,
    );
    this.objectStoreBytes = counter('streamhouse_object_store_bytes_total', 'Bytes written (put) or read, by kind', [
      'op',
    ]);
    this.metadataStoreOps = counter(
      'streamhouse_metadata_store_operations_total',
      'Metadata-store calls, by operation and result',
      ['op', 'result'],
    );
    this.metadataStoreSeconds = histogram(
      'streamhouse_metadata_store_operation_duration_seconds',
      'Metadata-store call latency, by operation',
      ['op'],
      LATENCY_BUCKETS,
    );
    this.walAppends = counter('streamhouse_wal_appends_total', 'Batches appended to the write-ahead log', []);
    this.walBytes = counter('streamhouse_wal_bytes_total', 'Bytes written to the write-ahead log', []);
    this.walSyncSeconds = histogram(
      'streamhouse_wal_fsync_duration_seconds',
      'Time of one write-ahead log write and fsync (a group of appends)',
      [],
      LATENCY_BUCKETS,
    );
    this.leaseAcquisitions = counter('streamhouse_lease_acquisitions_total', 'Partition leases acquired', []);
    this.leaseLosses = counter(
      'streamhouse_lease_losses_total',
      'Partition leases lost (renewal failed or fenced) rather than released',
      [],
    );
    new Gauge({
      name: 'streamhouse_leases_held',
      help: 'Partition leases held now',
      registers,
      collect() {
        this.set(gauges.leasesHeld());
      },
    });
    new Gauge({
      name: 'streamhouse_fetch_long_poll_waiters',
      help: 'Fetch calls waiting now for new records',
      registers,
      collect() {
        this.set(gauges.longPollWaiters());
      },
    });
    this.lagGauges(gauges);
    this.groupMembers = new Gauge({
      name: 'streamhouse_group_members',
      help: 'Members of a consumer group, as last seen by this agent',
      labelNames: ['group'],
      registers,
    });
    this.groupGeneration = new Gauge({
      name: 'streamhouse_group_generation',
      help: 'Generation of a consumer group, as last seen by this agent',
      labelNames: ['group'],
      registers,
    });
  }

  /** Lag and committed offset per group partition, from one store reading shared by the gauges of a scrape. */
  private lagGauges(gauges: AgentGauges): void {
    const readLag = gauges.groupLag?.bind(gauges);
    if (readLag === undefined) return;
    let reading: Promise<GroupLagReading> | undefined;
    const read = () => {
      reading ??= readLag().finally(() => {
        reading = undefined;
      });
      return reading;
    };
    const registers = [this.registry];
    const labelNames = ['group', 'topic', 'partition'] as const;
    const perPartition = (name: string, help: string, value: (lag: GroupLagReading['lags'][number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const { lags } = await read();
          this.reset();
          for (const lag of lags) {
            this.set({ group: lag.group, topic: lag.topic, partition: String(lag.partition) }, value(lag));
          }
        },
      });
    perPartition(
      'streamhouse_consumer_group_lag',
      'Records between a group’s committed offset and the high watermark, per partition',
      (lag) => lag.lag,
    );
    perPartition(
      'streamhouse_consumer_group_committed_offset',
      'The next offset a group will consume, per partition',
      (lag) => lag.committed,
    );
    new Gauge({
      name: 'streamhouse_consumer_group_lag_truncated',
      help: `1 when partitions were left out of the lag series (more than ${MAX_LAG_SERIES})`,
      registers,
      async collect() {
        this.set((await read()).truncated ? 1 : 0);
      },
    });
  }

  /** Runs a Produce call, counting it and its batches by topic and result. */
  async observeProduce(request: ProduceRequest, call: () => Promise<ProduceResponse>): Promise<ProduceResponse> {
    const end = this.produceSeconds.startTimer();
    let response: ProduceResponse;
    try {
      response = await call();
    } catch (error) {
      end();
      this.produceRequests.inc({ result: resultLabel(toErrorInfo(error).code) });
      throw error;
    }
    end();
    this.produceRequests.inc({ result: 'ok' });
    // Results come in the order of the request's partitions.
    const { partitions } = request;
    for (let i = 0; i < response.results.length; i++) {
      const batch = partitions[i]?.batch;
      const result = response.results[i]!;
      if (batch === undefined) continue;
      const outcome = resultLabel(result.error?.code);
      const labels = { topic: this.topicLabel(result.topic, outcome === 'ok'), result: outcome };
      this.produceBatches.inc(labels);
      this.produceRecords.inc(labels, batchRecordCount(batch));
      this.produceBytes.inc(labels, batch.length);
    }
    return response;
  }

  /** Runs a Fetch call, counting what it returned by topic. */
  async observeFetch(call: () => Promise<FetchResponse>): Promise<FetchResponse> {
    const end = this.fetchSeconds.startTimer();
    let response: FetchResponse;
    try {
      response = await call();
    } catch (error) {
      end();
      this.fetchRequests.inc({ result: resultLabel(toErrorInfo(error).code) });
      throw error;
    }
    end();
    this.fetchRequests.inc({ result: 'ok' });
    for (const result of response.results) {
      if (result.records.length === 0) continue;
      const topic = this.topicLabel(result.topic, result.error === undefined);
      this.fetchRecords.inc({ topic }, batchesRecordCount(result.records));
      this.fetchBytes.inc({ topic }, result.records.length);
    }
    return response;
  }

  /** A segment flushed: its batch bytes and the time to write and commit it. */
  readonly flushed = (bytes: number, seconds: number): void => {
    this.flushBytes.observe(bytes);
    this.flushSeconds.observe(seconds);
  };

  /** One write-ahead log write and fsync of `appends` batches. */
  readonly walSynced = (appends: number, bytes: number, seconds: number): void => {
    this.walAppends.inc(appends);
    this.walBytes.inc(bytes);
    this.walSyncSeconds.observe(seconds);
  };

  leaseAcquired(): void {
    this.leaseAcquisitions.inc();
  }

  leaseLost(): void {
    this.leaseLosses.inc();
  }

  /** A group record read or written through the metadata store. */
  groupSeen(group: GroupRecord): void {
    const label = this.groupLabels.label(group.groupId, true);
    if (label === 'other') return;
    this.groupMembers.set({ group: label }, group.members.length);
    this.groupGeneration.set({ group: label }, group.generation);
  }

  /** Accepted produce and fetch traffic so far, over every topic (for the console's rate chart). */
  async trafficTotals(): Promise<TrafficTotals> {
    const sum = async (counter: Counter<string>, ok: boolean) =>
      (await counter.get()).values
        .filter((v) => !ok || v.labels['result'] === 'ok')
        .reduce((total, v) => total + v.value, 0);
    const [producedRecords, producedBytes, fetchedRecords, fetchedBytes] = await Promise.all([
      sum(this.produceRecords, true),
      sum(this.produceBytes, true),
      sum(this.fetchRecords, false),
      sum(this.fetchBytes, false),
    ]);
    return { producedRecords, producedBytes, fetchedRecords, fetchedBytes };
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A topic's label; a topic only known from refused requests (maybe not even existing) is `other`. */
  private topicLabel(topic: string, exists: boolean): string {
    return this.topics.label(topic, exists);
  }
}
