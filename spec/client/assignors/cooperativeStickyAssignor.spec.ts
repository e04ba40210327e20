import { expect } from 'chai';
import { cooperativeStickyAssignor, type GroupMemberMetadata } from '../../../src/client/assignors/index.js';
import { counts, member, summarize } from './assignorFixtures.js';

const assign = cooperativeStickyAssignor.assign.bind(cooperativeStickyAssignor);

/** The members again, each now owning what `previous` assigned it, one generation later. */
function nextRound(
  members: GroupMemberMetadata[],
  previous: Record<string, Record<string, number[]>>,
  generation: number,
): GroupMemberMetadata[] {
  return members.map(({ memberId, metadata }) =>
    member(memberId, metadata.topics, previous[memberId] ?? {}, generation),
  );
}

/** How many partitions changed holder between two summaries. */
function movedCount(
  before: Record<string, Record<string, number[]>>,
  after: Record<string, Record<string, number[]>>,
): number {
  const holder = new Map<string, string>();
  for (const [memberId, topics] of Object.entries(before)) {
    for (const [topic, partitions] of Object.entries(topics))
      for (const p of partitions) holder.set(`${topic}/${p}`, memberId);
  }
  let moved = 0;
  for (const [memberId, topics] of Object.entries(after)) {
    for (const [topic, partitions] of Object.entries(topics)) {
      for (const p of partitions) {
        const previous = holder.get(`${topic}/${p}`);
        if (previous !== undefined && previous !== memberId) moved++;
      }
    }
  }
  return moved;
}

describe('client/assignors/cooperativeStickyAssignor', () => {
  const nine = counts([['t', 9]]);
  const stable3 = { a: { t: [0, 3, 6] }, b: { t: [1, 4, 7] }, c: { t: [2, 5, 8] } };

  it('is named cooperative-sticky and cooperative', () => {
    expect(cooperativeStickyAssignor.name).to.equal('cooperative-sticky');
    expect(cooperativeStickyAssignor.rebalanceProtocol).to.equal('cooperative');
  });

  it('deals unowned partitions to the least loaded members in a fresh group', () => {
    const result = assign([member('c', ['t']), member('a', ['t']), member('b', ['t'])], nine);
    expect(summarize(result)).to.deep.equal(stable3);
  });

  it('keeps everything when the group is balanced already', () => {
    const members = [
      member('a', ['t'], stable3.a, 1),
      member('b', ['t'], stable3.b, 1),
      member('c', ['t'], stable3.c, 1),
    ];
    expect(summarize(assign(members, nine))).to.deep.equal(stable3);
  });

  it('moves exactly the minimum when a member joins, in two phases', () => {
    const members = [
      member('a', ['t'], stable3.a, 1),
      member('b', ['t'], stable3.b, 1),
      member('c', ['t'], stable3.c, 1),
      member('d', ['t']),
    ];
    // Target 3/2/2/2: the two partitions moving to d are revoked first, assigned to nobody.
    const first = summarize(assign(members, nine));
    expect(first).to.deep.equal({ a: { t: [0, 3] }, b: { t: [1, 4] }, c: { t: [2, 5, 8] }, d: {} });

    // a and b revoked 6 and 7 and rejoined: now nobody owns them, so d gets them.
    const second = summarize(assign(nextRound(members, first, 2), nine));
    expect(second).to.deep.equal({ a: { t: [0, 3] }, b: { t: [1, 4] }, c: { t: [2, 5, 8] }, d: { t: [6, 7] } });
    // 9 partitions over 4 members keep at most 3 + 2 + 2 of the old holders: 2 must move, and only 2 did.
    expect(movedCount(stable3, second)).to.equal(2);

    // Stable from here on.
    expect(summarize(assign(nextRound(members, second, 3), nine))).to.deep.equal(second);
  });

  it('redistributes only the partitions of a member that left', () => {
    const four = { a: { t: [0, 3] }, b: { t: [1, 4] }, c: { t: [2, 5, 8] }, d: { t: [6, 7] } };
    const remaining = [member('a', ['t'], four.a, 3), member('b', ['t'], four.b, 3), member('d', ['t'], four.d, 3)];
    const result = summarize(assign(remaining, nine));
    // c's 2, 5, 8 are unowned, so they are assigned at once, one to each.
    expect(result).to.deep.equal({ a: { t: [0, 2, 3] }, b: { t: [1, 4, 5] }, d: { t: [6, 7, 8] } });
    // Exactly c's three moved; a, b and d kept all of theirs.
    expect(movedCount(four, result)).to.equal(3);
    for (const id of ['a', 'b', 'd'] as const) expect(result[id]!.t).to.include.members(four[id].t);
  });

  it('hands partitions over through revocation when subscriptions change', () => {
    const topics = counts([
      ['x', 2],
      ['y', 2],
    ]);
    // a stops subscribing to y while owning y0.
    const members = [member('a', ['x'], { x: [0], y: [0] }, 4), member('b', ['x', 'y'], { x: [1], y: [1] }, 4)];
    const first = summarize(assign(members, topics));
    // Target a: x0 x1, b: y0 y1. y0 is still a's and x1 still b's: both wait.
    expect(first).to.deep.equal({ a: { x: [0] }, b: { y: [1] } });
    const second = summarize(assign(nextRound(members, first, 5), topics));
    expect(second).to.deep.equal({ a: { x: [0, 1] }, b: { y: [0, 1] } });
  });

  it('settles conflicting claims by generation, never assigning a partition twice', () => {
    const topics = counts([['t', 2]]);
    const zombie = member('a', ['t'], { t: [0, 1] }, 4);
    const current = member('b', ['t'], { t: [0] }, 5);
    const result = summarize(assign([zombie, current], topics));
    // b's newer claim keeps t0; a keeps t1 and, missing t0, revokes it.
    expect(result).to.deep.equal({ a: { t: [1] }, b: { t: [0] } });
  });

  it('settles claims from the same generation by member id', () => {
    const topics = counts([['t', 2]]);
    const result = summarize(assign([member('b', ['t'], { t: [0] }, 3), member('a', ['t'], { t: [0] }, 3)], topics));
    // a wins t0; t1 is unowned and goes to b at once.
    expect(result).to.deep.equal({ a: { t: [0] }, b: { t: [1] } });
  });

  it('ignores claims on partitions that no longer exist', () => {
    const result = summarize(
      assign([member('a', ['t'], { t: [0, 5], gone: [0] }, 1), member('b', ['t'])], counts([['t', 2]])),
    );
    expect(result).to.deep.equal({ a: { t: [0] }, b: { t: [1] } });
  });

  it('is deterministic whatever the order of members and owned partitions', () => {
    const topics = counts([
      ['x', 5],
      ['y', 4],
    ]);
    const members = [
      member('m1', ['x', 'y'], { x: [4, 0], y: [3] }, 2),
      member('m2', ['x'], { x: [1] }, 2),
      member('m3', ['y', 'x'], { y: [0, 1, 2] }, 2),
      member('m4', ['x', 'y']),
    ];
    const expected = summarize(assign(members, topics));
    const reordered = [members[2]!, members[0]!, members[3]!, members[1]!].map(({ memberId, metadata }) => ({
      memberId,
      metadata: { ...metadata, ownedPartitions: [...metadata.ownedPartitions].reverse() },
    }));
    expect(summarize(assign(reordered, topics))).to.deep.equal(expected);
  });
});
