/**
 * kill -9 of one of three agents (each its own process) sharing Redis
 * metadata (a key prefix of the test's own) and one data directory (the
 * segment objects, and the write-ahead-log root), under idempotent producer
 * load: the other agents take the dead one's partitions over once its leases
 * expire.
 */
import { expect } from 'chai';
import type { ProducerOptions } from '../../src/client/producer/producerOptions.js';
import { REDIS_URL } from '../support/agentHarness.js';
import { startAgentProcess, type AgentProcess } from '../support/agentProcess.js';
import { expectLogKept, FaultFixture, leaders } from './faultFixture.js';

const PARTITIONS = 6;
const LEASE_TTL_MS = 1000;

/** The scenario; `options` override the producer's defaults. */
async function killOneOfThree(
  fixture: FaultFixture,
  scenario: string,
  options: Partial<ProducerOptions> = {},
): Promise<void> {
  const dataDir = await fixture.tempDir('failover');
  const redisPrefix = fixture.redisPrefix();
  const agents: AgentProcess[] = [];
  for (const agentId of ['agent-a', 'agent-b', 'agent-c']) {
    const agent = await startAgentProcess({
      dataDir,
      agentId,
      metadata: REDIS_URL,
      redisPrefix,
      leaseTtlMs: LEASE_TTL_MS,
    });
    fixture.onTeardown(() => agent.kill());
    agents.push(agent);
  }
  await fixture.createTopic(agents[0]!.address, PARTITIONS);
  const producer = await fixture.producer({ ...options, bootstrap: agents.map((a) => a.address), acks: 'durable' });
  const load = fixture.startLoad(producer, PARTITIONS);
  await load.waitForAcks(3000, 30_000);

  // The victim: the agent leading partition 0.
  const led = await leaders(agents[0]!.address);
  const victim = agents.find((a) => led.get(a.agentId)?.includes(0))!;
  const orphaned = led.get(victim.agentId)!;
  await victim.kill();
  const survivor = agents.find((a) => a !== victim)!;
  const recovered = await load.recovery(1000, 30_000, orphaned);
  const result = await load.stop();

  await expectLogKept(scenario, survivor.address, PARTITIONS, 'durable', result);
  expect(recovered?.message, 'the load went on after the failover').to.equal(undefined);
  expect((await leaders(survivor.address)).has(victim.agentId), 'the dead agent still leads').to.equal(false);
  // A failover is far shorter than the delivery timeout: the producer rides it out.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

describe('faults: kill -9 of one of three agents sharing Redis and a directory', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it('keeps every durable ack at its offset, once, while the others take over', () =>
    killOneOfThree(fixture, 'kill -9 of 1 of 3 agents, durable'));

  // Retries bounded by the delivery timeout only, one request in flight per partition.
  it('keeps every durable ack while the others take over, retrying until the delivery timeout', () =>
    killOneOfThree(fixture, 'kill -9 of 1 of 3 agents, durable, unbounded retries, 1 in flight', {
      retry: { maxRetries: Infinity },
      maxInFlightPerPartition: 1,
    }));
});
