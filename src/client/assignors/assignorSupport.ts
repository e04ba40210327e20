/**
 * Helpers shared by the assignors: member ordering, the topics worth
 * assigning, and turning per-member partition lists into {@link Assignment}s.
 *
 * @internal
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { Assignment, GroupMemberMetadata } from './types.js';

/** Assignments written by the built-in assignors use this version. */
const ASSIGNMENT_VERSION = 1;

/** Code-unit order, the same on every member whatever its locale. @internal */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Members sorted by id; a duplicate id is a coordinator bug. @internal */
export function sortMembers(members: readonly GroupMemberMetadata[]): GroupMemberMetadata[] {
  const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1]!.memberId === sorted[i]!.memberId) {
      throw new InvalidRequestError(`member ${sorted[i]!.memberId} appears twice`);
    }
  }
  return sorted;
}

/** Partition count of a topic, 0 when the cluster does not know it. @internal */
export function partitionCountOf(partitionCounts: ReadonlyMap<string, number>, topic: string): number {
  const count = partitionCounts.get(topic) ?? 0;
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidRequestError(`partition count of ${topic} must be a non-negative integer, got ${count}`, {
      context: { topic },
    });
  }
  return count;
}

/** Every topic some member subscribes to and the cluster has partitions for, sorted. @internal */
export function subscribedTopics(
  members: readonly GroupMemberMetadata[],
  partitionCounts: ReadonlyMap<string, number>,
): string[] {
  const topics = new Set<string>();
  for (const member of members) {
    for (const topic of member.metadata.topics) {
      if (partitionCountOf(partitionCounts, topic) > 0) topics.add(topic);
    }
  }
  return [...topics].sort(compareStrings);
}

/** Collects partitions per member, then builds normalised assignments. @internal */
export class AssignmentBuilder {
  private readonly byMember = new Map<string, Map<string, number[]>>();

  /** Every member gets an entry, even if it ends up with nothing. */
  constructor(memberIds: readonly string[]) {
    for (const memberId of memberIds) this.byMember.set(memberId, new Map());
  }

  add(memberId: string, topic: string, partition: number): void {
    const topics = this.byMember.get(memberId);
    if (topics === undefined) throw new InvalidRequestError(`unknown member ${memberId}`);
    const partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, [partition]);
    else partitions.push(partition);
  }

  /** Assignments with topics and partitions ascending. */
  build(): Map<string, Assignment> {
    const result = new Map<string, Assignment>();
    for (const [memberId, topics] of this.byMember) {
      const partitions = [...topics.keys()].sort(compareStrings).map((topic) => ({
        topic,
        partitions: [...topics.get(topic)!].sort((a, b) => a - b),
      }));
      result.set(memberId, { version: ASSIGNMENT_VERSION, partitions });
    }
    return result;
  }
}
