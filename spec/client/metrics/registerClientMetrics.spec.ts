/**
 * registerClientMetrics against a real agent and a real prom-client Registry:
 * after known traffic the exposition holds exact values, read from the
 * clients at scrape time. Bad options are refused before anything is
 * registered.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { VirtualTimeScheduler, firstValueFrom, take, toArray } from 'rxjs';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import { registerClientMetrics } from '../../../src/client/metrics/index.js';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';

/** The registry's text exposition as `name{labels}` → value, comments left out. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The samples whose names start with `prefix`, as sorted [name, value] pairs. */
function only(samples: Map<string, number>, prefix: string): Array<[string, number]> {
  return [...samples].filter(([name]) => name.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('client/metrics/registerClientMetrics', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let a: TestAgent;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'orders', partitions: 3, config: undefined });
  });
  afterEach(async () => {
    await consumer?.close();
    await producer?.close();
    consumer = producer = undefined;
    await a.stop();
    await stores.cleanup();
  });

  it("exposes a producer's metrics with exact values after known traffic", async () => {
    await a.connection.client.createTopic({
      name: 'tiny',
      partitions: 1,
      config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 300 },
    });
    // Virtual time that never moves: batches close on flush only, and every ack latency is exactly 0.
    const scheduler = new VirtualTimeScheduler();
    producer = await createProducer({ bootstrap: [a.agent.address], lingerMs: 1000, scheduler });
    const registry = new Registry();
    const registration = registerClientMetrics(registry, producer, { prefix: 'app_' });
    expect(registration.names).to.have.length(10);

    // 4 records of 24 + 10 bytes to partition 0, 6 of 24 + 1 + 2 to partition 2.
    for (let i = 0; i < 4; i++) producer.trySend({ topic: 'orders', partition: 0, value: 'x'.repeat(10) });
    for (let i = 0; i < 6; i++) producer.trySend({ topic: 'orders', partition: 2, key: 'k', value: 'yy' });
    expect(only(await scrape(registry), 'app_producer_p')).to.deep.equal([
      ['app_producer_partition_pending_records{topic="orders",partition="0"}', 4],
      ['app_producer_partition_pending_records{topic="orders",partition="2"}', 6],
      ['app_producer_pending_bytes', 4 * 34 + 6 * 27],
      ['app_producer_pending_records', 10],
    ]);

    await producer.flush();
    // One record too large for topic tiny: the agent refuses its batch.
    const refused = producer.trySend({ topic: 'tiny', value: 'z'.repeat(400) })!;
    await producer.flush();
    expect(refused.error).to.have.property('code', 'RECORD_TOO_LARGE');

    const samples = await scrape(registry);
    expect(only(samples, 'app_producer_').filter(([name]) => !name.includes('latency'))).to.deep.equal([
      ['app_producer_batches_in_flight', 0],
      ['app_producer_batches_sent_total', 3],
      ['app_producer_epoch_bumps_total', 0],
      ['app_producer_pending_bytes', 0],
      ['app_producer_pending_records', 0],
      ['app_producer_records_acked_total', 10],
      ['app_producer_records_failed_total', 1],
      ['app_producer_retries_total', 0],
    ]);
    const latency = only(samples, 'app_producer_ack_latency_seconds');
    expect(latency.filter(([name]) => !name.includes('_bucket'))).to.deep.equal([
      ['app_producer_ack_latency_seconds_count', 10],
      ['app_producer_ack_latency_seconds_sum', 0],
    ]);
    // Cumulative buckets: all ten acknowledgements took 0 ms, so every bucket holds them.
    const buckets = latency.filter(([name]) => name.includes('_bucket'));
    expect(buckets).to.have.length(17);
    expect(buckets.every(([, value]) => value === 10)).to.equal(true);
    expect(samples.get('app_producer_ack_latency_seconds_bucket{le="0.001"}')).to.equal(10);
    expect(samples.get('app_producer_ack_latency_seconds_bucket{le="+Inf"}')).to.equal(10);

    registration.unregister();
    expect(await registry.metrics()).to.equal('\n');
  });

  it("exposes a consumer's lag, positions and high watermarks after it read known records", async () => {
    producer = await createProducer({ bootstrap: [a.agent.address], lingerMs: 0 });
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'orders', partition: 0, value: `a${i}` });
    for (let i = 0; i < 4; i++) await producer.send({ topic: 'orders', partition: 1, value: `b${i}` });
    await producer.flush();
    consumer = createConsumer({
      bootstrap: [a.agent.address],
      assignment: [
        { topic: 'orders', partition: 0 },
        { topic: 'orders', partition: 1 },
      ],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 50,
    });
    const registry = new Registry();
    registerClientMetrics(registry, consumer);
    expect(await firstValueFrom(consumer.records$.pipe(take(14), toArray()))).to.have.length(14);

    const samples = await scrape(registry);
    const { buffered, peak } = consumer.prefetchStats();
    expect(only(samples, 'streamhouse_consumer_')).to.deep.equal([
      ['streamhouse_consumer_high_watermark{topic="orders",partition="0"}', 10],
      ['streamhouse_consumer_high_watermark{topic="orders",partition="1"}', 4],
      ['streamhouse_consumer_lag', 0],
      ['streamhouse_consumer_partition_lag{topic="orders",partition="0"}', 0],
      ['streamhouse_consumer_partition_lag{topic="orders",partition="1"}', 0],
      ['streamhouse_consumer_position{topic="orders",partition="0"}', 10],
      ['streamhouse_consumer_position{topic="orders",partition="1"}', 4],
      ['streamhouse_consumer_prefetch_batches', buffered],
      ['streamhouse_consumer_prefetch_peak_batches', peak],
    ]);
    expect(peak).to.be.at.least(1);
  });

  it('refuses a bad prefix, a taken name and a foreign client, registering nothing', async () => {
    producer = await createProducer({ bootstrap: [a.agent.address] });
    const registry = new Registry();
    for (const prefix of ['9lives_', 'has-dash_', 'space _', 42 as unknown as string]) {
      expect(() => registerClientMetrics(registry, producer!, { prefix }), String(prefix)).to.throw(
        InvalidConfigError,
        'metrics prefix must be letters',
      );
    }
    expect(() => registerClientMetrics(registry, {} as Producer)).to.throw(
      InvalidConfigError,
      'needs a Producer or a Consumer',
    );
    expect(() => registerClientMetrics({} as Registry, producer!)).to.throw(InvalidConfigError, 'prom-client Registry');
    expect(registry.getMetricsAsArray()).to.have.length(0);

    const { names } = registerClientMetrics(registry, producer, { prefix: 'one_' });
    expect(() => registerClientMetrics(registry, producer!, { prefix: 'one_' })).to.throw(
      InvalidConfigError,
      `the registry already holds ${names.join(', ')}: give each client its own prefix (got 'one_')`,
    );
    expect(registry.getMetricsAsArray()).to.have.length(10);
    // An empty prefix is allowed, and a second client takes names of its own.
    expect(registerClientMetrics(registry, producer, { prefix: '' }).names[0]).to.equal('producer_pending_records');
    expect(registry.getMetricsAsArray()).to.have.length(20);
  });
});
