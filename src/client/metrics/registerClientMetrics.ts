/**
 * Registers a producer's metrics or a consumer's statistics in an
 * application's own prom-client registry, read from the client at each
 * scrape (nothing is counted twice, and nothing runs between scrapes).
 *
 * ```ts
 * import { Registry } from 'prom-client';
 * import { registerClientMetrics } from 'streamhouse/metrics';
 *
 * const registry = new Registry();
 * registerClientMetrics(registry, producer, { prefix: 'orders_' });
 * registerClientMetrics(registry, consumer, { prefix: 'billing_' });
 * ```
 *
 * This module is the `streamhouse/metrics` entry point and the only client
 * code that loads prom-client: `import 'streamhouse'` does not.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { InvalidConfigError } from '../../protocol/errors.js';
import { Consumer } from '../consumer/consumer.js';
import { Producer } from '../producer/producer.js';
import { LATENCY_BUCKETS_MS, type ProducerMetricsSnapshot } from '../producer/producerMetrics.js';

export type ClientMetricsOptions = {
  /**
   * Starts every metric name (e.g. `orders_producer_records_acked_total`); give each client registered in one
   * registry its own. Letters, digits, `_` and `:`, not starting with a digit. Default `'streamhouse_'`.
   */
  prefix?: string;
};

/** What {@link registerClientMetrics} registered. */
export type ClientMetricsRegistration = {
  /** The metric names registered, in registration order. */
  readonly names: readonly string[];
  /** Removes them from the registry (say once the client is closed). */
  unregister(): void;
};

/** Default {@link ClientMetricsOptions.prefix}. */
export const DEFAULT_CLIENT_METRICS_PREFIX = 'streamhouse_';

const PREFIX_PATTERN = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** One metric to register: its name (after the prefix) and how to make it in the registry. */
type MetricSpec = { name: string; create: (name: string, registry: Registry) => unknown };

/**
 * Registers the metrics of `client` (a Producer or a Consumer) in
 * `registry`, each read from the client when the registry is collected.
 *
 * Producer: pending records and bytes (in total and per partition), batches
 * in flight, batches sent, retries, epoch bumps, acknowledged and failed
 * records, and the ack latency histogram in seconds. Consumer: lag in total
 * and per partition, position and last seen high watermark per partition,
 * and the prefetch buffer's batches (now and at most).
 *
 * @throws InvalidConfigError for a bad prefix, a client that is neither a
 * Producer nor a Consumer, or a name the registry already holds (then
 * nothing is registered).
 */
export function registerClientMetrics(
  registry: Registry,
  client: Producer | Consumer,
  options: ClientMetricsOptions = {},
): ClientMetricsRegistration {
  const { prefix = DEFAULT_CLIENT_METRICS_PREFIX } = options;
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix))
    throw new InvalidConfigError(
      `metrics prefix must be letters, digits, '_' or ':', not starting with a digit, got '${String(prefix)}'`,
    );
  if (registry === null || typeof registry !== 'object' || typeof registry.getSingleMetric !== 'function')
    throw new InvalidConfigError('registerClientMetrics needs a prom-client Registry');
  let specs: MetricSpec[];
  if (client instanceof Producer) specs = producerMetrics(client);
  else if (client instanceof Consumer) specs = consumerMetrics(client);
  else throw new InvalidConfigError('registerClientMetrics needs a Producer or a Consumer of streamhouse');
  const names = specs.map((spec) => `${prefix}${spec.name}`);
  const taken = names.filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0)
    throw new InvalidConfigError(
      `the registry already holds ${taken.join(', ')}: give each client its own prefix (got '${prefix}')`,
    );
  specs.forEach((spec, i) => {
    spec.create(names[i]!, registry);
  });
  return {
    names,
    unregister: () => {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

/** A gauge without labels, set from `read` at each collection. */
function gauge(name: string, help: string, read: () => number): MetricSpec {
  return {
    name,
    create: (full, registry) =>
      new Gauge({
        name: full,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      }),
  };
}

/** A counter without labels, set from the client's running total `read` at each collection. */
function counter(name: string, help: string, read: () => number): MetricSpec {
  return {
    name,
    create: (full, registry) =>
      new Counter({
        name: full,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      }),
  };
}

/** A gauge per topic-partition, from `read` at each collection (partitions no longer listed disappear). */
function partitionGauge(
  name: string,
  help: string,
  read: () => Iterable<{ topic: string; partition: number; value: number }>,
): MetricSpec {
  return {
    name,
    create: (full, registry) =>
      new Gauge({
        name: full,
        help,
        labelNames: ['topic', 'partition'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const { topic, partition, value } of read()) this.set({ topic, partition }, value);
        },
      }),
  };
}

/** What prom-client's registry reads from a metric when collected. */
type CollectedMetric = Awaited<ReturnType<Histogram['get']>>;

/**
 * The producer's ack latency histogram, in seconds, from its snapshot's
 * buckets: prom-client's Histogram only observes single values, so this one
 * answers the registry's reads (`get`, and `getForPromString`, which the
 * text exposition prefers) itself.
 */
class SnapshotHistogram extends Histogram {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    registry: Registry,
    private readonly read: () => ProducerMetricsSnapshot['ackLatency'],
  ) {
    super({
      name: metricName,
      help: metricHelp,
      buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
      registers: [registry],
    });
  }

  override get(): Promise<CollectedMetric> {
    return this.getForPromString();
  }

  getForPromString(): Promise<CollectedMetric> {
    const { buckets, count, sumMs } = this.read();
    const name = this.metricName;
    const values: CollectedMetric['values'] = [];
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((ms, i) => {
      cumulative += buckets[i]!;
      values.push({ metricName: `${name}_bucket`, labels: { le: ms / 1000 }, value: cumulative });
    });
    values.push(
      { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count },
      { metricName: `${name}_sum`, labels: {}, value: sumMs / 1000 },
      { metricName: `${name}_count`, labels: {}, value: count },
    );
    const type = 'histogram' as unknown as CollectedMetric['type'];
    return Promise.resolve({ name, help: this.metricHelp, type, values, aggregator: 'sum', collect: () => undefined });
  }
}

