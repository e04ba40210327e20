import { expect } from 'chai';
import { BatchSender, type BatchSenderOptions, type ProduceJob } from '../../../src/client/producer/batchSender.js';
import { BuilderPool } from '../../../src/client/producer/builderPool.js';
import { ProducerBatch } from '../../../src/client/producer/producerBatch.js';
import { PartitionState } from '../../../src/client/producer/partitionState.js';
import { RequestBufferPool } from '../../../src/client/producer/requestBufferPool.js';

describe('client/producer/BatchSender.releaseRequest', () => {
  // releaseRequest reads nothing but the pool: the rest of the options stay out of it.
  const senderWith = (requestBuffers: RequestBufferPool) => new BatchSender({ requestBuffers } as BatchSenderOptions);
  const state = new PartitionState('orders', 0);

  /** A job as BatchSender.encode leaves it: its request in a buffer of the pool, the batch a view into it. */
  function sentJob(pool: RequestBufferPool, attempts: number): ProduceJob {
    const message = pool.take(100_000);
    const batch = new ProducerBatch(state, new BuilderPool(1024, 1024));
    return {
      topic: 'orders',
      partition: 0,
      key: 'orders/0',
      batch,
      count: 1,
      bytes: 10,
      attempts,
      message,
      encodedBatch: message.subarray(50, 90),
    };
  }

  for (const [attempts, reuse, kept] of [
    [1, true, true],
    [2, true, false], // went out twice: a cancelled first attempt may not have been copied yet
    [1, false, false], // failed, or offsets$ handed out views of it
    [0, true, false],
  ] as const) {
    it(`${kept ? 'gives back' : 'drops'} the buffer after ${attempts} attempt(s), reuse ${reuse}; lets go`, () => {
      const pool = new RequestBufferPool(1 << 24);
      const job = sentJob(pool, attempts);
      const buffer = job.message!;
      senderWith(pool).releaseRequest(job, reuse);
      expect(pool.heldBytes).to.equal(kept ? buffer.length : 0);
      expect(pool.take(100_000).buffer === buffer.buffer).to.equal(kept);
      expect([job.message, job.encodedBatch]).to.deep.equal([undefined, undefined]);
    });
  }

  it('gives a buffer back once, however often it is called', () => {
    const pool = new RequestBufferPool(1 << 24);
    const job = sentJob(pool, 1);
    const buffer = job.message!;
    const sender = senderWith(pool);
    sender.releaseRequest(job, true);
    sender.releaseRequest(job, true);
    pool.give(buffer); // a stray give of the same buffer is ignored too
    expect(pool.heldBytes).to.equal(buffer.length);
  });
});
