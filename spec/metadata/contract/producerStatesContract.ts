/** Contract: producer states committed with segments: their recent batches, validation and expiry. */
import { expect } from 'chai';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import type {
  CommitSegmentRequest,
  MetadataStore,
  ProducerPartitionState,
} from '../../../src/metadata/metadataStore.js';
import { EXPIRED_STATES_PER_COMMIT, MAX_PRODUCER_BATCHES } from '../../../src/metadata/producerStates.js';
import { rejection, segment, useStore, type StoreHarnessFactory } from './harness.js';

const TTL = 600_000;

/**
 * A producer's state after batches of `counts` records from sequence 0 at offset `base`, with the last one in the
 * last* fields.
 */
function stateOf(producerId: number, counts: number[], base = 0, producerEpoch = 0): ProducerPartitionState {
  const batches: { lastSequence: number; baseOffset: number; recordCount: number }[] = [];
  let sequence = 0;
  let offset = base;
  for (const recordCount of counts) {
    batches.push({ lastSequence: sequence + recordCount - 1, baseOffset: offset, recordCount });
    sequence += recordCount;
    offset += recordCount;
  }
  const last = batches.pop()!;
  const state: ProducerPartitionState = {
    producerId,
    producerEpoch,
    lastSequence: last.lastSequence,
    lastBaseOffset: last.baseOffset,
    lastRecordCount: last.recordCount,
  };
  return batches.length === 0 ? state : { ...state, earlierBatches: batches };
}

