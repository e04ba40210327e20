/**
 * The agent side of consumer groups: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, CommitOffsets and FetchOffsets, taking and returning the
 * generated proto messages so a gRPC handler passes them straight through.
 *
 * Agents are stateless: a group lives only in the MetadataStore, and every
 * change is a compare-and-set on its record (see groups/groupUpdate.ts), so
 * any number of agents may serve the same group at once and any agent may
 * answer any call. A call that must wait for other members (JoinGroup until
 * the round completes, a follower's SyncGroup until the leader has synced)
 * long-polls the record every `pollIntervalMs`, and each poll also applies
 * session expiry and completes a due round, so progress never depends on a
 * background timer; `expireMembers()` exists for a loop that also covers
 * groups nobody is calling. The rules themselves are in groups/groupRules.ts.
 *
 * Errors: whole-request failures are thrown as typed StreamHouse errors
 * (InvalidRequestError, InvalidSessionTimeoutError,
 * InconsistentGroupProtocolError, UnknownMemberIdError,
 * IllegalGenerationError, RebalanceInProgressError, LimitExceededError); a waiting call whose
 * signal aborts rejects with the signal's reason (an AbortError).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { GroupRecord } from '../../metadata/metadataStore.js';
import { validateGroupId } from '../../metadata/validation.js';
import {
  InconsistentGroupProtocolError,
  InvalidSessionTimeoutError,
  StreamHouseError,
  UnknownMemberIdError,
} from '../../protocol/errors.js';
import type {
  CommitOffsetsRequest,
  CommitOffsetsResponse,
  FetchOffsetsRequest,
  FetchOffsetsResponse,
  GroupMember,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../protocol/generated/streamhouse.js';
import {
  resolveGroupCoordinatorOptions,
  type GroupCoordinatorOptions,
  type ResolvedGroupCoordinatorOptions,
} from './groupCoordinatorOptions.js';
import { commitGroupOffsets, fetchGroupOffsets } from './groupOffsets.js';
import { checkAssignmentSizes, checkJoinSize } from './groupLimits.js';
import {
  applyHeartbeat,
  applyJoin,
  applyLeave,
  applySync,
  findMember,
  followerSyncStatus,
  type GroupStep,
  type JoinIntent,
} from './groupRules.js';
import { updateGroup, type GroupUpdate, type GroupUpdateContext } from './groupUpdate.js';

export type { GroupCoordinatorOptions } from './groupCoordinatorOptions.js';

/** A successful update: the step's value is there. */
type Applied<T> = Omit<GroupUpdate<T>, 'value' | 'error'> & { value: T };

export class GroupCoordinator {
  private readonly options: ResolvedGroupCoordinatorOptions;
  private readonly context: GroupUpdateContext;
  private readonly logger: Logger | undefined;

  constructor(options: GroupCoordinatorOptions) {
    this.options = resolveGroupCoordinatorOptions(options);
    const { store, clock, initialRebalanceDelayMs } = this.options;
    this.context = { store, clock, rules: { initialRebalanceDelayMs } };
    this.logger = this.options.logger?.child({ component: 'group-coordinator' });
  }

  /**
   * Joins (or rejoins) a group and waits until the join round completes:
   * when every member has rejoined, or the longest rebalance timeout has
   * passed since the round began (members that did not rejoin are dropped).
   * An empty `memberId` joins as a new member with id `<clientId>-<uuid>`.
   * A member of a stable group that joins again starts a round for everyone.
   * `rebalanceTimeoutMs` 0 means the session timeout.
   *
   * The answer carries the new generation, the protocol chosen (the first in
   * the leader's preference that every member supports), the leader, the
   * member's id and, for the leader only, every member with its metadata for
   * that protocol.
   *
   * Throws InvalidRequestError (group id), InvalidSessionTimeoutError,
   * InconsistentGroupProtocolError (no protocols, or none shared with the
   * current members), UnknownMemberIdError (a non-empty id the group does not
   * know, or the member was removed while waiting), LimitExceededError
   * (member metadata beyond maxMemberMetadataBytes), GroupMaxSizeReachedError
   * (a new member while the group has maxGroupMembers).
   */
  async join(request: JoinGroupRequest, signal?: AbortSignal): Promise<JoinGroupResponse> {
    const intent = this.joinIntent(request);
    const joined = await this.update(request.groupId, (group, now) =>
      applyJoin(group, intent, now, this.options.maxGroupMembers),
    );
    this.logger?.debug(
      { groupId: request.groupId, memberId: intent.memberId, isNew: intent.isNew },
      'member joined the round',
    );
    return this.waitFor(request.groupId, joined.group, signal, (group) => this.joinStatus(group, intent.memberId));
  }

