/**
 * A consumer's membership of its group (Kafka's classic protocol): join,
 * leader-side assignment, sync, heartbeats, rebalances, leave.
 *
 * ```
 *  ┌─> [eager: revoke every owned partition, committing]
 *  │   JoinGroup (long-polls until the round completes) ── leader: assign with the chosen assignor
 *  │   SyncGroup ──> assignment ──> revoke what is no longer ours (commit first), assign what is new
 *  │   heartbeats every heartbeatIntervalMs ...
 *  └── REBALANCE_IN_PROGRESS (heartbeat or sync), a cooperative revocation, or a fenced commit: rejoin
 *      UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION: the partitions are lost (no commit), rejoin
 * ```
 *
 * Cooperative protocol (every offered assignor cooperative): owned partitions
 * keep being consumed during the rebalance; only those missing from the new
 * assignment are revoked, and having revoked any the member rejoins at once
 * so their new owner gets them in the next generation. Eager protocol: every
 * partition is revoked (committed) before each join.
 *
 * Retriable failures (agent unreachable, timeouts) are retried with backoff
 * on the injected scheduler, moving to another agent; other errors end the
 * membership through `onError`.
 */
import { firstValueFrom, timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import {
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  RebalanceInProgressError,
  RetriesExhaustedError,
  UnknownMemberIdError,
  isRetriable,
} from '../../protocol/errors.js';
import type { JoinGroupResponse, MemberAssignment } from '../../protocol/generated/streamhouse.js';
import {
  decodeAssignment,
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
  MEMBER_CODEC_VERSION,
} from '../assignors/memberCodec.js';
import type { Assignor, TopicPartitions } from '../assignors/types.js';
import { fromAbortable } from '../fromAbortable.js';
import { compareTopicPartitions, type TopicPartition } from '../offsets/types.js';
import { backoffDelay, type RetryPolicy } from '../retryPolicy.js';
import type { AnyAgent } from '../cluster/agentCall.js';
import { heartbeats } from './heartbeat.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Options of {@link GroupMembership}. */
export type GroupMembershipOptions = {
  groupId: string;
  clientId: string;
  /** Subscribed topics, sorted. */
  topics: string[];
  /** Offered assignors, preferred first. */
  assignors: Assignor[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  /** The agent group calls go to. */
  coordinator: AnyAgent;
  /** Partition counts of topics (0 or absent for unknown ones), for the leader's assignment. */
  partitionCounts: (topics: string[]) => Promise<ReadonlyMap<string, number>>;
  /** Starts consuming newly assigned partitions. */
  assign: (partitions: TopicPartition[], generation: number, memberId: string) => Promise<void>;
  /** Stops consuming partitions; `lost` means without a commit. */
  revoke: (
    partitions: TopicPartition[],
    kind: 'revoked' | 'lost',
    generation: number,
    memberId: string,
  ) => Promise<void>;
  /** The membership ended on an error it cannot get over. */
  onError: (error: unknown) => void;
  retry: RetryPolicy;
  scheduler: SchedulerLike;
  logger?: Logger | undefined;
};

type Trigger = { kind: 'rejoin'; error?: unknown } | { kind: 'close' };

export class GroupMembership {
  private memberIdValue = '';
  private generationValue = -1;
  private ownedPartitions: TopicPartition[] = [];
  private heartbeat: Subscription | undefined;
  private wake: ((trigger: Trigger) => void) | undefined;
  private pending: Trigger | undefined;
  private closing = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private readonly cooperative: boolean;

  constructor(private readonly options: GroupMembershipOptions) {
    this.cooperative = options.assignors.every((a) => a.rebalanceProtocol === 'cooperative');
  }

  /** Member id given by the coordinator; `''` before the first join. */
  get memberId(): string {
    return this.memberIdValue;
  }

  /** Current generation; -1 before the first join. */
  get generation(): number {
    return this.generationValue;
  }

  /** Partitions held now, by topic then partition. */
  get owned(): TopicPartition[] {
    return [...this.ownedPartitions];
  }

  /** Joins and stays in the group until `stop`. */
  start(): void {
    this.loopDone ??= this.loop();
  }

  /**
   * Asks for a rejoin (e.g. a commit was fenced). `error` says why; a fencing error drops the partitions uncommitted.
   */
  requestRejoin(error?: unknown): void {
    this.fire(error === undefined ? { kind: 'rejoin' } : { kind: 'rejoin', error });
  }

  /** Ends the join loop and the heartbeats; the member stays in the group until `leave`. */
  async stop(): Promise<void> {
    this.closing = true;
    this.abort.abort();
    this.fire({ kind: 'close' });
    await this.loopDone;
    this.stopHeartbeat();
  }

  /** Leaves the group (after `stop`) so the others rebalance at once; errors are logged, not thrown. */
  async leave(): Promise<void> {
    if (this.memberIdValue === '') return;
    const request = { groupId: this.options.groupId, memberId: this.memberIdValue };
    try {
      await this.options.coordinator.call('leave group', this.options.requestTimeoutMs, undefined, (client, signal) =>
        client.leaveGroup(request, { signal }),
      );
    } catch (error) {
      this.options.logger?.warn({ err: error, groupId: this.options.groupId }, 'leave group failed');
    }
    this.memberIdValue = '';
  }

  // ---- the loop -------------------------------------------------------------

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      try {
        const rejoinAtOnce = await this.rebalance();
        failures = 0;
        if (this.closing) break;
        if (rejoinAtOnce) continue;
        const trigger = await this.nextTrigger();
        if (trigger.kind === 'close') break;
        if (trigger.error instanceof UnknownMemberIdError || trigger.error instanceof IllegalGenerationError)
          await this.lose(trigger.error);
      } catch (error) {
        if (this.closing) break;
        if (error instanceof RebalanceInProgressError) continue;
        if (error instanceof UnknownMemberIdError || error instanceof IllegalGenerationError) {
          await this.lose(error).catch((e: unknown) => this.options.onError(e));
          continue;
        }
        if (isRetriable(error) && ++failures <= this.options.retry.maxRetries) {
          const delay = backoffDelay(failures, this.options.retry);
          this.options.logger?.warn(
            { err: error, groupId: this.options.groupId, delay },
            'group call failed, retrying',
          );
          await firstValueFrom(timer(delay, this.options.scheduler));
          continue;
        }
        this.closing = true;
        this.stopHeartbeat();
        const fatal = isRetriable(error)
          ? new RetriesExhaustedError(`group ${this.options.groupId}: ${failures} failures in a row`, { cause: error })
          : error;
        this.options.onError(fatal);
      }
    }
  }

  /**
   * One join + sync + (re)assignment. True when the member must rejoin at once (it revoked under the cooperative
   * protocol).
   */
  private async rebalance(): Promise<boolean> {
    const { groupId, clientId, sessionTimeoutMs, rebalanceTimeoutMs, requestTimeoutMs, assignors } = this.options;
    if (!this.cooperative && this.ownedPartitions.length > 0) await this.revoke(this.ownedPartitions, 'revoked');
    if (this.closing) return false;
    this.stopHeartbeat();
    // Reasons to rejoin gathered so far are answered by this join.
    if (this.pending?.kind === 'rejoin') this.pending = undefined;
    const metadata = encodeMemberMetadata({
      version: MEMBER_CODEC_VERSION,
      topics: this.options.topics,
      ownedPartitions: groupByTopic(this.ownedPartitions),
      ...(this.generationValue >= 0 ? { generation: this.generationValue } : {}),
    });
    const joinRequest = {
      groupId,
      memberId: this.memberIdValue,
      clientId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocols: assignors.map((a) => ({ name: a.name, metadata: Buffer.from(metadata) })),
    };
    const waitMs = rebalanceTimeoutMs + requestTimeoutMs;
    const join = await this.options.coordinator.call('join group', waitMs, this.abort.signal, (client, signal) =>
      client.joinGroup(joinRequest, { signal }),
    );
    this.memberIdValue = join.memberId;
    // From here this member belongs to the new generation: its commits must say so.
    this.generationValue = join.generationId;
    const assignments = join.leaderId === join.memberId ? await this.computeAssignments(join) : [];
    const syncRequest = { groupId, generationId: join.generationId, memberId: join.memberId, assignments };
    const sync = await this.options.coordinator.call('sync group', waitMs, this.abort.signal, (client, signal) =>
      client.syncGroup(syncRequest, { signal }),
    );
    this.startHeartbeat();
    const target = sync.assignment.length === 0 ? [] : flatten(decodeAssignment(sync.assignment).partitions);
    const targetKeys = new Set(target.map((tp) => topicPartitionId(tp.topic, tp.partition)));
    const ownedKeys = new Set(this.ownedPartitions.map((tp) => topicPartitionId(tp.topic, tp.partition)));
    const revoked = this.ownedPartitions.filter((tp) => !targetKeys.has(topicPartitionId(tp.topic, tp.partition)));
    const added = target.filter((tp) => !ownedKeys.has(topicPartitionId(tp.topic, tp.partition)));
    this.options.logger?.info(
      {
        groupId,
        generation: join.generationId,
        memberId: join.memberId,
        leader: join.leaderId === join.memberId,
        protocol: join.protocolName,
        assigned: added.length,
        revoked: revoked.length,
      },
      'group rebalanced',
    );
    if (revoked.length > 0) await this.revoke(revoked, 'revoked');
    if (added.length > 0) {
      await this.options.assign(added, this.generationValue, this.memberIdValue);
      this.ownedPartitions = [...this.ownedPartitions, ...added].sort(compareTopicPartitions);
    }
    return this.cooperative && revoked.length > 0;
  }

  /** The leader's part: every member's assignment from the chosen assignor and the current partition counts. */
  private async computeAssignments(join: JoinGroupResponse): Promise<MemberAssignment[]> {
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName);
    if (assignor === undefined) {
      throw new InconsistentGroupProtocolError(
        `group ${this.options.groupId} chose protocol '${join.protocolName}', which this member does not have`,
      );
    }
    const members = join.members.map((m) => ({ memberId: m.memberId, metadata: decodeMemberMetadata(m.metadata) }));
    const topics = [...new Set(members.flatMap((m) => m.metadata.topics))].sort();
    const counts = await this.options.partitionCounts(topics);
    const result = assignor.assign(members, counts);
    return [...result].map(([memberId, assignment]) => ({
      memberId,
      assignment: Buffer.from(encodeAssignment(assignment)),
    }));
  }

  private async revoke(partitions: TopicPartition[], kind: 'revoked' | 'lost'): Promise<void> {
    const keys = new Set(partitions.map((tp) => topicPartitionId(tp.topic, tp.partition)));
    const list = [...partitions];
    this.ownedPartitions = this.ownedPartitions.filter((tp) => !keys.has(topicPartitionId(tp.topic, tp.partition)));
    await this.options.revoke(list, kind, this.generationValue, this.memberIdValue);
  }

  /** The coordinator no longer counts this member in: the partitions may be someone else's already. */
  private async lose(error: unknown): Promise<void> {
    this.options.logger?.warn(
      { err: error, groupId: this.options.groupId },
      'membership lost: partitions dropped without commit',
    );
    this.stopHeartbeat();
    if (this.ownedPartitions.length > 0) await this.revoke(this.ownedPartitions, 'lost');
    if (error instanceof UnknownMemberIdError) this.memberIdValue = '';
    this.generationValue = -1;
  }

  // ---- heartbeats and wake-ups --------------------------------------------------

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const { groupId, heartbeatIntervalMs, requestTimeoutMs, scheduler, coordinator } = this.options;
    const request = { groupId, generationId: this.generationValue, memberId: this.memberIdValue };
    const send = () =>
      fromAbortable((abort) =>
        coordinator.call('heartbeat', requestTimeoutMs, abort, (client, signal) =>
          client.heartbeat(request, { signal }),
        ),
      );
    this.heartbeat = heartbeats({ intervalMs: heartbeatIntervalMs, send, scheduler }).subscribe((outcome) => {
      if (outcome.type === 'rejoin') this.fire({ kind: 'rejoin', error: outcome.error });
      else if (outcome.type === 'failed')
        this.options.logger?.warn({ err: outcome.error, groupId }, 'heartbeat failed');
    });
  }

  private stopHeartbeat(): void {
    this.heartbeat?.unsubscribe();
    this.heartbeat = undefined;
  }

  private fire(trigger: Trigger): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake(trigger);
    } else if (this.pending === undefined || trigger.kind === 'close') {
      this.pending = trigger;
    }
  }

  private nextTrigger(): Promise<Trigger> {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      return Promise.resolve(pending);
    }
    return new Promise((resolve) => (this.wake = resolve));
  }
}

function flatten(list: readonly TopicPartitions[]): TopicPartition[] {
  return list.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}

function groupByTopic(partitions: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}
