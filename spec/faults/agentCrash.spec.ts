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
async function crashAndRestart(fixture: FaultFixture, acks: Acks, options: Partial<ProducerOptions> = {}): Promise<void> {
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

  await expectLogKept(`kill -9 + restart, ${acks}${options.maxInFlightPerPartition === 1 ? ', 1 in flight' : ''}`, agent.address, PARTITIONS, acks, result);
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

  // KNOWN BUG (idempotent state after a restart): the restarted agent knows only
  // the last batch per producer and partition (from metadata, or the batches its
  // write-ahead log replayed), so the retry of an earlier batch, stored before
  // the kill but its ack lost, answers OUT_OF_ORDER_SEQUENCE and the producer
  // reports stored records as failed (storedButFailed). Intermittent with durable
  // acks (one batch in 1 of 9 runs here), every time with buffered acks. Unskip
  // both once the agent restores the last five batches.
  it.skip('keeps every durable ack at its offset, once, and stores nothing reported failed', () => crashAndRestart(fixture, 'durable'));
  it.skip('keeps every buffered ack at its offset, once, and stores nothing reported failed', () => crashAndRestart(fixture, 'buffered'));

  // Until then: with one request in flight per partition, the only batch a producer retries is the last one stored.
  it('keeps every durable ack with one request in flight per partition', () => crashAndRestart(fixture, 'durable', { maxInFlightPerPartition: 1 }));
  it('keeps every buffered ack with one request in flight per partition', () => crashAndRestart(fixture, 'buffered', { maxInFlightPerPartition: 1 }));
});
