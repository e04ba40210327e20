/**
 * SIGSTOP of the agent leading partitions, past its lease, while another
 * client makes the second agent take those partitions over; then SIGCONT:
 * the paused agent wakes up with produce requests queued on its sockets and
 * a lease that is no longer its own. Two agent processes share Redis and one
 * data directory (objects, write-ahead-log root).
 */
import { expect } from 'chai';
import { connectAgent } from '../../src/client/agentClient.js';
import { NotLeaderError } from '../../src/protocol/errors.js';
import type { Acks } from '../../src/client/producer/producerOptions.js';
import { produce, REDIS_URL } from '../support/agentHarness.js';
import { startAgentProcess, type AgentProcess } from '../support/agentProcess.js';
import type { Acked } from '../support/producerLoad.js';
import { expectLogKept, FaultFixture, leaders, TOPIC } from './faultFixture.js';

const PARTITIONS = 4;
const LEASE_TTL_MS = 1000;

/**
 * Another client writes one record to each partition through `agent`,
 * retrying NOT_LEADER until the agent takes the partition over; returns
 * where each landed.
 */
async function takeOver(agent: AgentProcess, partitions: readonly number[]): Promise<Map<string, Acked>> {
  const connection = connectAgent(agent.address);
  const acks = new Map<string, Acked>();
  try {
    for (const partition of partitions) {
      const value = `other-${partition}`;
      for (let attempt = 0; ; attempt++) {
        try {
          const offset = await produce(connection, TOPIC, partition, [
            { key: null, value: Buffer.from(value), timestamp: Date.now() },
          ]);
          acks.set(value, { partition, offset });
          break;
        } catch (error) {
          if (!(error instanceof NotLeaderError) || attempt > 500) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
    return acks;
  } finally {
    connection.close();
  }
}

/** The scenario, for either ack mode. */
async function pauseAndResume(fixture: FaultFixture, acks: Acks): Promise<void> {
  const dataDir = await fixture.tempDir('pause');
  const redisPrefix = fixture.redisPrefix();
  const agents: AgentProcess[] = [];
  for (const agentId of ['agent-a', 'agent-b']) {
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
  const producer = await fixture.producer({ bootstrap: agents.map((a) => a.address), acks });
  const load = fixture.startLoad(producer, PARTITIONS);
  await load.waitForAcks(3000, 30_000);

  const led = await leaders(agents[0]!.address);
  const paused = agents.find((a) => led.get(a.agentId)?.includes(0))!;
  const other = agents.find((a) => a !== paused)!;
  const taken = led.get(paused.agentId)!;
  paused.pause();
  const otherAcks = await takeOver(other, taken);
  paused.resume();
  const recovered = await load.recovery(1000, 30_000, taken);
  const result = await load.stop();

  await expectLogKept(`SIGSTOP past the lease + SIGCONT, ${acks}`, other.address, PARTITIONS, acks, result, otherAcks);
  expect(recovered?.message, 'the load went on after the pause').to.equal(undefined);
  expect((await leaders(other.address)).get(other.agentId)).to.include.members(taken);
  // The pause is far shorter than the delivery timeout: the producer rides it out.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

describe('faults: SIGSTOP of a lease holder past its lease, then SIGCONT', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it("keeps every durable ack at its offset, once: the woken agent's commits are fenced", () =>
    pauseAndResume(fixture, 'durable'));

  it('keeps every buffered ack at its offset, once: nothing is acknowledged by the paused agent', () =>
    pauseAndResume(fixture, 'buffered'));
});
