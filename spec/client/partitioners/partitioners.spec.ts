import { expect } from 'chai';
import { InvalidConfigError, InvalidRequestError, UnknownTopicOrPartitionError } from '../../../src/protocol/errors.js';
import {
  choosePartition,
  createDefaultPartitioner,
  createRoundRobinPartitioner,
  createStickyPartitioner,
  isBatchAware,
  keyHashPartitioner,
  partitionForKey,
  type PartitionerArgs,
} from '../../../src/client/partitioners/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const args = (topic: string, key: Uint8Array | null, partitionCount: number): PartitionerArgs => ({
  topic,
  key,
  value: null,
  partitionCount,
});
/** A random source that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => {
    const v = values[i++];
    if (v === undefined) throw new Error('random called more often than the test expected');
    return v;
  };
};

describe('client/partitioners', () => {
  describe('key hash', () => {
    it("puts a key where Kafka's default partitioner would", () => {
      // toPositive(murmur2("abc")) = 479470107; toPositive(murmur2("21")) = 1173551340.
      expect(partitionForKey(utf8('abc'), 10)).to.equal(7);
      expect(partitionForKey(utf8('abc'), 3)).to.equal(479470107 % 3);
      expect(partitionForKey(utf8('21'), 10)).to.equal(0);
      expect(partitionForKey(utf8('21'), 7)).to.equal(1173551340 % 7);
      expect(partitionForKey(utf8('foobar'), 12)).to.equal((-790332482 & 0x7fffffff) % 12);
    });

    it('refuses a record without a key', () => {
      expect(() => keyHashPartitioner(args('orders', null, 3)))
        .to.throw(InvalidRequestError)
        .with.property('context')
        .that.deep.equals({ topic: 'orders' });
    });
  });

  describe('round-robin', () => {
    it('cycles each topic through its partitions from 0, ignoring keys', () => {
      const partitioner = createRoundRobinPartitioner();
      const orders = [0, 1, 2, 3, 4].map(() => partitioner(args('orders', utf8('same'), 3)));
      const users = [0, 1].map(() => partitioner(args('users', null, 5)));
      expect(orders).to.deep.equal([0, 1, 2, 0, 1]);
      expect(users).to.deep.equal([0, 1]);
    });

    it('stays in range when the partition count shrinks', () => {
      const partitioner = createRoundRobinPartitioner();
      expect([6, 6, 6, 6, 6, 2, 2].map((n) => partitioner(args('t', null, n)))).to.deep.equal([0, 1, 2, 3, 4, 1, 0]);
    });
  });

  describe('sticky', () => {
    it('sticks to one partition until a batch on it is opened, then moves to another', () => {
      // 0.5 * 4 → partition 2; then floor(0.9 * 3) = 2 ≥ 2 → partition 3; then floor(0 * 3) = 0.
      const partitioner = createStickyPartitioner({ random: sequence(0.5, 0.9, 0) });
      expect([1, 2, 3].map(() => partitioner(args('t', null, 4)))).to.deep.equal([2, 2, 2]);
      partitioner.onNewBatch('t', 2);
      expect([1, 2].map(() => partitioner(args('t', null, 4)))).to.deep.equal([3, 3]);
      partitioner.onNewBatch('t', 3);
      expect(partitioner(args('t', null, 4))).to.equal(0);
    });

    it('ignores a new batch on a partition it is not stuck to, and unknown topics', () => {
      const partitioner = createStickyPartitioner({ random: sequence(0.25) });
      expect(partitioner(args('t', null, 4))).to.equal(1);
      partitioner.onNewBatch('t', 3);
      partitioner.onNewBatch('other', 1);
      expect(partitioner(args('t', null, 4))).to.equal(1);
    });

    it('never moves to the partition it leaves, even with random at its top end', () => {
      const partitioner = createStickyPartitioner({ random: sequence(0, 0.999999, 0.999999) });
      expect(partitioner(args('t', null, 3))).to.equal(0);
      partitioner.onNewBatch('t', 0);
      expect(partitioner(args('t', null, 3))).to.equal(2);
      partitioner.onNewBatch('t', 2);
      expect(partitioner(args('t', null, 3))).to.equal(1);
    });

    it('stays on partition 0 of a one-partition topic and re-picks when the count changes', () => {
      const partitioner = createStickyPartitioner({ random: sequence(0.7, 0.7, 0.1) });
      expect(partitioner(args('t', null, 1))).to.equal(0);
      partitioner.onNewBatch('t', 0);
      expect(partitioner(args('t', null, 1))).to.equal(0);
      expect(partitioner(args('t', null, 10))).to.equal(1);
    });

    it('keeps topics apart', () => {
      const partitioner = createStickyPartitioner({ random: sequence(0.1, 0.6) });
      expect(partitioner(args('a', null, 10))).to.equal(1);
      expect(partitioner(args('b', null, 10))).to.equal(6);
      expect(partitioner(args('a', null, 10))).to.equal(1);
    });
  });

  describe('default', () => {
    it('hashes keyed records and sticks null-key records', () => {
      const partitioner = createDefaultPartitioner({ random: sequence(0.5, 0) });
      expect(isBatchAware(partitioner)).to.equal(true);
      expect(partitioner(args('t', utf8('abc'), 10))).to.equal(7);
      expect(partitioner(args('t', null, 10))).to.equal(5);
      expect(partitioner(args('t', utf8('21'), 10))).to.equal(0);
      expect(partitioner(args('t', null, 10))).to.equal(5);
      partitioner.onNewBatch('t', 5);
      expect(partitioner(args('t', null, 10))).to.equal(0);
    });

    it('can spread null-key records round-robin', () => {
      const partitioner = createDefaultPartitioner({ nullKeys: 'round-robin' });
      const got = [null, null, utf8('abc'), null].map((key) => partitioner(args('t', key, 10)));
      expect(got).to.deep.equal([0, 1, 7, 2]);
    });

    it('rejects an unknown null-key strategy', () => {
      expect(() => createDefaultPartitioner({ nullKeys: 'random' as never })).to.throw(
        InvalidConfigError,
        "nullKeys must be 'sticky' or 'round-robin', got 'random'",
      );
    });
  });

  describe('choosePartition', () => {
    const record = { topic: 'orders', key: utf8('abc'), value: utf8('v') };

    it('lets an explicit partition win over the partitioner', () => {
      let calls = 0;
      const partitioner = () => {
        calls++;
        return 0;
      };
      expect(choosePartition({ ...record, partition: 2 }, 3, partitioner)).to.equal(2);
      expect(calls).to.equal(0);
    });

    it('passes topic, key, value and count to the partitioner', () => {
      const seen: PartitionerArgs[] = [];
      const partitioner = (a: PartitionerArgs) => {
        seen.push(a);
        return 1;
      };
      expect(choosePartition(record, 3, partitioner)).to.equal(1);
      expect(seen).to.deep.equal([{ topic: 'orders', key: utf8('abc'), value: utf8('v'), partitionCount: 3 }]);
      expect(choosePartition({ ...record, partition: undefined }, 10, keyHashPartitioner)).to.equal(7);
    });

    it('rejects explicit partitions that are not non-negative integers', () => {
      for (const partition of [-1, 1.5, Number.NaN]) {
        expect(() => choosePartition({ ...record, partition }, 3, keyHashPartitioner), String(partition)).to.throw(
          InvalidRequestError,
          `record.partition must be a non-negative integer, got ${partition}`,
        );
      }
    });

    it('rejects an explicit partition beyond the topic', () => {
      try {
        choosePartition({ ...record, partition: 3 }, 3, keyHashPartitioner);
        expect.fail('should have thrown');
      } catch (error) {
        expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
        expect((error as UnknownTopicOrPartitionError).message).to.equal(
          'partition 3 does not exist: topic orders has partitions 0..2',
        );
        expect((error as UnknownTopicOrPartitionError).context).to.deep.equal({ topic: 'orders', partition: 3 });
      }
    });

    it('catches a custom partitioner that answers out of range', () => {
      for (const answer of [3, -1, 0.5]) {
        expect(() => choosePartition(record, 3, () => answer)).to.throw(
          InvalidConfigError,
          `the partitioner returned ${answer} for topic orders, outside 0..2; fix the custom partitioner`,
        );
      }
    });

    it('rejects a partition count below 1', () => {
      expect(() => choosePartition(record, 0, keyHashPartitioner)).to.throw(
        InvalidRequestError,
        'topic orders has 0 partitions; expected a positive integer',
      );
    });
  });
});
