/**
 * The consumer-group state machine (Kafka's classic protocol, simplified) as
 * pure functions from a GroupRecord and the current time to the next record.
 * They never mutate their input and return the very same object when nothing
 * changes, so a caller knows whether it has something to write.
 *
 * States and how a group moves between them:
 *
 * ```
 *  empty ──join──> preparing-rebalance ──every member rejoined, or rebalance
 *    ^                 ^          │      timeout passed (laggards removed)──>
 *    │                 │          v
 *    │   join, leave,  │    completing-rebalance ──leader's sync──> stable
 *    │   expiry ───────┴──────────┴───────────────────────────────────┘
 *    └── last member gone (generation + 1)
 * ```
 *
 * Bookkeeping carried by the record alone (agents are stateless):
 * - a member has joined the current round when `joinedGeneration` equals
 *   `generation + 1`, the generation the round will produce;
 * - `leaderId === ''` while preparing marks the first round after `empty`,
 *   the one that waits `initialRebalanceDelayMs` for more members;
 * - `stateChangedAt` starts the rebalance-timeout clock of a round and the
 *   leader's sync deadline.
 *
 * Session expiry spares members that are waiting inside a call: while
 * preparing, those that already rejoined (the rebalance timeout bounds them);
 * while completing, every follower (they wait for the leader's sync). The
 * leader must sync within its session timeout and its rebalance timeout.
 */
import type { GroupMemberRecord, GroupRecord } from '../../metadata/metadataStore.js';
import {
  GroupMaxSizeReachedError,
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  RebalanceInProgressError,
  UnknownMemberIdError,
  type StreamHouseError,
} from '../../protocol/errors.js';

/** Tunables of the state machine. */
export type GroupRules = {
  /** The first round after `empty` completes no earlier than this after it began, ms. */
  initialRebalanceDelayMs: number;
};

/** A next record (possibly the same object) with either a value or an error for the caller. */
export type GroupStep<T> =
  | { group: GroupRecord | undefined; value: T; error?: undefined }
  | { group: GroupRecord | undefined; error: StreamHouseError };

/** What a member asks for when it joins. */
export type JoinIntent = {
  groupId: string;
  memberId: string;
  /** True when the agent has just made the id up for a member joining for the first time. */
  isNew: boolean;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Uint8Array }[];
};

/** One member's share of the leader's assignment. */
export type AssignmentEntry = { memberId: string; assignment: Uint8Array };

const NO_BYTES = new Uint8Array(0);

/** A group that has never had a member; version 0 tells the store it does not exist yet. */
export function newGroup(groupId: string, now: number): GroupRecord {
  return {
    groupId,
    generation: 0,
    state: 'empty',
    protocolName: '',
    leaderId: '',
    members: [],
    stateChangedAt: now,
    version: 0,
  };
}

export function findMember(group: GroupRecord | undefined, memberId: string): GroupMemberRecord | undefined {
  return group?.members.find((member) => member.memberId === memberId);
}

/** Whether the member has joined the round in progress (meaningful while preparing). */
export function hasRejoined(group: GroupRecord, member: GroupMemberRecord): boolean {
  return member.joinedGeneration === group.generation + 1;
}

/**
 * Applies the passage of time: removes members whose session (or, for a
 * leader that has not synced, the rebalance timeout) ran out, then completes
 * the join phase when it is ready. Returns the ids it removed.
 */
export function tick(group: GroupRecord, now: number, rules: GroupRules): { group: GroupRecord; expired: string[] } {
  const expired = group.members.filter((member) => hasExpired(group, member, now)).map((member) => member.memberId);
  const afterExpiry = expired.length === 0 ? group : removeMembers(group, new Set(expired), now);
  return { group: completeJoinIfReady(afterExpiry, now, rules), expired };
}

function hasExpired(group: GroupRecord, member: GroupMemberRecord, now: number): boolean {
  const sessionOver = now - member.lastHeartbeat >= member.sessionTimeoutMs;
  switch (group.state) {
    case 'preparing-rebalance':
      return !hasRejoined(group, member) && sessionOver;
    case 'completing-rebalance':
      return (
        member.memberId === group.leaderId && (sessionOver || now - group.stateChangedAt >= member.rebalanceTimeoutMs)
      );
    case 'stable':
      return sessionOver;
    case 'empty':
      return false;
  }
}

/**
 * Ends the join phase when every member has rejoined (and, in the first round
 * after `empty`, the initial delay has passed) or when the longest rebalance
 * timeout has run out; members that did not rejoin are dropped. The new
 * generation keeps the previous leader when it rejoined, otherwise takes the
 * longest-standing member, and uses the first protocol in the leader's
 * preference that every member supports.
 */
