import { expect } from 'chai';
import fc from 'fast-check';
import {
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignment,
  type GroupMemberMetadata,
} from '../../../src/client/assignors/index.js';
import { keysOf, member, summarize } from './assignorFixtures.js';

const TOPICS = ['t0', 't1', 't2', 't3'];

type Group = { members: GroupMemberMetadata[]; partitionCounts: Map<string, number> };

/** 1-6 members subscribing to random topics (some unknown to the cluster, some with 0 partitions). */
const groupArbitrary: fc.Arbitrary<Group> = fc
  .record({
    partitionCounts: fc.array(fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }), {
      minLength: TOPICS.length,
      maxLength: TOPICS.length,
    }),
    subscriptions: fc.array(fc.subarray([...TOPICS, 'unknown']), { minLength: 1, maxLength: 6 }),
  })
  .map(({ partitionCounts, subscriptions }) => ({
    partitionCounts: new Map(
      TOPICS.flatMap((topic, i) =>
        partitionCounts[i] === undefined ? [] : [[topic, partitionCounts[i]] as [string, number]],
      ),
    ),
    members: subscriptions.map((topics, i) => member(`m${i}`, topics)),
  }));

/** Every partition that some member could be given, as `topic/partition`. */
function assignable(group: Group): Set<string> {
  const keys = new Set<string>();
  for (const { metadata } of group.members) {
    for (const topic of metadata.topics) {
      for (let p = 0; p < (group.partitionCounts.get(topic) ?? 0); p++) keys.add(`${topic}/${p}`);
    }
  }
  return keys;
}

/** Asserts no partition is assigned twice and every one goes to a subscriber; returns the holders. */
function checkOwnership(group: Group, result: Map<string, Assignment>): Map<string, string> {
  expect([...result.keys()].sort()).to.deep.equal(group.members.map((m) => m.memberId).sort());
  const holder = new Map<string, string>();
  const allowed = assignable(group);
  for (const { memberId, metadata } of group.members) {
    for (const key of keysOf(result.get(memberId)!.partitions)) {
      expect(holder.has(key), `${key} assigned twice`).to.equal(false);
      expect(allowed.has(key)).to.equal(true);
      expect(metadata.topics).to.include(key.split('/')[0]);
      holder.set(key, memberId);
    }
  }
  return holder;
}

function spread(values: number[]): number {
  return values.length === 0 ? 0 : Math.max(...values) - Math.min(...values);
}

function sizeOf(assignment: Assignment, topic?: string): number {
  return assignment.partitions
    .filter((entry) => topic === undefined || entry.topic === topic)
    .reduce((sum, entry) => sum + entry.partitions.length, 0);
}

/** Members grouped by the topics they can actually be given. */
function bySubscription(group: Group): GroupMemberMetadata[][] {
  const groups = new Map<string, GroupMemberMetadata[]>();
  for (const m of group.members) {
    const key = m.metadata.topics
      .filter((t) => (group.partitionCounts.get(t) ?? 0) > 0)
      .sort()
      .join(',');
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()];
}

