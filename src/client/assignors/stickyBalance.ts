/**
 * The balancing core of the sticky assignor, over plain indices so it can be
 * reasoned about (and tested) without topics and member ids.
 *
 * Start from the current owners, give every unowned partition to its least
 * loaded eligible member, then move partitions one at a time from the most
 * loaded member to an eligible member holding at least two fewer, until no
 * such move exists. The result satisfies: for every partition held by X and
 * every member Y eligible for it, `count(X) <= count(Y) + 1`; so members with
 * the same subscriptions end within one partition of each other.
 *
 * Why it ends: each move lowers the sum of squared counts by at least 2.
 * Why it moves little: a member that receives is never a source afterwards
 * (the minimum count never drops), so only members above their final share
 * give partitions away; with identical subscriptions the members owning most
 * keep the larger shares, which is the least number of moves possible.
 *
 * @internal
 */

/** Input of {@link balanceSticky}. @internal */
export type StickyProblem = {
  /** Number of members; members are 0..memberCount-1, in the order used to break ties. */
  memberCount: number;
  /** Per partition (0..n-1, in the order used to break ties): members allowed to hold it, ascending. */
  eligible: readonly (readonly number[])[];
  /** Per partition: the member keeping it if balance allows, or -1 when nobody owns it. Must be eligible. */
  owner: readonly number[];
};

/** The target holder of every partition (-1 only when no member is eligible). @internal */
export function balanceSticky(problem: StickyProblem): number[] {
  const { memberCount, eligible, owner } = problem;
  const target = owner.slice();
  const held: Set<number>[] = Array.from({ length: memberCount }, () => new Set<number>());
  target.forEach((member, partition) => {
    if (member >= 0) held[member]!.add(partition);
  });

  // Partitions with fewer candidates first, so flexible ones fill the gaps.
  const unowned = target
    .map((member, partition) => (member < 0 && eligible[partition]!.length > 0 ? partition : -1))
    .filter((partition) => partition >= 0)
    .sort((a, b) => eligible[a]!.length - eligible[b]!.length || a - b);
  for (const partition of unowned) {
    const member = leastLoaded(eligible[partition]!, held);
    target[partition] = member;
    held[member]!.add(partition);
  }

  while (moveOne(problem, target, held)) {
    // each call moves one partition; see the invariant in the file comment
  }
  return target;
}

/** Performs one balancing move; false when the assignment is balanced. */
function moveOne(problem: StickyProblem, target: number[], held: Set<number>[]): boolean {
  const byLoad = held.map((_, member) => member).sort((a, b) => held[b]!.size - held[a]!.size || a - b);
  const fewest = held[byLoad[byLoad.length - 1]!]!.size;
  for (const from of byLoad) {
    const load = held[from]!.size;
    // Nobody anywhere holds two fewer: no move from here or from lighter members.
    if (load - fewest < 2) return false;
    for (const partition of movableFirst(held[from]!, problem.owner, from)) {
      const to = leastLoaded(problem.eligible[partition]!, held);
      if (held[to]!.size <= load - 2) {
        held[from]!.delete(partition);
        held[to]!.add(partition);
        target[partition] = to;
        return true;
      }
    }
  }
  return false;
}

/**
 * A member's partitions in the order we would rather move them: ones it did
 * not own before this rebalance (moving them revokes nothing), then owned
 * ones; highest index first within each group.
 */
function movableFirst(partitions: Set<number>, owner: readonly number[], member: number): number[] {
  return [...partitions].sort((a, b) => {
    const aOwned = owner[a] === member ? 1 : 0;
    const bOwned = owner[b] === member ? 1 : 0;
    return aOwned - bOwned || b - a;
  });
}

/** The candidate holding the fewest partitions; the lowest index on ties. */
function leastLoaded(candidates: readonly number[], held: readonly Set<number>[]): number {
  let best = candidates[0]!;
  for (const candidate of candidates) {
    if (held[candidate]!.size < held[best]!.size) best = candidate;
  }
  return best;
}