export function completeJoinIfReady(group: GroupRecord, now: number, rules: GroupRules): GroupRecord {
  if (group.state !== 'preparing-rebalance') return group;
  const joined = group.members.filter((member) => hasRejoined(group, member));
  const longestTimeout = Math.max(0, ...group.members.map((member) => member.rebalanceTimeoutMs));
  const deadline = group.stateChangedAt + longestTimeout;
  const firstRound = group.leaderId === '';
  const earliest = firstRound ? Math.min(group.stateChangedAt + rules.initialRebalanceDelayMs, deadline) : 0;
  const everyoneJoined = joined.length === group.members.length;
  if (!(everyoneJoined && now >= earliest) && now < deadline) return group;
  if (joined.length === 0) return toEmpty(group, now);
  const leader = joined.find((member) => member.memberId === group.leaderId) ?? joined[0]!;
  return {
    ...group,
    generation: group.generation + 1,
    state: 'completing-rebalance',
    leaderId: leader.memberId,
    protocolName: chooseProtocol(leader, joined),
    stateChangedAt: now,
    // Session clocks restart: nobody could heartbeat a generation that did not exist yet.
    members: joined.map((member) => ({ ...member, assignment: NO_BYTES, lastHeartbeat: now })),
  };
}

function chooseProtocol(leader: GroupMemberRecord, members: GroupMemberRecord[]): string {
  const common = leader.protocols.find((protocol) =>
    members.every((member) => member.protocols.some((offered) => offered.name === protocol.name)),
  );
  // Joins are refused when they would leave no common protocol, so the fallback is never expected.
  return (common ?? leader.protocols[0])?.name ?? '';
}

/**
 * Starts a join round unless one is under way. Followers that were waiting
 * for the leader's sync (exempt from expiry meanwhile) learn of the round only
 * now, so their session clocks restart.
 */
function beginRebalance(group: GroupRecord, now: number): GroupRecord {
  if (group.state === 'preparing-rebalance') return group;
  const firstRound = group.state === 'empty';
  const members =
    group.state === 'completing-rebalance'
      ? group.members.map((member) => (member.memberId === group.leaderId ? member : { ...member, lastHeartbeat: now }))
      : group.members;
  return {
    ...group,
    state: 'preparing-rebalance',
    stateChangedAt: now,
    members,
    ...(firstRound ? { leaderId: '', protocolName: '' } : {}),
  };
}

/** A group whose last member is gone: generation + 1 so nothing of the old one stays valid. */
function toEmpty(group: GroupRecord, now: number): GroupRecord {
  return {
    ...group,
    generation: group.generation + 1,
    state: 'empty',
    protocolName: '',
    leaderId: '',
    members: [],
    stateChangedAt: now,
  };
}

/** Removes members; the others must rejoin, or the group becomes empty. */
export function removeMembers(group: GroupRecord, memberIds: ReadonlySet<string>, now: number): GroupRecord {
  const members = group.members.filter((member) => !memberIds.has(member.memberId));
  if (members.length === group.members.length) return group;
  if (members.length === 0) return toEmpty(group, now);
  return beginRebalance({ ...group, members }, now);
}

/**
 * Adds a new member or records a known member's rejoin, and starts a join
 * round when none is under way (a rejoin from a stable group rebalances it).
 * Refuses an unknown member id, a new member once the group has `maxMembers` (members already in it rejoin
 * freely), and protocols that share nothing with the other members'.
 */
export function applyJoin(
  current: GroupRecord | undefined,
  intent: JoinIntent,
  now: number,
  maxMembers: number,
): GroupStep<string> {
  const existing = findMember(current, intent.memberId);
  if (existing === undefined && !intent.isNew) {
    return {
      group: current,
      error: new UnknownMemberIdError(`member ${intent.memberId} is not in group ${intent.groupId}`),
    };
  }
  if (existing === undefined && current !== undefined && current.members.length >= maxMembers) {
    return {
      group: current,
      error: new GroupMaxSizeReachedError(
        `group ${intent.groupId} has ${current.members.length} members, ` +
          `the most this agent allows (--max-group-members)`,
      ),
    };
  }
  const group = current ?? newGroup(intent.groupId, now);
  const others = group.members.filter((member) => member.memberId !== intent.memberId);
  const compatible = intent.protocols.some((protocol) =>
    others.every((member) => member.protocols.some((offered) => offered.name === protocol.name)),
  );
  if (!compatible) {
    const offered = intent.protocols.map((protocol) => protocol.name).join(', ');
    return {
      group: current,
      error: new InconsistentGroupProtocolError(
        `group ${group.groupId}: none of the protocols [${offered}] is supported by every current member`,
      ),
    };
  }
  const started = beginRebalance(group, now);
  const member: GroupMemberRecord = {
    memberId: intent.memberId,
    clientId: intent.clientId,
    sessionTimeoutMs: intent.sessionTimeoutMs,
    rebalanceTimeoutMs: intent.rebalanceTimeoutMs,
    protocols: intent.protocols,
    assignment: existing?.assignment ?? NO_BYTES,
    lastHeartbeat: now,
    joinedGeneration: started.generation + 1,
  };
  const members =
    existing === undefined
      ? [...started.members, member]
      : started.members.map((current) => (current.memberId === member.memberId ? member : current));
  return { group: { ...started, members }, value: intent.memberId };
}

