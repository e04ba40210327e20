/**
 * SegmentCommitBatcher over a real SQLite file: commits asked for in one event-loop turn go to the store as one call.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentCommitBatcher } from '../../../src/agent/write/segmentCommitBatcher.js';
import type { CommitSegmentRequest } from '../../../src/metadata/metadataStore.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';
import { FencedLeaseEpochError, MetadataError } from '../../../src/protocol/errors.js';
import { segment } from '../../metadata/contract/harness.js';

/** Why a promise rejected (fails the test if it resolved). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}

describe('agent/commitBatcher', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  const epochs: number[] = [];
  const request = (partition: number, from: number, to: number, epoch = epochs[partition]!): CommitSegmentRequest => ({
    topic: 't',
    partition,
    epoch,
    expectedHighWatermark: from,
    segment: segment('t', partition, from, to),
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-group-commit-'));
    store = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
    await store.createTopic('t', 3);
    epochs.length = 0;
    for (let p = 0; p < 3; p++) epochs.push((await store.acquireLease('t', p, 'agent-a', 60_000)).epoch);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the commits of one turn as one store call, and answers each with its own high watermark', async () => {
    const batcher = new SegmentCommitBatcher(store);
    const answers = await Promise.all([
      batcher.commit(request(0, 0, 5)),
      batcher.commit(request(1, 0, 3)),
      batcher.commit(request(2, 0, 9)),
    ]);
    expect(answers).to.deep.equal([5, 3, 9]);
    expect(batcher.stats).to.deep.equal({ calls: 1, commits: 3 });
    expect((await store.listPartitions('t')).map((p) => p.highWatermark)).to.deep.equal([5, 3, 9]);
  });

  it('fails only the refused commit of a group', async () => {
    const batcher = new SegmentCommitBatcher(store);
    const stale = epochs[1]! - 1;
    const [first, second, third] = await Promise.allSettled([
      batcher.commit(request(0, 0, 2)),
      batcher.commit(request(1, 0, 2, stale)),
      batcher.commit(request(2, 0, 2)),
    ]);
    expect(first).to.deep.equal({ status: 'fulfilled', value: 2 });
    expect(third).to.deep.equal({ status: 'fulfilled', value: 2 });
    expect(second.status).to.equal('rejected');
    expect((second as PromiseRejectedResult).reason).to.be.instanceOf(FencedLeaseEpochError);
    expect((await store.listPartitions('t')).map((p) => p.highWatermark)).to.deep.equal([2, 0, 2]);
  });

  it('starts a new group in a later turn', async () => {
    const batcher = new SegmentCommitBatcher(store);
    expect(await batcher.commit(request(0, 0, 1))).to.equal(1);
    expect(await batcher.commit(request(0, 1, 2))).to.equal(2);
    expect(batcher.stats).to.deep.equal({ calls: 2, commits: 2 });
  });

  it('fails every commit of a group when the store call fails as a whole', async () => {
    const batcher = new SegmentCommitBatcher(store);
    await store.close();
    const errors = await Promise.all([
      rejection(batcher.commit(request(0, 0, 1))),
      rejection(batcher.commit(request(1, 0, 1))),
    ]);
    for (const error of errors) {
      expect(error).to.be.instanceOf(MetadataError);
      expect((error as Error).message).to.match(/is closed/);
    }
  });
});