  /**
   * Ends the join round for one member. The leader's call carries every
   * member's assignment; it is stored and the group becomes stable. A
   * follower's call waits until the leader's has arrived for this generation.
   * Each gets its own assignment bytes (empty when the leader gave it none).
   *
   * Throws UnknownMemberIdError, IllegalGenerationError (not the current
   * generation), RebalanceInProgressError (a new round began: rejoin),
   * LimitExceededError (an assignment beyond maxMemberMetadataBytes).
   */
  async sync(request: SyncGroupRequest, signal?: AbortSignal): Promise<SyncGroupResponse> {
    validateGroupId(request.groupId);
    checkAssignmentSizes(request, this.options.maxMemberMetadataBytes);
    const { groupId, memberId, generationId } = request;
    const synced = await this.update(groupId, (group, now) =>
      applySync(group, memberId, generationId, request.assignments, now),
    );
    if (synced.value !== 'wait-for-leader') return { assignment: toBuffer(synced.value.assignment) };
    const assignment = await this.waitFor(groupId, synced.group, signal, (group) =>
      followerSyncStatus(group, memberId, generationId),
    );
    return { assignment: toBuffer(assignment) };
  }

  /**
   * Keeps a member's session alive. Throws UnknownMemberIdError,
   * IllegalGenerationError, or RebalanceInProgressError while a join round is
   * being prepared (the heartbeat still counts; the member must rejoin).
   */
  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    validateGroupId(request.groupId);
    await this.update(request.groupId, (group, now) =>
      applyHeartbeat(group, request.memberId, request.generationId, now),
    );
    return {};
  }

  /**
   * Removes a member at its request; the others rebalance, or the group
   * becomes empty. Throws UnknownMemberIdError.
   */
  async leave(request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    validateGroupId(request.groupId);
    await this.update(request.groupId, (group, now) => applyLeave(group, request.memberId, now));
    this.logger?.debug({ groupId: request.groupId, memberId: request.memberId }, 'member left');
    return {};
  }

  /**
   * Commits offsets, one result per partition. With `generationId >= 0` the
   * commit is fenced by generation and membership (ILLEGAL_GENERATION,
   * UNKNOWN_MEMBER_ID per partition); -1 commits outside group management,
   * only while the group has no members (ILLEGAL_GENERATION otherwise).
   * Commits stay allowed while a round is being prepared, so members can
   * commit what they processed before rejoining.
   */
  commitOffsets(request: CommitOffsetsRequest): Promise<CommitOffsetsResponse> {
    return commitGroupOffsets(this.options.store, request, this.options.maxOffsetMetadataBytes);
  }

  /** Committed offsets, in request order; offset -1 where nothing is committed. */
  fetchOffsets(request: FetchOffsetsRequest): Promise<FetchOffsetsResponse> {
    return fetchGroupOffsets(this.options.store, request);
  }

  /**
   * Removes the members of every group whose session ran out (and a leader
   * that did not sync within its rebalance timeout), starting a rebalance for
   * the others, and completes join rounds whose timeout passed. Meant for a
   * periodic background loop; the group calls do the same for their own
   * group. Returns how many members were removed.
   */
  async expireMembers(): Promise<number> {
    let removed = 0;
    for (const groupId of await this.options.store.listGroups()) {
      const group = await this.options.store.getGroup(groupId);
      if (group === undefined || group.state === 'empty') continue;
      const update = await this.update(groupId, (current) => ({ group: current, value: undefined }));
      removed += update.expired.length;
    }
    return removed;
  }

  // ---- internals ----------------------------------------------------------

  private joinIntent(request: JoinGroupRequest): JoinIntent {
    validateGroupId(request.groupId);
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.options;
    const { sessionTimeoutMs } = request;
    if (sessionTimeoutMs < minSessionTimeoutMs || sessionTimeoutMs > maxSessionTimeoutMs) {
      throw new InvalidSessionTimeoutError(
        `session timeout ${sessionTimeoutMs} ms is outside ${minSessionTimeoutMs}..${maxSessionTimeoutMs} ms ` +
          `allowed by this agent`,
      );
    }
    if (request.protocols.length === 0) {
      throw new InconsistentGroupProtocolError(
        `join of group ${request.groupId} offers no protocol: offer at least one assignor`,
      );
    }
    checkJoinSize(request, this.options.maxMemberMetadataBytes);
    const isNew = request.memberId === '';
    return {
      groupId: request.groupId,
      memberId: isNew ? `${request.clientId || 'member'}-${randomUUID()}` : request.memberId,
      isNew,
      clientId: request.clientId,
      sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : sessionTimeoutMs,
      protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: protocol.metadata })),
    };
  }

  /** The join answer once the member's round completed, undefined while it runs. */
  private joinStatus(
    group: GroupRecord | undefined,
    memberId: string,
  ): JoinGroupResponse | StreamHouseError | undefined {
    const member = findMember(group, memberId);
    if (group === undefined || member === undefined) {
      return new UnknownMemberIdError(
        `member ${memberId} was removed from group ${group?.groupId ?? '(gone)'} while joining`,
      );
    }
    if (member.joinedGeneration > group.generation) return undefined;
    const isLeader = memberId === group.leaderId;
    const members: GroupMember[] = isLeader
      ? group.members.map((other) => ({
          memberId: other.memberId,
          clientId: other.clientId,
          metadata: toBuffer(other.protocols.find((protocol) => protocol.name === group.protocolName)?.metadata),
        }))
      : [];
    return {
      generationId: group.generation,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      memberId,
      members,
    };
  }

  /**
   * Long-polls the group until `status` gives an answer or an error. Each
   * poll goes through `update`, so it applies expiry and completes a due round.
   */
  private async waitFor<T>(
    groupId: string,
    first: GroupRecord | undefined,
    signal: AbortSignal | undefined,
    status: (group: GroupRecord | undefined) => T | StreamHouseError | undefined,
  ): Promise<T> {
    let group = first;
    for (;;) {
      const answer = status(group);
      if (answer instanceof StreamHouseError) throw answer;
      if (answer !== undefined) return answer;
      const { wait, pollIntervalMs } = this.options;
      if (wait !== undefined) await wait(pollIntervalMs, signal);
      else await sleep(pollIntervalMs, undefined, signal === undefined ? undefined : { signal });
      group = (await this.update(groupId, (current) => ({ group: current, value: undefined }))).group;
    }
  }

  /** updateGroup with this coordinator's store, clock and rules, logging what changed. */
  private async update<T>(
    groupId: string,
    step: (group: GroupRecord | undefined, now: number) => GroupStep<T>,
  ): Promise<Applied<T>> {
    const result = await updateGroup(this.context, groupId, step);
    this.logTransition(result.before, result.group, result.expired);
    if (result.error !== undefined) {
      this.logger?.debug({ groupId, code: result.error.code, reason: result.error.message }, 'group call refused');
      throw result.error;
    }
    return { ...result, value: result.value as T };
  }

  private logTransition(before: GroupRecord | undefined, after: GroupRecord | undefined, expired: string[]): void {
    if (this.logger === undefined || after === undefined) return;
    if (expired.length > 0) this.logger.info({ groupId: after.groupId, expired }, 'members expired');
    if (before?.state === after.state && before.generation === after.generation) return;
    this.logger.info(
      {
        groupId: after.groupId,
        state: after.state,
        generation: after.generation,
        leaderId: after.leaderId,
        protocol: after.protocolName,
        members: after.members.length,
      },
      'group state changed',
    );
  }
}

/** A Buffer view (no copy) of stored bytes, as the generated message types want. */
function toBuffer(bytes: Uint8Array | undefined): Buffer {
  if (bytes === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
