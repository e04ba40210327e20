/**
 * An object store that fails or stalls writes under idempotent producer load
 * with durable acks: a fault-injecting wrapper around a real directory store,
 * below an agent in this process (SQLite metadata). Passing failures and
 * stalls delay acks; a store that refuses writes for good fails the records
 * concerned, and none of them is stored.
 */
import { expect } from 'chai';
import type { ProducerOptions } from '../../src/client/producer/producerOptions.js';
import { join } from 'node:path';
import { StorageError, StorageFailureError } from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { createTestStores, startTestAgent } from '../support/agentHarness.js';
import { WriteFaultStore, type WriteFault } from '../support/writeFaultStore.js';
import type { ProducerLoad } from '../support/producerLoad.js';
import { expectLogKept, FaultFixture } from './faultFixture.js';

const PARTITIONS = 3;

/** An agent over a faulty store, a producer load on it; returns what the test drives. */
async function setUp(
  fixture: FaultFixture,
  options: Partial<ProducerOptions> = {},
): Promise<{ store: WriteFaultStore; load: ProducerLoad; address: string }> {
  const store = new WriteFaultStore(
    new LocalDirectoryObjectStore({ root: join(await fixture.tempDir('store'), 'objects') }),
  );
  const stores = await createTestStores('sqlite', store);
  fixture.onTeardown(() => stores.cleanup());
  const agent = await startTestAgent(stores);
  fixture.onTeardown(() => agent.stop());
  await fixture.createTopic(agent.agent.address, PARTITIONS);
  const producer = await fixture.producer({ ...options, bootstrap: [agent.agent.address], acks: 'durable' });
  const load = fixture.startLoad(producer, PARTITIONS);
  await load.waitForAcks(3000, 30_000);
  return { store, load, address: agent.agent.address };
}

/** A passing fault: lasts until `faultedPuts` writes met it (or `ms` for a stall), then heals. */
async function passingFault(
  fixture: FaultFixture,
  scenario: string,
  fault: WriteFault,
  faultedPuts: number,
  ms = 0,
): Promise<void> {
  const { store, load, address } = await setUp(fixture);
  store.inject(fault);
  await store.faultsSeen(faultedPuts, 30_000);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  store.heal();
  const recovered = await load.recovery(1000, 30_000, [0, 1, 2]);
  const result = await load.stop();

  await expectLogKept(scenario, address, PARTITIONS, 'durable', result);
  expect(recovered?.message, 'the load went on after the store healed').to.equal(undefined);
  // The agent retries a passing store failure while it holds the lease: nothing fails.
  expect(result.failed.size, 'records reported failed').to.equal(0);
}

/** Writes refused for good (not retriable) once, then accepted again. */
async function refusal(fixture: FaultFixture, scenario: string, options: Partial<ProducerOptions> = {}): Promise<void> {
  const { store, load, address } = await setUp(fixture, options);
  store.inject({ kind: 'fail', error: () => new StorageFailureError('injected refusal') });
  await store.faultsSeen(1, 30_000);
  store.heal();
  const recovered = await load.recovery(1000, 30_000, [0, 1, 2]);
  const result = await load.stop();

  const figures = await expectLogKept(scenario, address, PARTITIONS, 'durable', result);
  expect(recovered?.message, 'the load went on after the store healed').to.equal(undefined);
  // The refusal reaches the producer as the typed, non-retriable error.
  expect(
    Object.keys(figures.failures).some((k) => k.startsWith('STORAGE_FAILURE ')),
    JSON.stringify(figures.failures),
  ).to.equal(true);
}

describe('faults: an object store that fails or stalls writes', function () {
  this.timeout(120_000);
  let fixture: FaultFixture;

  beforeEach(() => {
    fixture = new FaultFixture();
  });
  afterEach(() => fixture.tearDown());

  it('rides out passing write failures: every durable ack at its offset, once', () =>
    passingFault(
      fixture,
      'store fails writes (retriable), durable',
      { kind: 'fail', error: () => new StorageError('injected write failure') },
      20,
    ));

  it('rides out writes that land but answer a failure: every durable ack at its offset, once', () =>
    passingFault(
      fixture,
      'store writes, then fails (retriable), durable',
      { kind: 'failAfterWrite', error: () => new StorageError('injected lost answer') },
      20,
    ));

  it('rides out stalled writes: every durable ack at its offset, once', () =>
    passingFault(fixture, 'store stalls writes 1.5 s, durable', { kind: 'stall' }, 1, 1500));

  // The producer re-sequences the batches in flight behind the refused one under a new epoch.
  it('fails the records a store refuses for good, stores none of them, and goes on once it accepts again', () =>
    refusal(fixture, 'store refuses writes (not retriable), durable'));

  it('fails the records a store refuses for good, stores none, and goes on (one request in flight per partition)', () =>
    refusal(fixture, 'store refuses writes (not retriable), durable, 1 in flight', { maxInFlightPerPartition: 1 }));
});