export function producerStatesContract(factory: StoreHarnessFactory): void {
  describe('producer states', () => {
    const ctx = useStore(factory);
    let hwm: number;
    let epoch: number;

    /** Commits the next segment of t/0, `length` offsets long, with the given producer states. */
    const commit = (store: MetadataStore, length: number, extra: Partial<CommitSegmentRequest> = {}) => {
      const request = {
        topic: 't',
        partition: 0,
        epoch,
        expectedHighWatermark: hwm,
        segment: segment('t', 0, hwm, hwm + length),
        ...extra,
      };
      return store.commitSegment(request).then((next) => (hwm = next));
    };

    beforeEach(async () => {
      const { store } = ctx();
      await store.createTopic('t', 2);
      epoch = (await store.acquireLease('t', 0, 'agent-a', TTL)).epoch;
      hwm = 0;
    });

    it(`keeps each producer's last ${MAX_PRODUCER_BATCHES} batches, reads them exactly, replaces them`, async () => {
      const { store } = ctx();
      const five = stateOf(3, [2, 1, 4, 1, 3]);
      const one = stateOf(4, [6], 13, 2);
      await commit(store, 19, { producers: [five, one] });
      expect(await store.getProducerState('t', 0, 3)).to.deep.equal(five);
      expect(five.earlierBatches).to.deep.equal([
        { lastSequence: 1, baseOffset: 0, recordCount: 2 },
        { lastSequence: 2, baseOffset: 2, recordCount: 1 },
        { lastSequence: 6, baseOffset: 3, recordCount: 4 },
        { lastSequence: 7, baseOffset: 7, recordCount: 1 },
      ]);
      // A state of one batch reads back without earlier batches.
      expect(await store.getProducerState('t', 0, 4)).to.deep.equal(one);
      const sixth = stateOf(3, [2, 1, 4, 1, 3, 2]);
      const shifted = { ...sixth, earlierBatches: sixth.earlierBatches!.slice(1) };
      await commit(store, 2, { producers: [shifted] });
      expect(await store.getProducerState('t', 0, 3)).to.deep.equal(shifted);
      expect(await store.getProducerState('t', 0, 4)).to.deep.equal(one);
      expect(await store.getProducerState('t', 1, 3)).to.equal(undefined);
    });

    it('refuses malformed batches and expirations with INVALID_REQUEST, writing nothing', async () => {
      const { store } = ctx();
      const base = stateOf(3, [1, 1, 1, 1, 1]);
      const bad: [Partial<CommitSegmentRequest>, string][] = [
        [
          { producers: [stateOf(3, [1, 1, 1, 1, 1, 1])] },
          `producer 3 has more than ${MAX_PRODUCER_BATCHES - 1} earlier batches: keep the last ` +
            `${MAX_PRODUCER_BATCHES} only`,
        ],
        [
          {
            producers: [
              {
                ...base,
                earlierBatches: [
                  { lastSequence: 0, baseOffset: 2, recordCount: 1 },
                  { lastSequence: 1, baseOffset: 1, recordCount: 1 },
                ],
              },
            ],
          },
          'producer 3 batch baseOffset 1 is invalid: use a safe integer >= 3',
        ],
        [
          { producers: [{ ...base, earlierBatches: [{ lastSequence: 0, baseOffset: 0, recordCount: 0 }] }] },
          'producer 3 batch recordCount 0 is invalid: use a safe integer >= 1',
        ],
        [
          { producers: [{ ...base, lastBaseOffset: 3 }] },
          "producer 3's last batch at 3 overlaps its earlier batches (which end at 4)",
        ],
        [
          { producers: [{ ...base, earlierBatches: [{ lastSequence: -1, baseOffset: 0, recordCount: 1 }] }] },
          'producer 3 batch lastSequence -1 is invalid: use a safe integer >= 0',
        ],
        [{ producerIdExpirationMs: 0 }, 'producerIdExpirationMs 0 is invalid: use a safe integer >= 1'],
        [{ producerIdExpirationMs: 1.5 }, 'producerIdExpirationMs 1.5 is invalid: use a safe integer >= 1'],
      ];
      for (const [extra, message] of bad) {
        const error = await rejection(commit(store, 5, extra), InvalidRequestError, 'INVALID_REQUEST');
        expect(error.message).to.equal(message);
      }
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(0);
      expect(await store.getProducerState('t', 0, 3)).to.equal(undefined);
    });

    it('removes states no commit updated for over producerIdExpirationMs, in the commit that finds them', async () => {
      const { store, clock } = ctx();
      await commit(store, 2, { producers: [stateOf(1, [1]), stateOf(2, [1], 1)] });
      clock.advance(1000);
      await commit(store, 1, { producers: [stateOf(3, [1], 2)], producerIdExpirationMs: 5000 });
      clock.advance(4000); // 1 and 2 idle for exactly 5000 ms: kept
      await commit(store, 1, { producerIdExpirationMs: 5000 });
      expect(
        await Promise.all([1, 2, 3].map(async (id) => (await store.getProducerState('t', 0, id)) !== undefined)),
      ).to.deep.equal([true, true, true]);
      clock.advance(1);
      // Without an expiration nothing is removed; with one, 1 goes (idle 5001 ms), 2 is renewed by this very commit, 3
      // stays (4001 ms).
      await commit(store, 1);
      expect(await store.getProducerState('t', 0, 1)).to.deep.equal(stateOf(1, [1]));
      await commit(store, 1, { producers: [stateOf(2, [1, 1], 1)], producerIdExpirationMs: 5000 });
      expect(await store.getProducerState('t', 0, 1)).to.equal(undefined);
      expect(await store.getProducerState('t', 0, 2)).to.deep.equal(stateOf(2, [1, 1], 1));
      expect(await store.getProducerState('t', 0, 3)).to.deep.equal(stateOf(3, [1], 2));
      clock.advance(5001);
      await commit(store, 1, { producerIdExpirationMs: 5000 });
      expect(await store.getProducerState('t', 0, 2)).to.equal(undefined);
      expect(await store.getProducerState('t', 0, 3)).to.equal(undefined);
    });

    it(`removes at most ${EXPIRED_STATES_PER_COMMIT} expired states besides those it writes, oldest 1st`, async () => {
      const { store, clock } = ctx();
      const count = EXPIRED_STATES_PER_COMMIT + 5;
      await commit(store, 1, { producers: Array.from({ length: count - 1 }, (_, i) => stateOf(i + 1, [1])) });
      clock.advance(10);
      await commit(store, 1, { producers: [stateOf(count, [1])] }); // the newest
      clock.advance(1000);
      await commit(store, 1, { producers: [stateOf(count + 1, [1])], producerIdExpirationMs: 500 });
      const present = async () => {
        const ids: number[] = [];
        for (let id = 1; id <= count + 1; id++)
          if ((await store.getProducerState('t', 0, id)) !== undefined) ids.push(id);
        return ids;
      };
      expect((await present()).length).to.equal(count + 1 - (EXPIRED_STATES_PER_COMMIT + 1));
      expect((await present()).slice(-2)).to.deep.equal([count, count + 1]);
      await commit(store, 1, { producerIdExpirationMs: 500 });
      expect(await present()).to.deep.equal([count + 1]);
    });

    it('expires the states of one partition only', async () => {
      const { store, clock } = ctx();
      const other = (await store.acquireLease('t', 1, 'agent-a', TTL)).epoch;
      await store.commitSegment({
        topic: 't',
        partition: 1,
        epoch: other,
        expectedHighWatermark: 0,
        segment: segment('t', 1, 0, 1),
        producers: [stateOf(1, [1])],
      });
      await commit(store, 1, { producers: [stateOf(1, [1])] });
      clock.advance(2000);
      await commit(store, 1, { producerIdExpirationMs: 1000 });
      expect(await store.getProducerState('t', 0, 1)).to.equal(undefined);
      expect(await store.getProducerState('t', 1, 1)).to.deep.equal(stateOf(1, [1]));
    });
  });
}