/** Fails unless the member belongs to the group's current generation. */
function checkGeneration(
  group: GroupRecord | undefined,
  memberId: string,
  generation: number,
): StreamHouseError | undefined {
  if (group === undefined || findMember(group, memberId) === undefined) {
    return new UnknownMemberIdError(`member ${memberId || '(none)'} is not in group ${group?.groupId ?? '(unknown)'}`);
  }
  if (generation !== group.generation) {
    return new IllegalGenerationError(
      `group ${group.groupId} is at generation ${group.generation}, member ${memberId} sent ${generation}`,
    );
  }
  return undefined;
}

function rebalanceInProgress(group: GroupRecord): RebalanceInProgressError {
  return new RebalanceInProgressError(`group ${group.groupId} is rebalancing: rejoin`);
}

/**
 * Records a heartbeat. While a round is being prepared the heartbeat still
 * counts (the member stays alive) but answers REBALANCE_IN_PROGRESS so the
 * member rejoins.
 */
export function applyHeartbeat(
  group: GroupRecord | undefined,
  memberId: string,
  generation: number,
  now: number,
): GroupStep<void> {
  const failure = checkGeneration(group, memberId, generation);
  if (failure !== undefined || group === undefined) return { group, error: failure! };
  const members = group.members.map((member) =>
    member.memberId === memberId ? { ...member, lastHeartbeat: now } : member,
  );
  const next = { ...group, members };
  return group.state === 'preparing-rebalance'
    ? { group: next, error: rebalanceInProgress(group) }
    : { group: next, value: undefined };
}

/** What a SyncGroup call gets: its assignment, or the news that it must wait for the leader. */
export type SyncOutcome = { assignment: Uint8Array } | 'wait-for-leader';

/**
 * Handles a SyncGroup: the leader's call stores every member's assignment
 * and makes the group stable (restarting every session clock); a follower's
 * call before that waits; any call once stable gets its assignment again.
 */
export function applySync(
  group: GroupRecord | undefined,
  memberId: string,
  generation: number,
  assignments: readonly AssignmentEntry[],
  now: number,
): GroupStep<SyncOutcome> {
  const failure = checkGeneration(group, memberId, generation);
  if (failure !== undefined || group === undefined) return { group, error: failure! };
  if (group.state === 'preparing-rebalance') return { group, error: rebalanceInProgress(group) };
  if (group.state === 'stable') return { group, value: { assignment: findMember(group, memberId)!.assignment } };
  if (memberId !== group.leaderId) return { group, value: 'wait-for-leader' };
  const byMember = new Map(assignments.map((entry) => [entry.memberId, entry.assignment]));
  const members = group.members.map((member) => ({
    ...member,
    assignment: byMember.get(member.memberId) ?? NO_BYTES,
    lastHeartbeat: now,
  }));
  const next: GroupRecord = { ...group, state: 'stable', stateChangedAt: now, members };
  return { group: next, value: { assignment: findMember(next, memberId)!.assignment } };
}

/**
 * What a follower waiting for the leader's sync learns from a fresh read:
 * its assignment, `undefined` to keep waiting, or an error.
 */
export function followerSyncStatus(
  group: GroupRecord | undefined,
  memberId: string,
  generation: number,
): Uint8Array | undefined | StreamHouseError {
  const member = findMember(group, memberId);
  if (group === undefined || member === undefined) {
    return new UnknownMemberIdError(
      `member ${memberId} left group ${group?.groupId ?? '(unknown)'} while waiting for its assignment`,
    );
  }
  // A new round began (and may even have completed) since this member joined: it must rejoin.
  if (group.generation !== generation || group.state === 'preparing-rebalance') return rebalanceInProgress(group);
  return group.state === 'stable' ? member.assignment : undefined;
}

/** Removes a member that leaves on its own. */
export function applyLeave(group: GroupRecord | undefined, memberId: string, now: number): GroupStep<void> {
  if (group === undefined || findMember(group, memberId) === undefined) {
    return {
      group,
      error: new UnknownMemberIdError(
        `member ${memberId || '(none)'} is not in group ${group?.groupId ?? '(unknown)'}`,
      ),
    };
  }
  return { group: removeMembers(group, new Set([memberId]), now), value: undefined };
}
