/**
 * Per-principal byte-rate quotas: the accounting on a fake clock, then real
 * agents throttling a gRPC producer, a gRPC consumer and a Kafka producer
 * (whose answers carry throttle_time_ms): 1 MiB at 256 KiB/s with a one-second
 * burst takes at least 3 s.
 */
import { expect } from 'chai';
import { ByteRateQuotas, parsePrincipalRates } from '../../../src/agent/server/byteRateQuotas.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';
import { connectRaw } from '../../kafka/support/rawKafka.js';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import { writeProduceRequest } from '../../../src/kafka/generated/produceRequest.js';
import { readProduceResponse } from '../../../src/kafka/generated/produceResponse.js';
import { KafkaReader } from '../../../src/kafka/wire/kafkaReader.js';
import { resolveAgentOptions } from '../../../src/agent/agentOptions.js';
import { AckMode } from '../../../src/protocol/generated/streamhouse.js';

const KIB = 1024;
const RATE = 256 * KIB;
const CHUNK = 64 * KIB;
/**
 * What a principal's quota guarantees over wall time: `bytes` take at least `bytes / RATE` less the one-second
 * burst (time spent handling the calls counts towards it, so the throttle alone may be less), ms.
 */
const leastElapsed = (bytes: number) => (bytes * 1000) / RATE - 1000;

/** A batch of one record of CHUNK bytes. */
const bigBatch = () => encodeRecordBatch([{ key: null, value: Buffer.alloc(CHUNK, 7), timestamp: 1_700_000_000_000 }]);

