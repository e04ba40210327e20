/**
 * Hostile and odd input on the Kafka port: bad sizes, truncated and
 * malformed frames, unknown API keys and versions. Each closes only the
 * offending connection (or answers an error); the agent keeps serving others.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { connectRaw } from './support/rawKafka.js';
import { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import { readApiVersionsResponse } from '../../src/kafka/generated/apiVersionsResponse.js';
import { writeMetadataRequest } from '../../src/kafka/generated/metadataRequest.js';
import { readMetadataResponse } from '../../src/kafka/generated/metadataResponse.js';

const API_VERSIONS = 18;
const METADATA = 3;
const PRODUCE = 0;

describe('Kafka listener framing', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  let address: string;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, maxRequestBytes: 1024 * 1024 });
    address = agent.agent.kafkaAddress!;
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  /** ApiVersions v0 on a fresh connection answers: the agent still serves. */
  async function stillServing(): Promise<void> {
    const raw = await connectRaw(address);
    raw.request(API_VERSIONS, 0, 42, () => undefined);
    const frame = await raw.response();
    expect(frame.readInt32BE(0)).to.equal(42);
    const body = readApiVersionsResponse(new KafkaReader(frame, 4), 0);
    expect(body.errorCode).to.equal(0);
    raw.close();
  }

  it('answers ApiVersions v3 (flexible) with every API and its versions, header v0', async () => {
    const raw = await connectRaw(address);
    raw.request(
      API_VERSIONS,
      3,
      7,
      (w) => {
        w.string('raw-spec', true);
        w.string('1.0', true);
        w.uvarint(0);
      },
      true,
    );
    const frame = await raw.response();
    expect(frame.readInt32BE(0)).to.equal(7);
    const body = readApiVersionsResponse(new KafkaReader(frame, 4), 3);
    expect(body.errorCode).to.equal(0);
    const versions = new Map(body.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(versions.get(PRODUCE)).to.deep.equal([0, 9]);
    expect(versions.get(1)).to.deep.equal([4, 17]);
    expect(versions.get(API_VERSIONS)).to.deep.equal([0, 3]);
    expect(versions.get(33)).to.deep.equal([0, 2]); // AlterConfigs
    expect(versions.get(44)).to.deep.equal([0, 1]); // IncrementalAlterConfigs
    expect(versions.has(24)).to.equal(false); // AddPartitionsToTxn: no transactions
    raw.close();
  });

  it('answers an ApiVersions version it does not know with UNSUPPORTED_VERSION and the list, in v0', async () => {
    const raw = await connectRaw(address);
    raw.request(API_VERSIONS, 99, 8, () => undefined, true);
    const frame = await raw.response();
    expect(frame.readInt32BE(0)).to.equal(8);
    const body = readApiVersionsResponse(new KafkaReader(frame, 4), 0);
    expect(body.errorCode).to.equal(35);
    expect(body.apiKeys.find((k) => k.apiKey === METADATA)).to.deep.equal({
      apiKey: METADATA,
      minVersion: 0,
      maxVersion: 12,
    });
    raw.close();
  });

  it('answers pipelined requests in request order', async () => {
    const raw = await connectRaw(address);
    raw.request(METADATA, 1, 1, (w) => writeMetadataRequest(w, 1, { topics: null }));
    raw.request(API_VERSIONS, 0, 2, () => undefined);
    raw.request(METADATA, 9, 3, (w) => writeMetadataRequest(w, 9, { topics: [] }), true);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await raw.response()).readInt32BE(0));
    expect(ids).to.deep.equal([1, 2, 3]);
    raw.close();
  });

  it('closes the connection on a negative or oversized frame size, before reading the frame', async () => {
    for (const size of [-1, 0, 3, 1024 * 1024 + 1, 0x7fffffff]) {
      const raw = await connectRaw(address);
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size);
      raw.send(prefix);
      await raw.closed;
    }
    await stillServing();
  });

  it('closes the connection on an unknown API key or an unsupported version', async () => {
    for (const [key, version] of [
      [999, 0],
      [-1, 0],
      [PRODUCE, 2],
      [PRODUCE, 99],
      [METADATA, 13],
    ] as const) {
      const raw = await connectRaw(address);
      raw.request(key, version, 1, (w) => w.int32(0));
      await raw.closed;
    }
    await stillServing();
  });

  it('closes the connection on a truncated or malformed body', async () => {
    // Metadata v1 claiming 1000 topics in a 4-byte body.
    const raw = await connectRaw(address);
    raw.request(METADATA, 1, 1, (w) => w.int32(1000));
    await raw.closed;
    // A string longer than the frame.
    const raw2 = await connectRaw(address);
    raw2.request(METADATA, 1, 1, (w) => {
      w.int32(1);
      w.int16(3000);
    });
    await raw2.closed;
    // Trailing bytes after the request.
    const raw3 = await connectRaw(address);
    raw3.request(API_VERSIONS, 0, 1, (w) => w.int32(5));
    await raw3.closed;
    // A frame cut short: the agent waits for the rest; the client leaves.
    const raw4 = await connectRaw(address);
    const prefix = Buffer.alloc(10);
    prefix.writeInt32BE(100);
    raw4.send(prefix);
    raw4.close();
    await stillServing();
  });

  it('survives random frames and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -2, max: 70 }),
        fc.integer({ min: -1, max: 20 }),
        fc.uint8Array({ maxLength: 200 }),
        async (apiKey, version, body) => {
          const raw = await connectRaw(address);
          raw.request(apiKey, version, 5, (w) => w.raw(body));
          // Either an answer or a close; never a hang (the spec's timeout) or a crash.
          await Promise.race([raw.response().catch(() => undefined), raw.closed]);
          raw.close();
        },
      ),
      { numRuns: 150, seed: 16 },
    );
    await stillServing();
    const raw = await connectRaw(address);
    raw.request(METADATA, 4, 9, (w) => writeMetadataRequest(w, 4, { topics: null }));
    const metadata = readMetadataResponse(new KafkaReader(await raw.response(), 4), 4);
    expect(metadata.brokers.map((b) => b.port)).to.deep.equal([agent.agent.kafkaAddress!.split(':').map(Number)[1]]);
    raw.close();
  });
});
