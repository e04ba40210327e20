/**
 * Compressed batches between Kafka clients and ours: kcat (librdkafka) with
 * each of gzip, snappy, lz4 and zstd and KafkaJS with gzip, read back by our
 * RxJS Consumer; what our Producer writes with each codec read back by kcat,
 * and with gzip and snappy (kafkajs-snappy) by KafkaJS (KafkaJS has no
 * well-kept zstd or lz4 codec that installs without a download: kcat covers
 * those). The kcat specs are skipped, saying so, when the kcat binary is
 * missing.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';
import { createProducer } from '../../src/client/producer/producer.js';
import { decodeRecordBatches, type CompressionCodec } from '../../src/protocol/codec/recordBatch.js';

// kafkajs-snappy is CommonJS without type declarations: a factory of KafkaJS's codec.
CompressionCodecs[CompressionTypes.Snappy] = createRequire(import.meta.url)('kafkajs-snappy') as never;

function hasKcat(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs kcat with `args` and `input` on stdin; resolves with stdout, rejects on a non-zero exit or after 30 s. */
function kcat(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** A value that compresses well, so that clients do keep it compressed. */
function value(i: number): string {
  return `value-${i}-${'abcdefgh'.repeat(40)}`;
}

describe('Kafka listener: compressed batches', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let broker: string;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0 });
    broker = agent.agent.kafkaAddress!;
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  async function createTopic(name: string): Promise<void> {
    await agent.connection.client.createTopic({ name, partitions: 1, config: undefined });
  }

  /** The codecs of the stored batches of partition 0 of `topic`. */
  async function storedCodecs(topic: string): Promise<CompressionCodec[]> {
    const { results } = await agent.connection.client.fetch({
      partitions: [{ topic, partition: 0, offset: 0, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    return decodeRecordBatches(results[0]!.records).map((batch) => batch.compression);
  }

  /** `count` records of partition 0 of `topic` through our RxJS Consumer: offset, key, value, headers. */
  async function consume(topic: string, count: number): Promise<[number, string | null, string | null, string[]][]> {
    const consumer = createConsumer({
      bootstrap: [agent.agent.address],
      assignment: [{ topic, partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
    });
    try {
      const got = await firstValueFrom(consumer.records$.pipe(take(count), toArray()));
      const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());
      return got.map((r) => [r.offset, text(r.key), text(r.value), r.headers.map((h) => `${h.key}=${text(h.value)}`)]);
    } finally {
      await consumer.close();
    }
  }

  /** Three records to partition 0 of a new `topic` from our RxJS Producer, in `codec` batches. */
  async function produceOurs(topic: string, codec: CompressionCodec): Promise<void> {
    await createTopic(topic);
    const producer = await createProducer({ bootstrap: [agent.agent.address], lingerMs: 1, compression: codec });
    try {
      await Promise.all(
        [0, 1, 2].map((i) => producer.sendAndWait({ topic, partition: 0, key: `k${i}`, value: value(i) })),
      );
    } finally {
      await producer.close();
    }
    expect([...new Set(await storedCodecs(topic))]).to.deep.equal([codec]);
  }

  describe('kcat', () => {
    before(function () {
      if (!hasKcat()) {
        console.warn('    kcat is not installed (apt-get install kcat): skipping the kcat compression specs');
        this.skip();
      }
    });

    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      it(`produces ${codec} batches that the agent stores as sent and our Consumer reads`, async () => {
        const topic = `kcat-${codec}`;
        await createTopic(topic);
        const input = [0, 1, 2].map((i) => `k${i}:${value(i)}\n`).join('');
        await kcat(['-b', broker, '-P', '-t', topic, '-p', '0', '-K:', '-H', 'h=1', '-z', codec], input);
        expect([...new Set(await storedCodecs(topic))]).to.deep.equal([codec]);
        expect(await consume(topic, 3)).to.deep.equal([0, 1, 2].map((i) => [i, `k${i}`, value(i), ['h=1']]));
      });
    }

    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      it(`reads what our Producer wrote with ${codec}`, async () => {
        const topic = `ours-${codec}`;
        await produceOurs(topic, codec);
        const out = await kcat([
          '-b',
          broker,
          '-C',
          '-t',
          topic,
          '-p',
          '0',
          '-o',
          'beginning',
          '-e',
          '-f',
          '%o %k:%s\n',
        ]);
        expect(out.trim().split('\n')).to.deep.equal([0, 1, 2].map((i) => `${i} k${i}:${value(i)}`));
      });
    }
  });

  it('reads what a KafkaJS producer wrote with gzip', async () => {
    await createTopic('kafkajs-gzip');
    const kafka = new Kafka({ clientId: 'compression-spec', brokers: [broker], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: 'kafkajs-gzip',
        compression: CompressionTypes.GZIP,
        messages: [0, 1, 2].map((i) => ({ partition: 0, key: `k${i}`, value: value(i), headers: { h: '1' } })),
      });
    } finally {
      await producer.disconnect();
    }
    expect(await storedCodecs('kafkajs-gzip')).to.deep.equal(['gzip']);
    expect(await consume('kafkajs-gzip', 3)).to.deep.equal([0, 1, 2].map((i) => [i, `k${i}`, value(i), ['h=1']]));
  });

  for (const codec of ['gzip', 'snappy'] as const) {
    it(`KafkaJS reads what our Producer wrote with ${codec}`, async () => {
      const topic = `ours-kafkajs-${codec}`;
      await produceOurs(topic, codec);
      const kafka = new Kafka({ clientId: 'compression-spec', brokers: [broker], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: `compression-${codec}` });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const got: string[] = [];
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ message }) => {
                got.push(`${message.offset} ${String(message.key)}:${String(message.value)}`);
                if (got.length === 3) resolve();
              },
            })
            .catch(reject);
        });
        expect(got).to.deep.equal([0, 1, 2].map((i) => `${i} k${i}:${value(i)}`));
      } finally {
        await consumer.disconnect();
      }
    });
  }

  it('reads what a KafkaJS producer wrote with snappy (kafkajs-snappy)', async () => {
    await createTopic('kafkajs-snappy');
    const kafka = new Kafka({ clientId: 'compression-spec', brokers: [broker], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: 'kafkajs-snappy',
        compression: CompressionTypes.Snappy,
        messages: [0, 1, 2].map((i) => ({ partition: 0, key: `k${i}`, value: value(i) })),
      });
    } finally {
      await producer.disconnect();
    }
    expect(await storedCodecs('kafkajs-snappy')).to.deep.equal(['snappy']);
    expect(await consume('kafkajs-snappy', 3)).to.deep.equal([0, 1, 2].map((i) => [i, `k${i}`, value(i), []]));
  });
});
