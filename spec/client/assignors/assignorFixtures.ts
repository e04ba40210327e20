/** Helpers shared by the assignor specs. */
import { expect } from 'chai';
import type {
  Assignment,
  GroupMemberMetadata,
  MemberMetadata,
  TopicPartitions,
} from '../../../src/client/assignors/index.js';

/** A member with its subscription, owned partitions ({ topic: partitions }) and generation. */
export function member(
  memberId: string,
  topics: string[],
  owned: Record<string, number[]> = {},
  generation?: number,
): GroupMemberMetadata {
  const metadata: MemberMetadata = { version: 1, topics, ownedPartitions: toTopicPartitions(owned) };
  if (generation !== undefined) metadata.generation = generation;
  return { memberId, metadata };
}

export function toTopicPartitions(owned: Record<string, number[]>): TopicPartitions[] {
  return Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions }));
}

/** Assignments as `{ memberId: { topic: partitions } }`, easy to compare exactly. */
export function summarize(assignments: Map<string, Assignment>): Record<string, Record<string, number[]>> {
  const result: Record<string, Record<string, number[]>> = {};
  for (const [memberId, assignment] of assignments) {
    expect(assignment.version).to.equal(1);
    result[memberId] = Object.fromEntries(assignment.partitions.map(({ topic, partitions }) => [topic, partitions]));
  }
  return result;
}

/** Topic-partition keys `topic/partition` of an assignment. */
export function keysOf(partitions: readonly TopicPartitions[]): string[] {
  return partitions.flatMap(({ topic, partitions: list }) => list.map((partition) => `${topic}/${partition}`));
}

export function counts(entries: [string, number][]): Map<string, number> {
  return new Map(entries);
}
