/**
 * The connections between a producer and its agent cut mid-load by a loopback
 * TCP proxy (both sides reset), three times; new connections go through. The
 * agent advertises the proxy's address, so every call of the producer takes
 * that path: answers lost on a cut connection come back on a retry.
 */
import { expect } from 'chai';
import type { Acks } from '../../src/client/producer/producerOptions.js';
import { startAgentProcess } from '../support/agentProcess.js';
import { freePort } from '../support/freePort.js';
import { startTcpProxy } from '../support/tcpProxy.js';
import { expectLogKept, FaultFixture } from './faultFixture.js';

const PARTITIONS = 3;
const CUTS = 3;

/** The scenario, for either ack mode. */
async function cutConnections(fixture: FaultFixture, acks: Acks): Promise<void> {
  const agentPort = await freePort();
  const proxy = await startTcpProxy(agentPort);
  fixture.onTeardown(() => proxy.close());
  const agent = await startAgentProcess({
    dataDir: await fixture.tempDir('cut'),
    port: agentPort,
    advertisedAddress: proxy.address,
  });
  fixture.onTeardown(() => agent.kill());
  await fixture.createTopic(agent.address, PARTITIONS);
  const producer = await fixture.producer({ bootstrap: [proxy.address], acks });
  const load = fixture.startLoad(producer, PARTITIONS);

  const cut: number[] = [];
  for (let i = 0; i < CUTS; i++) {
    await load.waitForAcks(2000, 30_000);
    cut.push(proxy.cutAll());
  }
  const recovered = await load.recovery(1000, 30_000, [0, 1, 2]);
  const result = await load.stop();

  expect(
    cut.every((n) => n > 0),
    `connections cut: ${cut.join(', ')}`,
  ).to.equal(true);
  await expectLogKept(`connections cut ${CUTS} times, ${acks}`, agent.address, PARTITIONS, acks, result);
  expect(recovered?.message, 'the load went on after the cuts').to.equal(undefined);
  // Every cut is retried at once on a new connection: nothing fails.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

describe('faults: client-agent connections cut by a proxy', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it('keeps every durable ack at its offset, once, and stores nothing reported failed', () =>
    cutConnections(fixture, 'durable'));
  it('keeps every buffered ack at its offset, once, and stores nothing reported failed', () =>
    cutConnections(fixture, 'buffered'));
});
