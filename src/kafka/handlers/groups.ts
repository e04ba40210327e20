/**
 * Consumer groups over Kafka: every call goes to the agent's own group
 * coordinator, so Kafka members and our RxJS members share groups and
 * committed offsets. Any agent coordinates any group: FindCoordinator names
 * the agent asked.
 */
import {
  CommitOffsetsResponse as ProtoCommitOffsetsResponse,
  FetchOffsetsResponse as ProtoFetchOffsetsResponse,
  JoinGroupResponse as ProtoJoinGroupResponse,
  SyncGroupResponse as ProtoSyncGroupResponse,
} from '../../protocol/generated/streamhouse.js';
import type { GroupState } from '../../metadata/metadataStore.js';
import type { FindCoordinatorRequest } from '../generated/findCoordinatorRequest.js';
import type { FindCoordinatorResponseInit } from '../generated/findCoordinatorResponse.js';
import type { JoinGroupRequest } from '../generated/joinGroupRequest.js';
import type { JoinGroupResponseInit } from '../generated/joinGroupResponse.js';
import type { SyncGroupRequest } from '../generated/syncGroupRequest.js';
import type { SyncGroupResponseInit } from '../generated/syncGroupResponse.js';
import type { HeartbeatRequest } from '../generated/heartbeatRequest.js';
import type { HeartbeatResponseInit } from '../generated/heartbeatResponse.js';
import type { LeaveGroupRequest } from '../generated/leaveGroupRequest.js';
import type { LeaveGroupResponseInit } from '../generated/leaveGroupResponse.js';
import type { OffsetCommitRequest } from '../generated/offsetCommitRequest.js';
import type { OffsetCommitResponseInit } from '../generated/offsetCommitResponse.js';
import type { OffsetFetchRequest } from '../generated/offsetFetchRequest.js';
import type { OffsetFetchResponseInit, OffsetFetchResponseTopicInit } from '../generated/offsetFetchResponse.js';
import type { ListGroupsRequest } from '../generated/listGroupsRequest.js';
import type { ListGroupsResponseInit } from '../generated/listGroupsResponse.js';
import type { DescribeGroupsRequest } from '../generated/describeGroupsRequest.js';
import type {
  DescribeGroupsResponseInit,
  DescribeGroupsResponseDescribedGroupInit,
} from '../generated/describeGroupsResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { KafkaErrorCode, errorMessage, kafkaErrorCode, kafkaErrorCodeOfInfo } from '../kafkaErrors.js';
import { brokerView } from '../brokers.js';
import { byTopic, callContext } from './callService.js';

const CONSUMER_PROTOCOL = 'consumer';

export async function handleFindCoordinator(
  ctx: KafkaContext,
  request: FindCoordinatorRequest,
  info: RequestInfo,
): Promise<FindCoordinatorResponseInit> {
  const { self } = await brokerView(ctx);
  const coordinator = { nodeId: self.nodeId, host: self.host, port: self.port };
  // As Kafka: finding a group's coordinator needs describe on the group (key type 0).
  const outcome = (key: string) => {
    const denied = request.keyType === 0 ? ctx.authorizer?.groupError(info.principal, 'describe', key) : undefined;
    return denied === undefined
      ? { errorCode: 0, errorMessage: null, ...coordinator }
      : { errorCode: kafkaErrorCode(denied), errorMessage: denied.message, nodeId: -1, host: '', port: -1 };
  };
  if (info.version < 4) return outcome(request.key);
  return { coordinators: request.coordinatorKeys.map((key) => ({ key, ...outcome(key) })) };
}

export async function handleJoinGroup(
  ctx: KafkaContext,
  request: JoinGroupRequest,
  info: RequestInfo,
): Promise<JoinGroupResponseInit> {
  const base = { protocolType: request.protocolType, memberId: request.memberId, generationId: -1, leader: '' };
  try {
    const response = ProtoJoinGroupResponse.fromPartial(
      await ctx.service.joinGroup(
        {
          groupId: request.groupId,
          memberId: request.memberId,
          clientId: info.clientId ?? '',
          sessionTimeoutMs: Math.max(0, request.sessionTimeoutMs),
          rebalanceTimeoutMs: Math.max(
            0,
            request.rebalanceTimeoutMs >= 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
          ),
          protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        },
        callContext(info.signal, info.principal),
      ),
    );
    return {
      errorCode: 0,
      generationId: response.generationId,
      protocolType: request.protocolType,
      protocolName: response.protocolName,
      leader: response.leaderId,
      memberId: response.memberId,
      members: response.members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, metadata: m.metadata })),
    };
  } catch (error) {
    // protocol name is nullable from v7 only: before it, a null would be written as a string of length -1
    return { ...base, errorCode: kafkaErrorCode(error, 'group'), protocolName: info.version >= 7 ? null : '' };
  }
}