describe('byte-rate quotas', function () {
  this.timeout(30_000);

  describe('accounting', () => {
    it('lets one second of the rate through, then throttles each chunk by its share of the rate', () => {
      let now = 0;
      const quotas = new ByteRateQuotas(RATE, new Map(), () => now);
      const throttles: number[] = [];
      for (let i = 0; i < 16; i++) {
        const throttle = quotas.record('alice', CHUNK);
        throttles.push(throttle);
        now += throttle; // A client waits for each answer before it sends again.
      }
      expect(throttles).to.deep.equal([0, 0, 0, 0, ...new Array(12).fill(250)]);
      expect(quotas.usage('alice')).to.deep.equal({ bytes: 16 * CHUNK, throttleMs: 3000 });
      // Idle for a while: the principal is within its rate again.
      now += 5000;
      expect(quotas.record('alice', CHUNK)).to.equal(0);
    });

    it('charges each principal apart; named rates replace the default, 0 is unlimited', () => {
      const quotas = new ByteRateQuotas(
        RATE,
        new Map([
          ['bulk', 0],
          ['slow', KIB],
        ]),
        () => 0,
      );
      expect([quotas.rateOf('anyone'), quotas.rateOf('bulk'), quotas.rateOf('slow')]).to.deep.equal([RATE, 0, KIB]);
      expect(quotas.record('bulk', 10 * 1024 * KIB)).to.equal(0);
      expect(quotas.record('slow', 3 * KIB)).to.equal(2000);
      expect(quotas.record('anyone', RATE)).to.equal(0);
      expect(quotas.usage('bulk')).to.deep.equal({ bytes: 0, throttleMs: 0 });
      expect(quotas.usage('nobody')).to.deep.equal({ bytes: 0, throttleMs: 0 });
      expect(new ByteRateQuotas(0, new Map(), () => 0).record('x', 1 << 30)).to.equal(0);
    });

    it('parses principal=rate lists and refuses malformed ones, naming the flag and pair', () => {
      expect([...parsePrincipalRates('--f', 'alice=1024, CN=x=5 ,bob=0')]).to.deep.equal([
        ['alice', 1024],
        ['CN=x', 5],
        ['bob', 0],
      ]);
      for (const bad of ['alice', '=5', 'alice=-1', 'alice=1.5', 'alice=', 'a=1,,b=2', 'a=99999999999999999999']) {
        expect(() => parsePrincipalRates('--f', bad), bad).to.throw(InvalidConfigError, '--f takes principal=');
      }
    });

    it('refuses negative or fractional rates in the agent options', () => {
      const base = { objectStore: {} as never, metadataStore: {} as never };
      expect(() => resolveAgentOptions({ ...base, produceQuotaBytesPerSecond: -1 })).to.throw(
        InvalidConfigError,
        'agent option produceQuotaBytesPerSecond must be a non-negative integer (bytes/s), got -1',
      );
      expect(() => resolveAgentOptions({ ...base, principalQuotas: { alice: { fetchBytesPerSecond: 1.5 } } })).to.throw(
        InvalidConfigError,
        'principalQuotas.alice.fetchBytesPerSecond must be a non-negative integer',
      );
    });
  });

  describe('on an agent', () => {
    let stores: TestStores;
    let agent: TestAgent | undefined;

    beforeEach(async () => {
      stores = await createTestStores('sqlite');
    });
    afterEach(async () => {
      await agent?.stop();
      agent = undefined;
      await stores.cleanup();
    });

    const produceChunks = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const { results } = await agent!.connection.client.produce({
          acks: AckMode.ACK_MODE_DURABLE,
          producerId: -1,
          producerEpoch: -1,
          timeoutMs: 0,
          partitions: [{ topic: 'q', partition: 0, batch: bigBatch() }],
        });
        expect(results[0]!.error).to.equal(undefined);
      }
    };

    it('delays gRPC Produce answers of a principal over its rate: 1 MiB at 256 KiB/s takes 3 s or more', async () => {
      agent = await startTestAgent(stores, { produceQuotaBytesPerSecond: RATE });
      await agent.connection.client.createTopic({ name: 'q', partitions: 1 });
      const started = Date.now();
      await produceChunks(16);
      const elapsed = Date.now() - started;
      const usage = agent.agent.quotas.produce.usage('ANONYMOUS');
      expect(usage.bytes).to.be.within(16 * CHUNK, 16 * (CHUNK + 256));
      expect(elapsed).to.be.at.least(leastElapsed(usage.bytes));
      expect(usage.throttleMs).to.be.within(1000, elapsed);
    });

    it('does not throttle a principal whose named quota is 0, whatever the default', async () => {
      agent = await startTestAgent(stores, {
        produceQuotaBytesPerSecond: RATE,
        principalQuotas: { ANONYMOUS: { produceBytesPerSecond: 0 } },
      });
      await agent.connection.client.createTopic({ name: 'q', partitions: 1 });
      await produceChunks(16);
      expect(agent.agent.quotas.produce.usage('ANONYMOUS')).to.deep.equal({ bytes: 0, throttleMs: 0 });
    });

    it('delays gRPC Fetch answers by the records they return', async () => {
      agent = await startTestAgent(stores, { fetchQuotaBytesPerSecond: RATE });
      await agent.connection.client.createTopic({ name: 'q', partitions: 1 });
      await produceChunks(16);
      const started = Date.now();
      let offset = 0;
      while (offset < 16) {
        const { results } = await agent.connection.client.fetch({
          partitions: [{ topic: 'q', partition: 0, offset, maxBytes: CHUNK }],
          maxWaitMs: 0,
          minBytes: 0,
        });
        expect(results[0]!.records.length).to.be.greaterThan(CHUNK);
        offset++;
      }
      const elapsed = Date.now() - started;
      const usage = agent.agent.quotas.fetch.usage('ANONYMOUS');
      expect(usage.bytes).to.be.within(16 * CHUNK, 16 * (CHUNK + 256));
      expect(elapsed).to.be.at.least(leastElapsed(usage.bytes));
      expect(usage.throttleMs).to.be.within(1000, elapsed);
    });

    it('answers Kafka Produce over quota with throttle_time_ms, sending it only after that delay', async () => {
      agent = await startTestAgent(stores, { kafkaPort: 0, produceQuotaBytesPerSecond: RATE });
      await agent.connection.client.createTopic({ name: 'q', partitions: 1 });
      const raw = await connectRaw(agent.agent.kafkaAddress!);
      const throttles: number[] = [];
      const started = Date.now();
      try {
        for (let id = 1; id <= 16; id++) {
          raw.request(0, 7, id, (w) =>
            writeProduceRequest(w, 7, {
              acks: -1,
              timeoutMs: 5000,
              transactionalId: null,
              topicData: [{ name: 'q', partitionData: [{ index: 0, records: bigBatch() }] }],
            }),
          );
          const frame = await raw.response();
          expect(frame.readInt32BE(0)).to.equal(id);
          const response = readProduceResponse(new KafkaReader(frame, 4), 7);
          expect(response.responses[0]!.partitionResponses[0]!.errorCode).to.equal(0);
          throttles.push(response.throttleTimeMs);
        }
      } finally {
        raw.close();
      }
      const elapsed = Date.now() - started;
      const total = throttles.reduce((a, b) => a + b, 0);
      const usage = agent.agent.quotas.produce.usage('ANONYMOUS');
      expect(throttles.slice(0, 3)).to.deep.equal([0, 0, 0]);
      expect(total).to.equal(usage.throttleMs);
      expect(elapsed).to.be.at.least(leastElapsed(usage.bytes));
      expect(total).to.be.within(1000, elapsed);
    });
  });
});