describe('client/assignors properties', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor]) {
    it(`${assignor.name}: every subscribed partition goes to exactly one subscriber`, () => {
      fc.assert(
        fc.property(groupArbitrary, (group) => {
          const holder = checkOwnership(group, assignor.assign(group.members, group.partitionCounts));
          expect([...holder.keys()].sort()).to.deep.equal([...assignable(group)].sort());
        }),
        { numRuns: 300 },
      );
    });

    it(`${assignor.name}: deterministic whatever the member order`, () => {
      fc.assert(
        fc.property(groupArbitrary, (group) => {
          const forward = summarize(assignor.assign(group.members, group.partitionCounts));
          const backward = summarize(assignor.assign([...group.members].reverse(), group.partitionCounts));
          expect(backward).to.deep.equal(forward);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('range: within one partition per topic among its subscribers', () => {
    fc.assert(
      fc.property(groupArbitrary, (group) => {
        const result = rangeAssignor.assign(group.members, group.partitionCounts);
        for (const topic of TOPICS) {
          const sizes = group.members
            .filter((m) => m.metadata.topics.includes(topic))
            .map((m) => sizeOf(result.get(m.memberId)!, topic));
          expect(spread(sizes)).to.be.at.most(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('roundrobin: within one partition overall when subscriptions are identical', () => {
    fc.assert(
      fc.property(groupArbitrary, (group) => {
        const same = group.members.map((m) => member(m.memberId, group.members[0]!.metadata.topics));
        const result = roundRobinAssignor.assign(same, group.partitionCounts);
        expect(spread(same.map((m) => sizeOf(result.get(m.memberId)!)))).to.be.at.most(1);
      }),
      { numRuns: 300 },
    );
  });

  /** Random claims: partitions (existing or not) with random generations, conflicts included. */
  const stickyArbitrary = groupArbitrary.chain((group) =>
    fc
      .array(
        fc.record({
          owned: fc.array(fc.tuple(fc.constantFrom(...TOPICS), fc.integer({ min: 0, max: 8 })), { maxLength: 8 }),
          generation: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        }),
        { minLength: group.members.length, maxLength: group.members.length },
      )
      .map((claims) => ({
        ...group,
        members: group.members.map(({ memberId, metadata }, i) => {
          const owned: Record<string, number[]> = {};
          for (const [topic, p] of claims[i]!.owned)
            owned[topic] = [...new Set([...(owned[topic] ?? []), p])].sort((a, b) => a - b);
          return member(memberId, metadata.topics, owned, claims[i]!.generation);
        }),
      })),
  );

  /** Runs rebalances, each member owning its last assignment, until nothing is withheld. */
  function converge(start: Group, maxRounds: number): { rounds: number; result: Map<string, Assignment> } {
    let members = start.members;
    for (let round = 1; round <= maxRounds; round++) {
      const group = { ...start, members };
      const result = cooperativeStickyAssignor.assign(members, start.partitionCounts);
      const holder = checkOwnership(group, result);
      // Two-phase rule: nobody receives a partition another member holds, unless it holds it too.
      for (const { memberId, metadata } of members) {
        for (const key of keysOf(metadata.ownedPartitions)) {
          const receiver = holder.get(key);
          if (receiver !== undefined && receiver !== memberId) {
            const receiverOwns = keysOf(members.find((m) => m.memberId === receiver)!.metadata.ownedPartitions);
            expect(receiverOwns, `${key} handed from ${memberId} to ${receiver} without revocation`).to.include(key);
          }
        }
      }
      if (holder.size === assignable(start).size) return { rounds: round, result };
      members = members.map(({ memberId, metadata }) =>
        member(memberId, metadata.topics, summarize(result)[memberId]!, 100 + round),
      );
    }
    throw new Error(`no convergence in ${maxRounds} rounds`);
  }

  it('cooperative-sticky: safe handovers, then full coverage, balance within one per subscription, stable', () => {
    fc.assert(
      fc.property(stickyArbitrary, (group) => {
        const { result } = converge(group, 6);
        for (const members of bySubscription(group)) {
          expect(spread(members.map((m) => sizeOf(result.get(m.memberId)!)))).to.be.at.most(1);
        }
        const settled = group.members.map(({ memberId, metadata }) =>
          member(memberId, metadata.topics, summarize(result)[memberId]!, 999),
        );
        expect(summarize(cooperativeStickyAssignor.assign(settled, group.partitionCounts))).to.deep.equal(
          summarize(result),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('cooperative-sticky: deterministic whatever the member order', () => {
    fc.assert(
      fc.property(stickyArbitrary, (group) => {
        const forward = summarize(cooperativeStickyAssignor.assign(group.members, group.partitionCounts));
        const backward = summarize(
          cooperativeStickyAssignor.assign([...group.members].reverse(), group.partitionCounts),
        );
        expect(backward).to.deep.equal(forward);
      }),
      { numRuns: 100 },
    );
  });

  it('cooperative-sticky: with identical subscriptions, converges in two rounds moving the fewest partitions', () => {
    const arbitrary = fc
      .record({ partitions: fc.integer({ min: 1, max: 24 }), members: fc.integer({ min: 1, max: 6 }) })
      .chain(({ partitions, members }) =>
        fc.record({
          partitions: fc.constant(partitions),
          members: fc.constant(members),
          // -1: unowned (or held by a member that left)
          owners: fc.array(fc.integer({ min: -1, max: members - 1 }), { minLength: partitions, maxLength: partitions }),
        }),
      );
    fc.assert(
      fc.property(arbitrary, ({ partitions, members: memberCount, owners }) => {
        const ids = Array.from({ length: memberCount }, (_, i) => `m${i}`);
        const owned = ids.map((_, i) => owners.flatMap((owner, p) => (owner === i ? [p] : [])));
        const group: Group = {
          partitionCounts: new Map([['t', partitions]]),
          members: ids.map((id, i) => member(id, ['t'], owned[i]!.length > 0 ? { t: owned[i]! } : {}, 1)),
        };
        const { rounds, result } = converge(group, 2);
        expect(rounds).to.be.at.most(2);

        let moved = 0;
        owners.forEach((owner, p) => {
          if (owner >= 0 && !keysOf(result.get(ids[owner]!)!.partitions).includes(`t/${p}`)) moved++;
        });
        // The fewest moves: the members owning most keep the larger shares.
        const base = Math.floor(partitions / memberCount);
        const extra = partitions % memberCount;
        const ownedCounts = owned.map((list) => list.length).sort((a, b) => b - a);
        const kept = ownedCounts.reduce((sum, count, i) => sum + Math.min(count, base + (i < extra ? 1 : 0)), 0);
        expect(moved).to.equal(owners.filter((owner) => owner >= 0).length - kept);
      }),
      { numRuns: 300 },
    );
  });
});
