/**
 * The console's consumer groups: the list, one group's members with their
 * assignments and its committed offsets with lag (the CLI's `groups
 * describe`), and resetting an empty group's offsets (`groups reset-offsets`).
 */
import type { StreamHouseClient } from '../../client/agentClient.js';
import { decodeAssignment } from '../../client/assignors/memberCodec.js';
import { offsetsWithLag, resetOffsets, type OffsetLag, type ResetTarget } from '../../cli/groups.js';
import { InvalidRequestError } from '../../protocol/errors.js';
import type { ListGroupsResponse } from '../../protocol/generated/streamhouse.js';
import { integerField, objectBody } from './apiInput.js';

export type GroupDetail = {
  groupId: string;
  state: string;
  generation: number;
  protocolName: string;
  leaderId: string;
  members: {
    memberId: string;
    clientId: string;
    lastHeartbeatMs: number;
    /** Topic partitions assigned at the last sync; null when the assignment is not in the consumer format. */
    assignment: { topic: string; partitions: number[] }[] | null;
  }[];
  offsets: Omit<OffsetLag, 'metadata'>[];
  totalLag: number;
};

export async function listGroups(client: StreamHouseClient): Promise<ListGroupsResponse> {
  return client.listGroups({});
}

function assignmentOf(bytes: Uint8Array): GroupDetail['members'][number]['assignment'] {
  if (bytes.length === 0) return [];
  try {
    return decodeAssignment(bytes).partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }));
  } catch {
    return null;
  }
}

export async function groupDetail(client: StreamHouseClient, groupId: string): Promise<GroupDetail> {
  const [group, offsets] = await Promise.all([client.describeGroup({ groupId }), offsetsWithLag(client, groupId)]);
  return {
    groupId: group.groupId,
    state: group.state,
    generation: group.generation,
    protocolName: group.protocolName,
    leaderId: group.leaderId,
    members: group.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      lastHeartbeatMs: m.lastHeartbeatMs,
      assignment: assignmentOf(m.assignment),
    })),
    offsets: offsets.map(({ metadata: _, ...rest }) => rest),
    totalLag: offsets.reduce((sum, o) => sum + o.lag, 0),
  };
}

const TARGETS = ['earliest', 'latest', 'offset', 'timestamp'] as const;

/**
 * Body `{to: earliest|latest|offset|timestamp, offset?, timestampMs?, topic?, partition?}`; refused
 * (ILLEGAL_GENERATION, 409) while the group has members. Answers each partition's offset before and after.
 */
export async function resetGroupOffsets(client: StreamHouseClient, groupId: string, body: unknown) {
  const fields = objectBody(body, ['to', 'offset', 'timestampMs', 'topic', 'partition']);
  const to = fields['to'];
  if (typeof to !== 'string' || !(TARGETS as readonly string[]).includes(to)) {
    throw new InvalidRequestError(`to must be one of ${TARGETS.join(', ')}`);
  }
  const offset = integerField(fields, 'offset', 0);
  const timestampMs = integerField(fields, 'timestampMs', 0);
  if ((to === 'offset') !== (offset !== undefined)) throw new InvalidRequestError('offset goes with to: offset');
  if ((to === 'timestamp') !== (timestampMs !== undefined)) {
    throw new InvalidRequestError('timestampMs goes with to: timestamp');
  }
  const topic = fields['topic'];
  if (topic !== undefined && typeof topic !== 'string') throw new InvalidRequestError('topic must be a string');
  const partition = integerField(fields, 'partition', 0);
  const target: ResetTarget = {
    ...(topic === undefined ? {} : { topic }),
    ...(partition === undefined ? {} : { partition }),
    ...(to === 'earliest' ? { toEarliest: true } : {}),
    ...(to === 'latest' ? { toLatest: true } : {}),
    ...(offset === undefined ? {} : { toOffset: offset }),
    ...(timestampMs === undefined ? {} : { toTimestamp: timestampMs }),
  };
  return { groupId, offsets: await resetOffsets(client, groupId, target) };
}