export async function handleSyncGroup(
  ctx: KafkaContext,
  request: SyncGroupRequest,
  info: RequestInfo,
): Promise<SyncGroupResponseInit> {
  const echo = { protocolType: request.protocolType, protocolName: request.protocolName };
  try {
    const response = ProtoSyncGroupResponse.fromPartial(
      await ctx.service.syncGroup(
        {
          groupId: request.groupId,
          generationId: request.generationId,
          memberId: request.memberId,
          assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
        },
        callContext(info.signal, info.principal),
      ),
    );
    return { ...echo, errorCode: 0, assignment: response.assignment };
  } catch (error) {
    return { ...echo, errorCode: kafkaErrorCode(error, 'group') };
  }
}

export async function handleHeartbeat(
  ctx: KafkaContext,
  request: HeartbeatRequest,
  info: RequestInfo,
): Promise<HeartbeatResponseInit> {
  try {
    await ctx.service.heartbeat(
      { groupId: request.groupId, generationId: request.generationId, memberId: request.memberId },
      callContext(info.signal, info.principal),
    );
    return { errorCode: 0 };
  } catch (error) {
    return { errorCode: kafkaErrorCode(error, 'group') };
  }
}

export async function handleLeaveGroup(
  ctx: KafkaContext,
  request: LeaveGroupRequest,
  info: RequestInfo,
): Promise<LeaveGroupResponseInit> {
  const leave = async (memberId: string): Promise<number> => {
    try {
      await ctx.service.leaveGroup({ groupId: request.groupId, memberId }, callContext(info.signal, info.principal));
      return 0;
    } catch (error) {
      return kafkaErrorCode(error, 'group');
    }
  };
  if (info.version < 3) return { errorCode: await leave(request.memberId) };
  const members = [];
  for (const m of request.members)
    members.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: await leave(m.memberId) });
  return { errorCode: 0, members };
}

export async function handleOffsetCommit(
  ctx: KafkaContext,
  request: OffsetCommitRequest,
  info: RequestInfo,
): Promise<OffsetCommitResponseInit> {
  const partitions = request.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionIndex,
      offset: p.committedOffset,
      metadata: p.committedMetadata ?? '',
    })),
  );
  // A negative partition or offset is refused on its own; the others are committed.
  const codes: number[] = partitions.map((p) =>
    p.partition < 0
      ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      : p.offset < 0
        ? KafkaErrorCode.INVALID_REQUEST
        : KafkaErrorCode.NONE,
  );
  const valid = partitions.flatMap((p, index) => (codes[index] === KafkaErrorCode.NONE ? [{ p, index }] : []));
  if (valid.length > 0) {
    try {
      const response = ProtoCommitOffsetsResponse.fromPartial(
        await ctx.service.commitOffsets(
          {
            groupId: request.groupId,
            generationId: request.generationIdOrMemberEpoch,
            memberId: request.memberId,
            partitions: valid.map(({ p }) => p),
          },
          callContext(info.signal, info.principal),
        ),
      );
      for (const [i, { index }] of valid.entries()) codes[index] = kafkaErrorCodeOfInfo(response.results[i]?.error);
    } catch (error) {
      for (const { index } of valid) codes[index] = kafkaErrorCode(error, 'group');
    }
  }
  let i = 0;
  return {
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes[i++]! })),
    })),
  };
}

