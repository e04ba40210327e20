/**
 * An idempotent producer's unsettled batches of a partition never span more
 * than `maxInFlightPerPartition` (5) batches, the agent's duplicate window: a
 * batch whose answer was lost and whose retry is held back stays
 * recognisable, however fast the batches after it are acknowledged. Against
 * a real agent; a wrapper around the producer's real produce call loses the
 * first answer of the oldest batch and holds its retry until the test opens
 * a gate.
 */
import { expect } from 'chai';
import { concatMap, from, tap, throwError, type Observable } from 'rxjs';
import { createProducer, type Producer } from '../../../src/client/producer/producer.js';
import { BatchSender, type ProduceJob } from '../../../src/client/producer/batchSender.js';
import { AgentUnavailableError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  readAll,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { eventually } from '../../support/faults.js';

type ProduceOnce = (this: BatchSender, job: ProduceJob, request: unknown) => Observable<number>;
const senderInternals = BatchSender.prototype as unknown as { produceOnce: ProduceOnce };

describe("client/producer: the unsettled batches of a partition stay within the agent's duplicate window", function () {
  this.timeout(60_000);
  let stores: TestStores;
  let a: TestAgent;
  let producer: Producer | undefined;
  /** Lets the oldest batch's retry go; at teardown too, so that a failed test does not leave the producer waiting. */
  let openGate: (() => void) | undefined;
  const { send } = BatchSender.prototype;
  const { produceOnce } = senderInternals;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'events', partitions: 1, config: undefined });
  });
  afterEach(async () => {
    openGate?.();
    BatchSender.prototype.send = send;
    senderInternals.produceOnce = produceOnce;
    await producer?.close();
    await a.stop();
    await stores.cleanup();
  });

  it('sends no batch past the fifth while the oldest is retried; its retry is answered as a duplicate', async () => {
    let started = 0;
    let completed = 0;
    BatchSender.prototype.send = function (this: BatchSender, job) {
      started++;
      return send.call(this, job).pipe(tap({ complete: () => completed++ }));
    };
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let oldest: ProduceJob | undefined;
    let oldestAttempts = 0;
    senderInternals.produceOnce = function (this: BatchSender, job, request) {
      oldest ??= job;
      if (job !== oldest) return produceOnce.call(this, job, request);
      // Appended, but the answer is lost: in doubt, retried once the gate opens.
      if (++oldestAttempts === 1)
        return produceOnce
          .call(this, job, request)
          .pipe(concatMap(() => throwError(() => new AgentUnavailableError('answer lost'))));
      return from(gate).pipe(concatMap(() => produceOnce.call(this, job, request)));
    };
    producer = await createProducer({ bootstrap: [a.agent.address], batchRecords: 1, lingerMs: 0 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => producer!.send({ topic: 'events', partition: 0, value: `r${i}` })),
    );

    // The four batches after the oldest are acknowledged while its retry waits: none later may go out before it
    // settles.
    await eventually(() => completed >= 4 && oldestAttempts === 2, 'four batches acknowledged, the oldest retried');
    expect(started).to.equal(5);
    openGate!();
    await producer.flush();

    expect(results.map((r) => [r.offset, r.error])).to.deep.equal(Array.from({ length: 8 }, (_, i) => [i, undefined]));
    expect(producer.metrics()).to.deep.include({ epochBumps: 0, recordsAcked: 8, recordsFailed: 0 });
    expect(await readAll(a.connection, 'events', 0)).to.deep.equal(Array.from({ length: 8 }, (_, i) => [i, `r${i}`]));
  });
});
