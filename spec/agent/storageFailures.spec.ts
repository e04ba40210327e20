/**
 * Store failures on a real agent answer typed errors within their bounds:
 * a store that refuses for good (a real ENOTDIR; EACCES injected, as tests
 * run as root) fails a durable produce at once, a full one (ENOSPC injected)
 * after storageRetryTimeoutMs; `none` appends lost to a failed flush are
 * logged and counted, and further appends to the partition fail fast; the
 * lease is given back; other partitions and topics are served throughout;
 * stop() returns within shutdownTimeoutMs even while a flush retries.
 */
import { expect } from 'chai';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentOptions } from '../../src/agent/agentOptions.js';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import {
  ShuttingDownError,
  StorageFailureError,
  StorageFullError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';
import { FaultyObjectStore } from '../support/faultyObjectStore.js';
import { captureLogger, eventually, within, type LogLine } from '../support/faults.js';

/** Slack on top of each bound, for a loaded machine; the bounds themselves are the agent's options. */
const SLACK_MS = 5000;
const RETRY_MS = 400;
const HOLD_MS = 1500;
const SHUTDOWN_MS = 1000;

describe('agent: storage failures', function () {
  this.timeout(60_000);
  let objectsDir: string;
  let faulty: FaultyObjectStore;
  let stores: TestStores;
  let a: TestAgent | undefined;
  let logs: LogLine[];

  const start = async (options: Partial<AgentOptions> = {}) => {
    const captured = captureLogger();
    logs = captured.lines;
    a = await startTestAgent(stores, {
      storageRetryTimeoutMs: RETRY_MS,
      storageFailureHoldMs: HOLD_MS,
      shutdownTimeoutMs: SHUTDOWN_MS,
      walDir: join(stores.dir, 'wal'),
      logger: captured.logger,
      ...options,
    });
    await a.connection.client.createTopic({ name: 'bad', partitions: 2, config: undefined });
    await a.connection.client.createTopic({ name: 'good', partitions: 1, config: undefined });
    return a;
  };
  /**
   * Produces until the partition takes the batch (after the failure hold, once the store is fixed); its base offset.
   */
  const produceOnceFixed = async (topic: string, partition: number, prefix: string): Promise<number> => {
    let base = -1;
    await eventually(
      async () => {
        try {
          base = await produce(a!.connection, topic, partition, records(1, prefix));
          return true;
        } catch (error) {
          expect((error as StreamHouseError).code).to.be.oneOf(['STORAGE_FAILURE', 'STORAGE_FULL']);
          return false;
        }
      },
      `${topic}/${partition} to take appends again`,
      HOLD_MS + SLACK_MS,
    );
    return base;
  };
  const leaseReleased = async (topic: string, partition: number) =>
    (await a!.metadataStore.getPartition(topic, partition)).leaseExpiresAt <= Date.now();

  beforeEach(async () => {
    objectsDir = await mkdtemp(join(tmpdir(), 'sh-faulty-'));
    faulty = new FaultyObjectStore(new LocalDirectoryObjectStore({ root: objectsDir }));
    stores = await createTestStores('sqlite', faulty);
  });
  afterEach(async () => {
    faulty.putFault = undefined;
    await a?.stop();
    a = undefined;
    await stores.cleanup();
    await rm(objectsDir, { recursive: true, force: true });
  });

  it('answers STORAGE_FAILURE at once when a partition directory is a file, and recovers once fixed', async () => {
    await start();
    const c = a!.connection;
    expect(await produce(c, 'bad', 0, records(2, 'a'))).to.equal(0);
    const dir = join(objectsDir, 'topics', 'bad', '0');
    await rename(dir, `${dir}.moved`);
    await writeFile(dir, 'a file where the partition directory was');

    const error = await within(SLACK_MS, rejection(produce(c, 'bad', 0, records(3, 'b'))), 'the durable produce');
    expect(error).to.be.instanceOf(StorageFailureError);
    expect((error as StreamHouseError).retriable).to.equal(false);
    expect((error as Error).message).to.match(
      /^put topics\/bad\/0\/\S+ failed: ENOTDIR: .* \(refused for good: an operator must fix the store\)$/,
    );
    // The failed partition answers at once, whatever the ack.
    expect(await rejection(produce(c, 'bad', 0, records(1, 'n'), AckMode.ACK_MODE_NONE))).to.be.instanceOf(
      StorageFailureError,
    );
    expect(await rejection(produce(c, 'bad', 0, records(1, 'w'), AckMode.ACK_MODE_BUFFERED))).to.be.instanceOf(
      StorageFailureError,
    );
    expect(await leaseReleased('bad', 0)).to.equal(true);
    // Everything else is served.
    expect(await produce(c, 'bad', 1, records(1, 'c'))).to.equal(0);
    expect(await produce(c, 'good', 0, records(2, 'd'))).to.equal(0);
    expect(await readAll(c, 'good', 0)).to.deep.equal(expected(0, 2, 'd'));
    expect(
      logs.filter((l) => l.msg === 'flush failed, writer stops').map((l) => [l['topic'], l['partition']]),
    ).to.deep.equal([['bad', 0]]);

    await rm(dir);
    await rename(`${dir}.moved`, dir);
    expect(await produceOnceFixed('bad', 0, 'f')).to.equal(2);
    expect(await readAll(c, 'bad', 0)).to.deep.equal([...expected(0, 2, 'a'), ...expected(2, 1, 'f')]);
    await within(SHUTDOWN_MS + SLACK_MS, a!.stop(), 'stop');
  });

  it("logs and counts a none append whose flush fails (EACCES), then fails the partition's appends fast", async () => {
    await start();
    const c = a!.connection;
    faulty.putFault = 'EACCES';
    faulty.faultPrefix = 'topics/bad/0/';
    expect(await produce(c, 'bad', 0, records(3, 'n'), AckMode.ACK_MODE_NONE)).to.equal(-1);
    await eventually(() => a!.agent.lostAppends.batches > 0, 'the lost append to be counted', SLACK_MS);
    expect(a!.agent.lostAppends).to.deep.equal({ batches: 1, records: 3 });
    const lost = logs.filter((l) => l.msg === 'appends answered with acks none were not written');
    expect(lost.map((l) => [l['topic'], l['partition'], l['batches'], l['records']])).to.deep.equal([['bad', 0, 1, 3]]);

    for (const ack of [AckMode.ACK_MODE_NONE, AckMode.ACK_MODE_BUFFERED, AckMode.ACK_MODE_DURABLE]) {
      const error = await rejection(produce(c, 'bad', 0, records(1, 'm'), ack));
      expect(error).to.be.instanceOf(StorageFailureError);
      expect((error as Error).message).to.contain('EACCES: injected fault');
    }
    expect(a!.agent.lostAppends).to.deep.equal({ batches: 1, records: 3 });
    expect(await faulty.inner.list('topics/bad/0/')).to.deep.equal([]);
    expect((await a!.metadataStore.getPartition('bad', 0)).highWatermark).to.equal(0);
    expect(await produce(c, 'good', 0, records(1, 'g'))).to.equal(0);

    faulty.putFault = undefined;
    expect(await produceOnceFixed('bad', 0, 'ok')).to.equal(0);
    await within(SHUTDOWN_MS + SLACK_MS, a!.stop(), 'stop');
  });

  it('retries a full store (ENOSPC) for storageRetryTimeoutMs, then answers STORAGE_FULL, lease released', async () => {
    await start();
    const c = a!.connection;
    faulty.putFault = 'ENOSPC';
    faulty.faultPrefix = 'topics/bad/0/';
    const durable = rejection(produce(c, 'bad', 0, records(2, 'x')));
    await faulty.failures(2);
    // While that flush retries, the agent serves everything else.
    expect(await produce(c, 'good', 0, records(1, 'g'))).to.equal(0);
    expect(await produce(c, 'bad', 1, records(1, 'h'))).to.equal(0);

    const error = await within(RETRY_MS + SLACK_MS, durable, 'the durable produce');
    expect(error).to.be.instanceOf(StorageFullError);
    expect((error as StreamHouseError).retriable).to.equal(true);
    expect((error as Error).message).to.match(
      /^put topics\/bad\/0\/\S+ failed: ENOSPC: .* \(the store is full: free space, e\.g\. delete a topic\)$/,
    );
    expect(await rejection(produce(c, 'bad', 0, records(1, 'n'), AckMode.ACK_MODE_NONE))).to.be.instanceOf(
      StorageFullError,
    );
    expect(await leaseReleased('bad', 0)).to.equal(true);
    expect(logs.some((l) => l.msg === 'flush step failed, retrying' && l['topic'] === 'bad')).to.equal(true);

    faulty.putFault = undefined;
    expect(await produceOnceFixed('bad', 0, 'room')).to.equal(0);
    expect(await readAll(c, 'bad', 0)).to.deep.equal(expected(0, 1, 'room'));
  });

  it('stops within shutdownTimeoutMs while a flush retries, failing its append with SHUTTING_DOWN', async () => {
    await start({ storageRetryTimeoutMs: 600_000 });
    const c = a!.connection;
    faulty.putFault = 'ENOSPC';
    faulty.faultPrefix = 'topics/bad/0/';
    const durable = rejection(produce(c, 'bad', 0, records(2, 'x')));
    await faulty.failures(2);
    const agentId = a!.agent.agentId;
    await within(SHUTDOWN_MS + SLACK_MS, a!.agent.stop(), 'stop');
    const error = await within(SLACK_MS, durable, 'the durable produce');
    expect(error).to.be.instanceOf(ShuttingDownError);
    expect((error as Error).message).to.equal(
      `agent ${agentId} stopped before this append was committed (shutdownTimeoutMs ${SHUTDOWN_MS})`,
    );
    expect(logs.some((l) => l.msg === 'shutdown out of time: failing pending appends, closing connections')).to.equal(
      true,
    );
  });
});