/** The committed offsets of one group, as OffsetFetch topics; `topics` null asks for all. */
async function fetchGroup(
  ctx: KafkaContext,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
  signal: AbortSignal,
  principal: string | undefined,
): Promise<{ topics: OffsetFetchResponseTopicInit[]; errorCode: number }> {
  const asked = (topics ?? []).flatMap((t) =>
    t.partitionIndexes.filter((p) => p >= 0).map((partition) => ({ topic: t.name, partition })),
  );
  if (topics !== null && asked.length === 0)
    return { topics: topics.map((t) => ({ name: t.name, partitions: [] })), errorCode: 0 };
  try {
    const response = ProtoFetchOffsetsResponse.fromPartial(
      await ctx.service.fetchOffsets({ groupId, partitions: asked }, callContext(signal, principal)),
    );
    const grouped = byTopic(response.offsets);
    return {
      errorCode: 0,
      topics: [...grouped].map(([name, offsets]) => ({
        name,
        partitions: offsets.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: -1,
          metadata: o.offset < 0 ? '' : o.metadata,
          errorCode: 0,
        })),
      })),
    };
  } catch (error) {
    return { topics: [], errorCode: kafkaErrorCode(error, 'group') };
  }
}

export async function handleOffsetFetch(
  ctx: KafkaContext,
  request: OffsetFetchRequest,
  info: RequestInfo,
): Promise<OffsetFetchResponseInit> {
  if (info.version >= 8) {
    const groups = [];
    for (const g of request.groups) {
      const { topics, errorCode } = await fetchGroup(ctx, g.groupId, g.topics, info.signal, info.principal);
      groups.push({ groupId: g.groupId, topics, errorCode });
    }
    return { groups };
  }
  const { topics, errorCode } = await fetchGroup(
    ctx,
    request.groupId,
    info.version < 2 ? (request.topics ?? []) : request.topics,
    info.signal,
    info.principal,
  );
  return { topics, errorCode };
}

const KAFKA_GROUP_STATE: Record<GroupState, string> = {
  empty: 'Empty',
  'preparing-rebalance': 'PreparingRebalance',
  'completing-rebalance': 'CompletingRebalance',
  stable: 'Stable',
};

export async function handleListGroups(
  ctx: KafkaContext,
  request: ListGroupsRequest,
  info: RequestInfo,
): Promise<ListGroupsResponseInit> {
  try {
    // Reads the store itself: lists only the groups the principal may describe, as the service does.
    const ids = (await ctx.metadataStore.listGroups()).filter(
      (id) => ctx.authorizer?.mayGroup(info.principal, 'describe', id) ?? true,
    );
    const groups = await Promise.all(
      ids.map(async (groupId) => ({ groupId, record: await ctx.metadataStore.getGroup(groupId) })),
    );
    const states = new Set(request.statesFilter.map((s) => s.toLowerCase()));
    return {
      errorCode: 0,
      groups: groups
        .map(({ groupId, record }) => ({
          groupId,
          protocolType: CONSUMER_PROTOCOL,
          groupState: KAFKA_GROUP_STATE[record?.state ?? 'empty'],
          groupType: 'classic',
        }))
        .filter((g) => states.size === 0 || states.has(g.groupState.toLowerCase())),
    };
  } catch (error) {
    return { errorCode: kafkaErrorCode(error, 'group'), groups: [] };
  }
}

export async function handleDescribeGroups(
  ctx: KafkaContext,
  request: DescribeGroupsRequest,
  info: RequestInfo,
): Promise<DescribeGroupsResponseInit> {
  const groups = await Promise.all(
    request.groups.map(async (groupId): Promise<DescribeGroupsResponseDescribedGroupInit> => {
      try {
        const denied = ctx.authorizer?.groupError(info.principal, 'describe', groupId);
        if (denied !== undefined) throw denied;
        const record = await ctx.metadataStore.getGroup(groupId);
        if (record === undefined)
          return { groupId, errorCode: 0, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
        return {
          groupId,
          errorCode: 0,
          groupState: KAFKA_GROUP_STATE[record.state],
          protocolType: CONSUMER_PROTOCOL,
          protocolData: record.protocolName,
          members: record.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: null,
            clientId: m.clientId,
            clientHost: '',
            memberMetadata: Buffer.from(
              m.protocols.find((p) => p.name === record.protocolName)?.metadata ?? new Uint8Array(0),
            ),
            memberAssignment: Buffer.from(m.assignment),
          })),
        };
      } catch (error) {
        ctx.logger?.debug({ err: errorMessage(error), groupId }, 'describe group failed');
        return {
          groupId,
          errorCode: kafkaErrorCode(error, 'group'),
          groupState: '',
          protocolType: '',
          protocolData: '',
          members: [],
        };
      }
    }),
  );
  return { groups };
}
