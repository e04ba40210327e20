import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAgentOptions } from '../../../src/agent/agentOptions.js';
import { createProducer } from '../../../src/client/producer/producer.js';
import { AckMode, AgentBusyError, HealthResponse_Status, InvalidConfigError } from '../../../src/protocol/index.js';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import type { ObjectData } from '../../../src/storage/objectStore.js';
import { LocalDirectoryObjectStore } from '../../../src/storage/localDirectoryObjectStore.js';
import { CountingObjectStore } from '../../storage/countingObjectStore.js';
import { waitFor } from '../../support/waitFor.js';
import {
  createTestStores,
  fetchOnce,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

const MiB = 1024 * 1024;

/** A real directory store whose puts wait while the gate is shut: admitted produces hold their bytes until it opens. */
class GatedObjectStore extends CountingObjectStore {
  private opened: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;

  shut(): void {
    this.opened = new Promise((resolve) => (this.openGate = resolve));
  }

  open(): void {
    this.openGate();
  }

  override async put(key: string, data: ObjectData): Promise<void> {
    await this.opened;
    return super.put(key, data);
  }
}

describe('agent: request bytes in flight', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let gated: GatedObjectStore;
  let agent: TestAgent;
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sh-inflight-'));
    gated = new GatedObjectStore(new LocalDirectoryObjectStore({ root }));
    stores = await createTestStores('sqlite', gated);
    agent = await startTestAgent(stores, { maxRequestBytes: 8 * MiB, maxInflightRequestBytes: 16 * MiB });
    await agent.connection.client.createTopic({
      name: 't',
      partitions: 13,
      config: { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 8 * MiB },
    });
  });
  afterEach(async () => {
    gated.open();
    await agent.stop();
    await stores.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  /** One Produce of a 5 MiB batch (five 1 MiB records) to `partition`. */
  const largeProduce = (partition: number, acks = AckMode.ACK_MODE_DURABLE) =>
    agent.connection.client.produce({
      acks,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [
        {
          topic: 't',
          partition,
          batch: encodeRecordBatch(
            Array.from({ length: 5 }, (_, i) => ({
              key: null,
              value: Buffer.alloc(MiB, partition + i),
              timestamp: 1_700_000_000_000,
            })),
          ),
        },
      ],
    });

  it('refuses what does not fit with AGENT_BUSY, never holds more than the bound, serves small calls', async () => {
    gated.shut();
    const outcomes: ('ok' | unknown)[] = [];
    const calls = Array.from({ length: 12 }, (_, partition) =>
      largeProduce(partition).then(
        () => outcomes.push('ok'),
        (error: unknown) => outcomes.push(error),
      ),
    );
    const size = () => agent.agent.inflightRequestBytes.bytes;
    // Every call has either been answered or holds its bytes behind the shut gate.
    await waitFor(
      () => size() > 0 && outcomes.length + Math.round(size() / (5 * MiB)) === 12,
      'every large produce to be admitted or refused',
    );
    expect(outcomes).to.have.length(9);
    expect(agent.agent.inflightRequestBytes.refusals).to.equal(9);
    for (const error of outcomes) {
      expect(error).to.be.instanceOf(AgentBusyError);
      expect((error as AgentBusyError).retriable).to.equal(true);
      expect((error as Error).message).to.match(
        new RegExp(
          '^Produce request of 524\\d{4} bytes refused: 1[05]\\d{6} of 16777216 request bytes in flight ' +
            '\\(--max-inflight-request-bytes\\); retry after a backoff$',
        ),
      );
    }
    const held = agent.agent.inflightRequestBytes;
    expect(held.bytes)
      .to.be.greaterThan(15 * MiB)
      .and.at.most(16 * MiB);
    // Small calls go through meanwhile.
    const { client } = agent.connection;
    expect((await client.health({})).status).to.equal(HealthResponse_Status.SERVING);
    const small = await client.produce({
      acks: AckMode.ACK_MODE_NONE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [
        {
          topic: 't',
          partition: 12,
          batch: encodeRecordBatch([{ key: null, value: Buffer.from('small'), timestamp: 1 }]),
        },
      ],
    });
    expect(small.results[0]!.error).to.equal(undefined);

    gated.open();
    await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'ok')).to.have.length(3);
    expect(agent.agent.inflightRequestBytes).to.deep.include({ bytes: 0, maxBytes: 16 * MiB });
    expect(agent.agent.inflightRequestBytes.peakBytes).to.be.at.most(16 * MiB);

    // The refused ones succeed once there is room: every partition ends up with exactly its five records.
    for (let partition = 0; partition < 12; partition++) {
      if ((await fetchOnce(agent.connection, 't', partition, 0)).highWatermark === 0) await largeProduce(partition);
    }
    for (let partition = 0; partition < 12; partition++) {
      expect((await fetchOnce(agent.connection, 't', partition, 0)).highWatermark, `partition ${partition}`).to.equal(
        5,
      );
    }
    expect(agent.agent.inflightRequestBytes.peakBytes).to.be.at.most(16 * MiB);
  });

  it('lets a producer deliver everything: it retries AGENT_BUSY until there is room', async () => {
    const producer = await createProducer({
      bootstrap: [agent.agent.address],
      lingerMs: 0,
      batchBytes: 6 * MiB,
      maxBufferedBytes: 64 * MiB,
    });
    try {
      // Twelve partitions, one 5 MiB record each, all sent at once: at most three fit in the agent's 16 MiB at a time.
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, partition) =>
          producer.sendAndWait({ topic: 't', partition, value: Buffer.alloc(5 * MiB, partition) }),
        ),
      );
      expect(results.map((r) => [r.partition, r.offset])).to.deep.equal(
        Array.from({ length: 12 }, (_, partition) => [partition, 0]),
      );
    } finally {
      await producer.close();
    }
    // Sent at once, they did not all fit: the producer was refused and retried.
    expect(agent.agent.inflightRequestBytes.refusals).to.be.greaterThan(0);
    expect(agent.agent.inflightRequestBytes.peakBytes).to.be.at.most(16 * MiB);
    for (let partition = 0; partition < 12; partition++) {
      const { records } = await fetchOnce(agent.connection, 't', partition, 0);
      expect(records.map(([offset, value]) => [offset, value.length])).to.deep.equal([[0, 5 * MiB]]);
    }
  });

  it('refuses a budget below the largest request at start', async () => {
    const error = await rejection(
      Promise.resolve().then(() =>
        resolveAgentOptions({
          objectStore: stores.objectStore,
          metadataStore: agent.metadataStore,
          maxRequestBytes: 8 * MiB,
          maxInflightRequestBytes: 8 * MiB - 1,
        }),
      ),
    );
    expect(error).to.be.instanceOf(InvalidConfigError);
    expect((error as Error).message).to.equal(
      'agent option maxInflightRequestBytes (8388607) is below maxRequestBytes (8388608): a request of the largest ' +
        'accepted size could never be admitted; raise it or lower maxRequestBytes',
    );
    expect(
      resolveAgentOptions({ objectStore: stores.objectStore, metadataStore: agent.metadataStore })
        .maxInflightRequestBytes,
    ).to.equal(256 * MiB);
    expect(
      resolveAgentOptions({
        objectStore: stores.objectStore,
        metadataStore: agent.metadataStore,
        maxRequestBytes: 512 * MiB,
      }).maxInflightRequestBytes,
    ).to.equal(512 * MiB);
  });
});
