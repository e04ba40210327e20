/** Contract: segment commits (fencing, high watermark), listing, compaction and retention. */
import { expect } from 'chai';
import {
  FencedLeaseEpochError,
  HighWatermarkConflictError,
  InvalidRequestError,
} from '../../../src/protocol/errors.js';
import type { MetadataStore, SegmentInfo } from '../../../src/metadata/metadataStore.js';
import { expectDense, rejection, segment, useStore, type StoreHarnessFactory } from './harness.js';

const TTL = 60_000;

/** Commits segments of the given lengths one after another; returns the segments. */
async function commitRun(
  store: MetadataStore,
  topic: string,
  partition: number,
  epoch: number,
  lengths: number[],
  from = 0,
): Promise<SegmentInfo[]> {
  const segments: SegmentInfo[] = [];
  let hwm = from;
  for (const length of lengths) {
    const s = segment(topic, partition, hwm, hwm + length);
    expect(await store.commitSegment({ topic, partition, epoch, expectedHighWatermark: hwm, segment: s })).to.equal(
      hwm + length,
    );
    segments.push(s);
    hwm += length;
  }
  return segments;
}

export function segmentsContract(factory: StoreHarnessFactory): void {
  describe('segment registry', () => {
    const ctx = useStore(factory);

    it('commits a segment, sets the high watermark and stores producer states atomically', async () => {
      const { store } = ctx();
      await store.createTopic('t', 2);
      const lease = await store.acquireLease('t', 1, 'agent-a', TTL);
      const first = segment('t', 1, 0, 10);
      const producers = [
        { producerId: 3, producerEpoch: 0, lastSequence: 4, lastBaseOffset: 5, lastRecordCount: 5 },
        { producerId: 4, producerEpoch: 2, lastSequence: 99, lastBaseOffset: 0, lastRecordCount: 5 },
      ];
      expect(
        await store.commitSegment({
          topic: 't',
          partition: 1,
          epoch: lease.epoch,
          expectedHighWatermark: 0,
          segment: first,
          producers,
        }),
      ).to.equal(10);
      expect((await store.getPartition('t', 1)).highWatermark).to.equal(10);
      expect(await store.listSegments('t', 1)).to.deep.equal([first]);
      expect(await store.getProducerState('t', 1, 3)).to.deep.equal(producers[0]);
      expect(await store.getProducerState('t', 1, 4)).to.deep.equal(producers[1]);
      expect(await store.getProducerState('t', 0, 3)).to.equal(undefined);
      const next = { producerId: 3, producerEpoch: 0, lastSequence: 9, lastBaseOffset: 10, lastRecordCount: 5 };
      await store.commitSegment({
        topic: 't',
        partition: 1,
        epoch: lease.epoch,
        expectedHighWatermark: 10,
        segment: segment('t', 1, 10, 15),
        producers: [next],
      });
      expect(await store.getProducerState('t', 1, 3)).to.deep.equal(next);
      expect(await store.getProducerState('t', 1, 4)).to.deep.equal(producers[1]);
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(0);
    });

    it('rejects a stale epoch and changes nothing', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const old = await store.acquireLease('t', 0, 'agent-a', TTL);
      const current = await store.acquireLease('t', 0, 'agent-a', TTL);
      await commitRun(store, 't', 0, current.epoch, [5]);
      const producers = [{ producerId: 1, producerEpoch: 0, lastSequence: 0, lastBaseOffset: 5, lastRecordCount: 1 }];
      const error = await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch: old.epoch,
          expectedHighWatermark: 5,
          segment: segment('t', 0, 5, 6),
          producers,
        }),
        FencedLeaseEpochError,
        'FENCED_LEASE_EPOCH',
      );
      expect(error.message).to.equal('lease epoch 1 of t/0 is fenced: the current epoch is 2 (holder agent-a)');
      expect(error.context).to.deep.equal({ topic: 't', partition: 0 });
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(5);
      expect(await store.listSegments('t', 0)).to.deep.equal([segment('t', 0, 0, 5)]);
      expect(await store.getProducerState('t', 0, 1)).to.equal(undefined);
    });

    it('rejects a wrong expected high watermark or base offset and changes nothing', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', TTL);
      await commitRun(store, 't', 0, epoch, [5]);
      const behind = await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch,
          expectedHighWatermark: 0,
          segment: segment('t', 0, 0, 3),
        }),
        HighWatermarkConflictError,
        'HIGH_WATERMARK_CONFLICT',
      );
      expect(behind.message).to.equal('high watermark of t/0 is 5, not the expected 0');
      expect(behind.context).to.deep.equal({ topic: 't', partition: 0, offset: 5 });
      const mismatch = await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch,
          expectedHighWatermark: 5,
          segment: segment('t', 0, 6, 9),
        }),
        HighWatermarkConflictError,
        'HIGH_WATERMARK_CONFLICT',
      );
      expect(mismatch.message).to.equal('segment of t/0 starts at 6 but the expected high watermark is 5 (current 5)');
      await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch,
          expectedHighWatermark: 5,
          segment: { ...segment('t', 0, 5, 9), key: segment('t', 0, 0, 5).key },
        }),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch,
          expectedHighWatermark: 5,
          segment: segment('t', 0, 5, 5),
        }),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(5);
      expect(await store.listSegments('t', 0)).to.deep.equal([segment('t', 0, 0, 5)]);
    });

    it('commits several segments in one step, each checked alone: refused ones change nothing', async () => {
      const { store } = ctx();
      await store.createTopic('t', 4);
      const stale = await store.acquireLease('t', 2, 'agent-a', TTL);
      const leases = await Promise.all([0, 1, 2, 3].map((p) => store.acquireLease('t', p, 'agent-a', TTL)));
      const producers = [{ producerId: 7, producerEpoch: 0, lastSequence: 4, lastBaseOffset: 0, lastRecordCount: 5 }];
      const outcomes = await store.commitSegments([
        {
          topic: 't',
          partition: 0,
          epoch: leases[0]!.epoch,
          expectedHighWatermark: 0,
          segment: segment('t', 0, 0, 5),
          producers,
        },
        { topic: 't', partition: 1, epoch: leases[1]!.epoch, expectedHighWatermark: 3, segment: segment('t', 1, 3, 6) },
        { topic: 't', partition: 2, epoch: stale.epoch, expectedHighWatermark: 0, segment: segment('t', 2, 0, 4) },
        { topic: 't', partition: 3, epoch: leases[3]!.epoch, expectedHighWatermark: 0, segment: segment('t', 3, 0, 0) },
        { topic: 't', partition: 0, epoch: leases[0]!.epoch, expectedHighWatermark: 5, segment: segment('t', 0, 5, 8) },
        { topic: 't', partition: 3, epoch: leases[3]!.epoch, expectedHighWatermark: 0, segment: segment('t', 3, 0, 2) },
      ]);
      expect(outcomes.map((o) => (o.ok ? o.highWatermark : (o.error as { code: string }).code))).to.deep.equal([
        5,
        'HIGH_WATERMARK_CONFLICT',
        'FENCED_LEASE_EPOCH',
        'INVALID_REQUEST',
        8,
        2,
      ]);
      const conflict = outcomes[1] as { ok: false; error: unknown };
      expect(conflict.error).to.be.instanceOf(HighWatermarkConflictError);
      expect((conflict.error as Error).message).to.equal('high watermark of t/1 is 0, not the expected 3');
      expect((outcomes[2] as { ok: false; error: unknown }).error).to.be.instanceOf(FencedLeaseEpochError);
      expect((outcomes[3] as { ok: false; error: unknown }).error).to.be.instanceOf(InvalidRequestError);
      expect((await store.listPartitions('t')).map((p) => p.highWatermark)).to.deep.equal([8, 0, 0, 2]);
      expect(await store.listSegments('t', 0)).to.deep.equal([segment('t', 0, 0, 5), segment('t', 0, 5, 8)]);
      expect(await store.listSegments('t', 1)).to.deep.equal([]);
      expect(await store.listSegments('t', 2)).to.deep.equal([]);
      expect(await store.getProducerState('t', 0, 7)).to.deep.equal(producers[0]);
      expect(await store.commitSegments([])).to.deep.equal([]);
    });

    it('keeps offsets dense under 8 concurrent committers on distinct partitions', async () => {
      const { store, harness, clock } = ctx();
      const stores = [store, await harness.open(clock.read)];
      await store.createTopic('busy', 8);
      const lengths = [3, 1, 7, 2, 5, 4];
      await Promise.all(
        Array.from({ length: 8 }, async (_, partition) => {
          const s = stores[partition % 2]!;
          const { epoch } = await s.acquireLease('busy', partition, `agent-${partition % 2}`, TTL);
          let hwm = 0;
          for (const length of lengths.map((l) => l + partition)) {
            const next = await s.commitSegment({
              topic: 'busy',
              partition,
              epoch,
              expectedHighWatermark: hwm,
              segment: segment('busy', partition, hwm, hwm + length),
            });
            expect(next).to.equal(hwm + length);
            hwm = next;
          }
        }),
      );
      for (let partition = 0; partition < 8; partition++) {
        const total = lengths.reduce((sum, l) => sum + l + partition, 0);
        expect((await store.getPartition('busy', partition)).highWatermark).to.equal(total);
        const segments = await stores[1]!.listSegments('busy', partition);
        expect(segments).to.have.length(lengths.length);
        expectDense(segments, 0, total);
      }
    });

    it('lists segments ending after an offset, ordered, up to a limit', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', TTL);
      const all = await commitRun(store, 't', 0, epoch, [10, 10, 10, 10]);
      expect(await store.listSegments('t', 0)).to.deep.equal(all);
      expect(await store.listSegments('t', 0, 15)).to.deep.equal(all.slice(1));
      expect(await store.listSegments('t', 0, 20)).to.deep.equal(all.slice(2));
      expect(await store.listSegments('t', 0, 19, 2)).to.deep.equal(all.slice(1, 3));
      expect(await store.listSegments('t', 0, 0, 0)).to.deep.equal([]);
      expect(await store.listSegments('t', 0, 40)).to.deep.equal([]);
    });

    it('replaces contiguous segments by one covering them exactly (compaction)', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', TTL);
      const [a, b, c, d] = await commitRun(store, 't', 0, epoch, [2, 3, 4, 5]);
      const merged = { ...segment('t', 0, 2, 9), key: 'topics/t/0/merged-2-9.seg' };
      await store.replaceSegments({ topic: 't', partition: 0, epoch, remove: [c!.key, b!.key], add: merged });
      expect(await store.listSegments('t', 0)).to.deep.equal([a, merged, d]);
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(14);
      // A merged object may reuse the key of a segment it replaces.
      const whole = { ...segment('t', 0, 0, 14), key: a!.key };
      await store.replaceSegments({
        topic: 't',
        partition: 0,
        epoch,
        remove: [a!.key, merged.key, d!.key],
        add: whole,
      });
      expect(await store.listSegments('t', 0)).to.deep.equal([whole]);
    });

    it('refuses replacements that do not fit the registry, changing nothing', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', TTL);
      const all = await commitRun(store, 't', 0, epoch, [2, 3, 4]);
      const [a, b, c] = all;
      const replace = (remove: string[], add: SegmentInfo) =>
        store.replaceSegments({ topic: 't', partition: 0, epoch, remove, add });
      const unknown = await rejection(
        replace([a!.key, 'nope'], segment('t', 0, 0, 5)),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      expect(unknown.message).to.equal('segment nope is not registered in t/0');
      const gap = await rejection(
        replace([a!.key, c!.key], { ...segment('t', 0, 0, 9), key: 'm' }),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      expect(gap.message).to.equal(`segments to replace in t/0 are not contiguous: ${c!.key} does not start at 2`);
      const short = await rejection(
        replace([a!.key, b!.key], { ...segment('t', 0, 0, 4), key: 'm' }),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      expect(short.message).to.equal('merged segment m must cover exactly offsets 0..5 of t/0');
      const taken = await rejection(
        replace([a!.key, b!.key], { ...segment('t', 0, 0, 5), key: c!.key }),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      expect(taken.message).to.equal(`segment key ${c!.key} is already registered in t/0: use a new key`);
      await rejection(replace([a!.key, a!.key], segment('t', 0, 0, 2)), InvalidRequestError, 'INVALID_REQUEST');
      await rejection(
        store.replaceSegments({
          topic: 't',
          partition: 0,
          epoch: epoch + 1,
          remove: [a!.key, b!.key],
          add: { ...segment('t', 0, 0, 5), key: 'm' },
        }),
        FencedLeaseEpochError,
        'FENCED_LEASE_EPOCH',
      );
      expect(await store.listSegments('t', 0)).to.deep.equal(all);
    });

    it('deletes the oldest segments and advances the log start offset (retention)', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', TTL);
      const all = await commitRun(store, 't', 0, epoch, [2, 3, 4, 5]);
      const keys = all.map((s) => s.key);
      const del = (k: string[], logStartOffset: number, e = epoch) =>
        store.deleteSegments({ topic: 't', partition: 0, epoch: e, keys: k, logStartOffset });
      const notOldest = await rejection(del([keys[1]!], 5), InvalidRequestError, 'INVALID_REQUEST');
      expect(notOldest.message).to.equal(
        `segment ${keys[1]} is not among the oldest segments of t/0: delete from the start`,
      );
      const wrongStart = await rejection(del([keys[0]!, keys[1]!], 9), InvalidRequestError, 'INVALID_REQUEST');
      expect(wrongStart.message).to.equal(
        'new log start offset of t/0 must be 5 (end of the last deleted segment), not 9',
      );
      await rejection(del(['nope'], 2), InvalidRequestError, 'INVALID_REQUEST');
      await rejection(del([keys[0]!], 2, epoch + 1), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      expect((await store.getPartition('t', 0)).logStartOffset).to.equal(0);
      expect(await store.listSegments('t', 0)).to.deep.equal(all);

      await del([keys[1]!, keys[0]!], 5);
      expect(await store.getPartition('t', 0)).to.deep.include({ logStartOffset: 5, highWatermark: 14 });
      expect(await store.listSegments('t', 0)).to.deep.equal(all.slice(2));
      await del([keys[2]!, keys[3]!], 14);
      expect(await store.getPartition('t', 0)).to.deep.include({ logStartOffset: 14, highWatermark: 14 });
      expect(await store.listSegments('t', 0)).to.deep.equal([]);
    });
  });
}
