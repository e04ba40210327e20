/**
 * The consumer-group steps of the SQLite store, each meant to run inside one
 * transaction opened by the store (so a thrown error rolls everything back).
 * @internal
 */
import { encodeGroup, memberIdsOf } from '../groupCodec.js';
import type { CommittedOffsetRecord, GroupRecord, OffsetCommit } from '../metadataStore.js';
import {
  groupNotEmptyError,
  illegalGenerationError,
  unknownMemberError,
  unknownPartitionError,
} from '../storeErrors.js';
import type { OffsetRow, Statements } from './statements.js';

/** Stores `group` when the stored version is `expectedVersion`; the stored record, or undefined on a mismatch. */
export function updateGroupStep(sql: Statements, group: GroupRecord, expectedVersion: number): GroupRecord | undefined {
  const stored = sql.getGroup.get(group.groupId);
  if ((stored?.version ?? 0) !== expectedVersion) return undefined;
  const version = expectedVersion + 1;
  const row = {
    group_id: group.groupId,
    version,
    generation: group.generation,
    member_ids: JSON.stringify(memberIdsOf(group)),
    record: encodeGroup(group),
  };
  if (stored === undefined) sql.insertGroup.run(row);
  else sql.updateGroup.run({ ...row, expected: expectedVersion });
  return { ...group, version };
}

/**
 * Checks the fence (generation >= 0; generation -1 only while the group has
 * no members) and every partition, then writes the offsets with `now` as commit time.
 */
export function commitOffsetsStep(
  sql: Statements,
  groupId: string,
  generation: number,
  memberId: string,
  offsets: OffsetCommit[],
  now: number,
): void {
  const group = sql.getGroup.get(groupId);
  const members = group === undefined ? [] : (JSON.parse(group.member_ids) as string[]);
  if (generation >= 0) {
    if (group === undefined || group.generation !== generation)
      throw illegalGenerationError(groupId, generation, group?.generation);
    if (!members.includes(memberId)) throw unknownMemberError(groupId, memberId, generation);
  } else if (members.length > 0) {
    throw groupNotEmptyError(groupId, members.length);
  }
  for (const commit of offsets) {
    const topic = sql.getTopic.get(commit.topic);
    if (topic === undefined || commit.partition >= topic.partitions) {
      throw unknownPartitionError(commit.topic, commit.partition, topic?.partitions);
    }
    sql.upsertOffset.run({
      group_id: groupId,
      topic: commit.topic,
      partition: commit.partition,
      committed_offset: commit.offset,
      metadata: commit.metadata,
      commit_time: now,
    });
  }
}

/** The group's committed offsets: those asked for, in order, or all by topic and partition. */
export function fetchOffsetsStep(
  sql: Statements,
  groupId: string,
  partitions: { topic: string; partition: number }[] | undefined,
): CommittedOffsetRecord[] {
  const rows: OffsetRow[] =
    partitions === undefined
      ? sql.groupOffsets.all(groupId)
      : partitions.flatMap(({ topic, partition }) => sql.getOffset.get({ groupId, topic, partition }) ?? []);
  return rows.map((row) => ({
    topic: row.topic,
    partition: row.partition,
    offset: row.committed_offset,
    metadata: row.metadata,
    commitTime: row.commit_time,
  }));
}