function producerMetrics(producer: Producer): MetricSpec[] {
  const read = () => producer.metrics();
  return [
    gauge(
      'producer_pending_records',
      'Records accepted and not yet acknowledged or failed',
      () => read().pendingRecords,
    ),
    gauge('producer_pending_bytes', 'Estimated bytes of the pending records', () => read().pendingBytes),
    partitionGauge('producer_partition_pending_records', 'Pending records of a topic-partition', () =>
      Object.entries(read().pending).map(([key, { records }]) => {
        const at = key.lastIndexOf('/');
        return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), value: records };
      }),
    ),
    gauge('producer_batches_in_flight', 'Batches closed and not yet settled', () => read().batchesInFlight),
    counter('producer_batches_sent_total', 'Batches closed for sending', () => read().batchesSent),
    counter('producer_retries_total', 'Produce requests retried', () => read().retries),
    counter('producer_epoch_bumps_total', 'Moves to a new producer epoch', () => read().epochBumps),
    counter('producer_records_acked_total', 'Records acknowledged', () => read().recordsAcked),
    counter('producer_records_failed_total', 'Records failed', () => read().recordsFailed),
    {
      name: 'producer_ack_latency_seconds',
      create: (full, registry) =>
        new SnapshotHistogram(full, 'Time from send to acknowledgement, per record', registry, () => read().ackLatency),
    },
  ];
}

function consumerMetrics(consumer: Consumer): MetricSpec[] {
  const infos = () => consumer.offsetInfo();
  return [
    gauge('consumer_lag', 'Records behind the last seen high watermarks, over every partition held', () => {
      return consumer.lag().total;
    }),
    partitionGauge('consumer_partition_lag', 'Records behind the last seen high watermark of a partition held', () =>
      infos().map(({ topic, partition, lag }) => ({ topic, partition, value: lag })),
    ),
    partitionGauge('consumer_position', 'Next offset to consume of a partition held', () =>
      infos().map(({ topic, partition, offset }) => ({ topic, partition, value: offset })),
    ),
    partitionGauge('consumer_high_watermark', 'Last seen high watermark of a partition held', () =>
      infos().map(({ topic, partition, highWatermark }) => ({ topic, partition, value: highWatermark })),
    ),
    gauge(
      'consumer_prefetch_batches',
      'Batches fetched and not yet processed',
      () => consumer.prefetchStats().buffered,
    ),
    gauge('consumer_prefetch_peak_batches', 'Most batches ever held in the prefetch buffer', () => {
      return consumer.prefetchStats().peak;
    }),
  ];
}
