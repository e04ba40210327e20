/**
 * ListGroups, DescribeGroup and DeleteGroup: consumer groups as the metadata
 * store holds them, for operators (the CLI). A group known only by committed
 * offsets is listed as empty, with no members; one with neither does not
 * exist (GROUP_ID_NOT_FOUND).
 */
import type { GroupRecord, MetadataStore } from '../../metadata/metadataStore.js';
import { unknownGroupError } from '../../metadata/storeErrors.js';
import { validateGroupId } from '../../metadata/validation.js';
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
  validateGroupId(groupId);
  const record: GroupRecord | undefined = await store.getGroup(groupId);
  if (record === undefined && (await store.fetchOffsets(groupId)).length === 0) throw unknownGroupError(groupId);
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

/** Deletes an empty group and its offsets (IllegalGenerationError while it has members). */
export async function deleteGroup(store: MetadataStore, groupId: string): Promise<void> {
  validateGroupId(groupId);
  await store.deleteGroup(groupId);
}
