/**
 * Size limits on what group calls store: a member's metadata (client id,
 * protocol names and metadata, kept in the group record that every
 * heartbeat rewrites), each assignment the leader hands out, and the
 * metadata string of an offset commit (Kafka's `offset.metadata.max.bytes`).
 */
import { LimitExceededError, OffsetMetadataTooLargeError, type ErrorContext } from '../../protocol/errors.js';
import type { JoinGroupRequest, SyncGroupRequest } from '../../protocol/generated/streamhouse.js';

/** Default largest member metadata, and largest assignment, bytes: 1 MiB. */
export const DEFAULT_MAX_MEMBER_METADATA_BYTES = 1024 * 1024;
/**
 * Default most members one consumer group may have: 1000. Every heartbeat, join and sync rewrites the whole group
 * record (every member with its metadata) and a leader's assignment covers every member, so a group of
 * tens of thousands of members would keep one agent on a small machine busy with a single group; real groups are a
 * few up to some hundreds (one per partition is the useful most).
 */
export const DEFAULT_MAX_GROUP_MEMBERS = 1000;
/** Default largest offset-commit metadata, UTF-8 bytes: 4 KiB, as Kafka's `offset.metadata.max.bytes`. */
export const DEFAULT_MAX_OFFSET_METADATA_BYTES = 4096;

/** Throws LimitExceededError when a join's client id and protocols take more than `max` bytes. */
export function checkJoinSize(request: JoinGroupRequest, max: number): void {
  let bytes = Buffer.byteLength(request.clientId);
  for (const protocol of request.protocols) bytes += Buffer.byteLength(protocol.name) + protocol.metadata.length;
  if (bytes > max) {
    throw new LimitExceededError(
      `join of group ${request.groupId} carries ${bytes} bytes of member metadata ` +
        `(client id, protocol names and metadata); ` +
        `this agent accepts at most ${max} (--max-group-member-metadata-bytes)`,
    );
  }
}

/** Throws LimitExceededError when one of a leader's assignments is larger than `max` bytes. */
export function checkAssignmentSizes(request: SyncGroupRequest, max: number): void {
  for (const { memberId, assignment } of request.assignments) {
    if (assignment.length > max) {
      throw new LimitExceededError(
        `assignment of member ${memberId} in group ${request.groupId} is ${assignment.length} bytes; ` +
          `this agent accepts at most ${max} (--max-group-member-metadata-bytes)`,
      );
    }
  }
}

/** The error for offset-commit metadata longer than `max` UTF-8 bytes, else undefined. */
export function offsetMetadataProblem(
  metadata: string,
  max: number,
  context: ErrorContext,
): OffsetMetadataTooLargeError | undefined {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: short strings need no count.
  if (metadata.length * 3 <= max) return undefined;
  const bytes = Buffer.byteLength(metadata);
  if (bytes <= max) return undefined;
  return new OffsetMetadataTooLargeError(
    `offset metadata of ${context.topic}/${context.partition} is ${bytes} bytes; ` +
      `this agent accepts at most ${max} (--max-offset-metadata-bytes)`,
    { context },
  );
}
