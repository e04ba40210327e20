/**
 * kill -9 of the Redis that holds the metadata, under idempotent producer
 * load, for longer than the agent's leases, then a restart on the same port
 * and directory. The Redis is a private redis-server whose append-only file
 * is fsynced on every write, so nothing it acknowledged is lost with it.
 */
import { expect } from 'chai';
import type { Acks, ProducerOptions } from '../../src/client/producer/producerOptions.js';
import { startAgentProcess } from '../support/agentProcess.js';
import { startRedisServer, type RedisServerProcess } from '../support/redisServerProcess.js';
import { expectLogKept, FaultFixture } from './faultFixture.js';

const PARTITIONS = 3;
const LEASE_TTL_MS = 1000;

/** The scenario, for either ack mode; `options` override the producer's defaults. */
async function redisOutage(fixture: FaultFixture, acks: Acks, options: Partial<ProducerOptions> = {}): Promise<void> {
  const redisDir = await fixture.tempDir('redis');
  let redis: RedisServerProcess = await startRedisServer(redisDir);
  fixture.onTeardown(() => redis.kill());
  const agent = await startAgentProcess({
    dataDir: await fixture.tempDir('redis-agent'),
    metadata: redis.url,
    leaseTtlMs: LEASE_TTL_MS,
  });
  fixture.onTeardown(() => agent.kill());
  await fixture.createTopic(agent.address, PARTITIONS);
  const producer = await fixture.producer({ ...options, bootstrap: [agent.address], acks });
  const load = fixture.startLoad(producer, PARTITIONS);
  await load.waitForAcks(3000, 30_000);

  await redis.kill();
  // The outage lasts until the agent has lost a lease: its commits and renewals failed meanwhile.
  await agent.child.waitFor(/"msg":"(lease lost|lease may have expired, writer stops)"/, 30_000);
  redis = await startRedisServer(redisDir, redis.port);
  const recovered = await load.recovery(1000, 30_000, [0, 1, 2]);
  const result = await load.stop();

  await expectLogKept(
    `Redis kill -9 + restart, ${acks}${options.maxInFlightPerPartition === 1 ? ', 1 in flight' : ''}`,
    agent.address,
    PARTITIONS,
    acks,
    result,
  );
  expect(recovered?.message, 'the load went on after Redis came back').to.equal(undefined);
  // The outage is far shorter than the delivery timeout: the producer rides it out.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

describe('faults: Redis killed and restarted under load', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it('keeps every durable ack at its offset, once, and stores nothing reported failed', () =>
    redisOutage(fixture, 'durable'));
  // With one request in flight per partition, the only batch a producer retries is the last one stored.
  it('keeps every durable ack with one request in flight per partition', () =>
    redisOutage(fixture, 'durable', { maxInFlightPerPartition: 1 }));
  it('keeps every buffered ack at its offset, once, and stores nothing reported failed', () =>
    redisOutage(fixture, 'buffered'));
});
