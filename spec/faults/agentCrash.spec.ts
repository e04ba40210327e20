/**
 * kill -9 of a lone agent (SQLite metadata and objects in its data
 * directory) under idempotent producer load, then a restart on the same port
 * and directory: with `durable` acks, and with `buffered` acks (the
 * write-ahead log in the data directory is replayed at start).
 */
import { expect } from 'chai';
import type { Acks, ProducerOptions } from '../../src/client/producer/producerOptions.js';
import { restartAgentProcess, startAgentProcess, type AgentProcess } from '../support/agentProcess.js';
import { expectLogKept, FaultFixture } from './faultFixture.js';

const PARTITIONS = 3;

/** The scenario, for either ack mode; `options` override the producer's defaults. */
async function crashAndRestart(
  fixture: FaultFixture,
  acks: Acks,
  options: Partial<ProducerOptions> = {},
): Promise<void> {
  const dataDir = await fixture.tempDir('crash');
  let agent: AgentProcess = await startAgentProcess({ dataDir });
  fixture.onTeardown(() => agent.kill());
  await fixture.createTopic(agent.address, PARTITIONS);
  const producer = await fixture.producer({ ...options, bootstrap: [agent.address], acks });
  const load = fixture.startLoad(producer, PARTITIONS);

  await load.waitForAcks(3000, 30_000);
  await agent.kill();
  agent = await restartAgentProcess(agent);
  const recovered = await load.recovery(1000, 30_000, [0, 1, 2]);
  const result = await load.stop();

  await expectLogKept(
    `kill -9 + restart, ${acks}${options.maxInFlightPerPartition === 1 ? ', 1 in flight' : ''}`,
    agent.address,
    PARTITIONS,
    acks,
    result,
  );
  expect(recovered?.message, 'the load went on after the restart').to.equal(undefined);
  // A restart is far shorter than the delivery timeout: the producer rides it out.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

describe('faults: kill -9 of the agent, then a restart', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it('keeps every durable ack at its offset, once, and stores nothing reported failed', () =>
    crashAndRestart(fixture, 'durable'));
  // A batch replayed from the log whose answer was lost must be retried within the agent's
  // window of five (see spec/client/producer/inFlightWindow.spec.ts), or it is stored twice.
  it('keeps every buffered ack at its offset, once, and stores nothing reported failed', () =>
    crashAndRestart(fixture, 'buffered'));

  // With one request in flight per partition, the only batch a producer retries is the last one stored.
  it('keeps every durable ack with one request in flight per partition', () =>
    crashAndRestart(fixture, 'durable', { maxInFlightPerPartition: 1 }));
  it('keeps every buffered ack with one request in flight per partition', () =>
    crashAndRestart(fixture, 'buffered', { maxInFlightPerPartition: 1 }));
});
