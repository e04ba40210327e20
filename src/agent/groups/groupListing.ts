/**
 * ListGroups and DescribeGroup: what the metadata store holds of consumer
 * groups, for operators (the CLI). A group known only by committed offsets
 * is listed as empty, with no members.
 */
import type { GroupRecord, MetadataStore } from '../../metadata/metadataStore.js';
import type { DescribeGroupResponse, ListGroupsResponse } from '../../protocol/generated/streamhouse.js';

export async function listGroups(store: MetadataStore): Promise<ListGroupsResponse> {
  const ids = await store.listGroups();
  const records = await Promise.all(ids.map((id) => store.getGroup(id)));
  return {
    groups: ids.map((groupId, i) => ({
      groupId,
      state: records[i]?.state ?? 'empty',
      members: records[i]?.members.length ?? 0,
    })),
  };
}

export async function describeGroup(store: MetadataStore, groupId: string): Promise<DescribeGroupResponse> {
  const record: GroupRecord | undefined = await store.getGroup(groupId);
  return {
    groupId,
    state: record?.state ?? 'empty',
    generation: record?.generation ?? 0,
    protocolName: record?.protocolName ?? '',
    leaderId: record?.leaderId ?? '',
    members: (record?.members ?? []).map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      assignment: Buffer.from(m.assignment),
      lastHeartbeatMs: m.lastHeartbeat,
    })),
  };
}
