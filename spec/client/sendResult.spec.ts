import { expect } from 'chai';
import { createHook } from 'node:async_hooks';
import { BatchOutcome, SendResult } from '../../src/client/sendResult.js';
import { DeliveryTimeoutError, InvalidRequestError, NotLeaderError } from '../../src/protocol/errors.js';

/** The number of live timers in this process (real ones, as Node counts them). */
const liveTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/** Why a promise rejected (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (error) {
    return error;
  }
}

/** Record 0 of a fresh batch, with its batch's settle calls at hand. */
function sendResult(topic: string, partition: number, timestamp: number) {
  const batch = new BatchOutcome(topic, partition);
  return Object.assign(new SendResult(batch, 0, timestamp), {
    resolveBatch: (baseOffset: number) => batch.resolve(baseOffset),
    rejectBatch: (error: unknown) => batch.reject(error),
  });
}

describe('client/sendResult', () => {
  it('reads its offset from its batch: base offset + its index', async () => {
    const batch = new BatchOutcome('orders', 2);
    const results = [0, 1, 2].map((i) => new SendResult(batch, i, 1_700_000_000_000 + i));
    const waiting = results.map((r) => r.waitOffset());
    expect(results.map((r) => r.offset)).to.deep.equal([undefined, undefined, undefined]);
    batch.resolve(40);
    expect(await Promise.all(waiting)).to.deep.equal([40, 41, 42]);
    expect(results.map((r) => [r.topic, r.partition, r.timestamp, r.offset, r.settled])).to.deep.equal([
      ['orders', 2, 1_700_000_000_000, 40, true],
      ['orders', 2, 1_700_000_000_001, 41, true],
      ['orders', 2, 1_700_000_000_002, 42, true],
    ]);
  });

  it('gives -1 for every record of a batch acknowledged without offsets (acks none)', async () => {
    const batch = new BatchOutcome('orders', 0);
    const second = new SendResult(batch, 1, 0);
    batch.resolve(-1);
    expect(second.offset).to.equal(-1);
    expect(await second.waitOffset()).to.equal(-1);
  });

  it('fails every record of a failed batch with the same error', async () => {
    const batch = new BatchOutcome('orders', 0);
    const results = [0, 1].map((i) => new SendResult(batch, i, 0));
    const cause = new NotLeaderError('gone');
    const waiting = results.map((r) => rejection(r.waitOffset()));
    batch.reject(cause);
    expect(await Promise.all(waiting)).to.deep.equal([cause, cause]);
    expect(results.map((r) => r.error)).to.deep.equal([cause, cause]);
  });

  it('carries topic, partition and timestamp, and the offset once resolved', async () => {
    const result = sendResult('orders', 3, 1_700_000_000_000);
    expect([result.topic, result.partition, result.timestamp]).to.deep.equal(['orders', 3, 1_700_000_000_000]);
    expect(result.offset).to.equal(undefined);
    expect(result.settled).to.equal(false);
    const waiting = result.waitOffset();
    result.resolveBatch(42);
    expect(await waiting).to.equal(42);
    expect(result.offset).to.equal(42);
    expect(result.settled).to.equal(true);
    expect(await result.waitOffset()).to.equal(42);
    expect(await result.waitOffset(1)).to.equal(42);
  });

  it('resolves every waiter', async () => {
    const result = sendResult('orders', 0, 0);
    const waiting = [result.waitOffset(), result.waitOffset(5_000), result.waitOffset(Infinity)];
    result.resolveBatch(0);
    expect(await Promise.all(waiting)).to.deep.equal([0, 0, 0]);
  });

  it('rejects waiters with the exact error and keeps it for later callers', async () => {
    const result = sendResult('orders', 1, 0);
    const cause = new NotLeaderError('agent-2 lost orders/1');
    const waiting = result.waitOffset();
    result.rejectBatch(cause);
    expect(await rejection(waiting)).to.equal(cause);
    expect(await rejection(result.waitOffset())).to.equal(cause);
    expect(result.error).to.equal(cause);
    expect(result.offset).to.equal(undefined);
    expect(result.settled).to.equal(true);
  });

  it('does not cause an unhandled rejection when nobody waits', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const result = sendResult('orders', 2, 0);
      result.rejectBatch(new NotLeaderError('nobody listens'));
      // Node reports unhandled rejections once the microtasks of a task have run: by the next check phase.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
      expect(result.error).to.be.instanceOf(NotLeaderError);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects with DeliveryTimeoutError when the timeout passes first', async () => {
    const result = sendResult('orders', 4, 0);
    // Timers started together fire in the order they expire: the 30 ms timeout comes between these two.
    const order: string[] = [];
    setTimeout(() => order.push('29 ms'), 29);
    const later = setTimeout(() => order.push('31 ms'), 31);
    const error = await rejection(result.waitOffset(30).finally(() => order.push('rejected')));
    clearTimeout(later);
    expect(order).to.deep.equal(['29 ms', 'rejected']);
    expect(error).to.be.instanceOf(DeliveryTimeoutError);
    expect((error as DeliveryTimeoutError).code).to.equal('DELIVERY_TIMEOUT');
    expect((error as DeliveryTimeoutError).message).to.equal('no offset for the record sent to orders/4 within 30 ms');
    expect((error as DeliveryTimeoutError).context).to.deep.equal({ topic: 'orders', partition: 4 });
    // The record may still be acknowledged afterwards; its offset shows it.
    result.resolveBatch(9);
    expect(result.offset).to.equal(9);
  });

  it('times out one waiter without disturbing the others', async () => {
    const result = sendResult('orders', 0, 0);
    const patient = result.waitOffset();
    const hasty = result.waitOffset(10);
    expect(await rejection(hasty)).to.be.instanceOf(DeliveryTimeoutError);
    result.resolveBatch(77);
    expect(await patient).to.equal(77);
  });

  it('clears its timer as soon as the result settles', async () => {
    const before = liveTimers();
    const resolved = sendResult('orders', 0, 0);
    const waitingResolve = resolved.waitOffset(60_000);
    const rejected = sendResult('orders', 0, 0);
    const waitingReject = rejected.waitOffset(60_000);
    expect(liveTimers()).to.equal(before + 2);
    resolved.resolveBatch(1);
    rejected.rejectBatch(new NotLeaderError('moved'));
    expect(liveTimers()).to.equal(before);
    expect(await waitingResolve).to.equal(1);
    expect(await rejection(waitingReject)).to.be.instanceOf(NotLeaderError);
  });

  it('creates no timer and no promise until someone waits', () => {
    let promises = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'PROMISE') promises++;
      },
    });
    const before = liveTimers();
    hook.enable();
    const results = Array.from({ length: 1000 }, (_, i) => sendResult('orders', 0, i));
    for (const [i, result] of results.entries()) result.resolveBatch(i);
    results[0]!.rejectBatch(new NotLeaderError('ignored: already resolved'));
    sendResult('orders', 0, 0).rejectBatch(new NotLeaderError('nobody waits'));
    hook.disable();
    expect(promises).to.equal(0);
    expect(liveTimers()).to.equal(before);
    expect(results[999]!.offset).to.equal(999);
  });

  it('keeps the first settlement', async () => {
    const acked = sendResult('orders', 0, 0);
    acked.resolveBatch(5);
    acked.rejectBatch(new NotLeaderError('late'));
    acked.resolveBatch(6);
    expect(acked.offset).to.equal(5);
    expect(acked.error).to.equal(undefined);

    const failed = sendResult('orders', 0, 0);
    const cause = new NotLeaderError('first');
    failed.rejectBatch(cause);
    failed.resolveBatch(7);
    expect(failed.offset).to.equal(undefined);
    expect(await rejection(failed.waitOffset())).to.equal(cause);
  });

  it('rejects a timeout that is not a number ≥ 0', async () => {
    const result = sendResult('orders', 5, 0);
    for (const timeoutMs of [-1, Number.NaN]) {
      const error = await rejection(result.waitOffset(timeoutMs));
      expect(error).to.be.instanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).message).to.equal(
        `waitOffset timeout must be a number of ms ≥ 0, got ${timeoutMs}`,
      );
      expect((error as InvalidRequestError).context).to.deep.equal({ topic: 'orders', partition: 5 });
    }
  });
});
