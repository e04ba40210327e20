/**
 * The stored form of a consumer group: JSON with every binary field (member
 * protocol metadata, assignments) in base64, so bytes round-trip exactly in
 * both backends. The version is stored beside it, not inside.
 */
import { MetadataError } from '../protocol/errors.js';
import type { GroupMemberRecord, GroupRecord, GroupState } from './metadataStore.js';

type StoredMember = {
  memberId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: string }[];
  assignment: string;
  lastHeartbeat: number;
  joinedGeneration: number;
};

type StoredGroup = {
  groupId: string;
  generation: number;
  state: GroupState;
  protocolName: string;
  leaderId: string;
  members: StoredMember[];
  stateChangedAt: number;
};

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function fromBase64(text: string): Uint8Array {
  // A plain Uint8Array (not a pooled Buffer view) so callers can keep it without surprises.
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** The JSON text stored for `group` (its `version` is left out). */
export function encodeGroup(group: GroupRecord): string {
  const stored: StoredGroup = {
    groupId: group.groupId,
    generation: group.generation,
    state: group.state,
    protocolName: group.protocolName,
    leaderId: group.leaderId,
    stateChangedAt: group.stateChangedAt,
    members: group.members.map(
      (member): StoredMember => ({
        memberId: member.memberId,
        clientId: member.clientId,
        sessionTimeoutMs: member.sessionTimeoutMs,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        protocols: member.protocols.map((p) => ({ name: p.name, metadata: toBase64(p.metadata) })),
        assignment: toBase64(member.assignment),
        lastHeartbeat: member.lastHeartbeat,
        joinedGeneration: member.joinedGeneration,
      }),
    ),
  };
  return JSON.stringify(stored);
}

/** The group stored as `json` with `version`. Throws MetadataError when the text is not a stored group. */
export function decodeGroup(json: string, version: number): GroupRecord {
  let stored: StoredGroup;
  try {
    stored = JSON.parse(json) as StoredGroup;
  } catch (cause) {
    throw new MetadataError('stored consumer group is not valid JSON', { cause });
  }
  return {
    groupId: stored.groupId,
    generation: stored.generation,
    state: stored.state,
    protocolName: stored.protocolName,
    leaderId: stored.leaderId,
    stateChangedAt: stored.stateChangedAt,
    version,
    members: stored.members.map(
      (member): GroupMemberRecord => ({
        memberId: member.memberId,
        clientId: member.clientId,
        sessionTimeoutMs: member.sessionTimeoutMs,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        protocols: member.protocols.map((p) => ({ name: p.name, metadata: fromBase64(p.metadata) })),
        assignment: fromBase64(member.assignment),
        lastHeartbeat: member.lastHeartbeat,
        joinedGeneration: member.joinedGeneration,
      }),
    ),
  };
}

/** The member ids of a group, in a form the stores keep beside the record for fencing checks. */
export function memberIdsOf(group: GroupRecord): string[] {
  return group.members.map((member) => member.memberId);
}
