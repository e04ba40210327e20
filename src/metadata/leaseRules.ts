/**
 * The lease and fencing rules, written once for every backend. SQLite applies
 * them in TypeScript inside a transaction; the Redis Lua scripts apply the
 * same rules and report a failure with the fields these builders need, so both
 * backends raise the same error with the same message.
 *
 * A lease is live while `now <= expiresAt` and a holder is set. A write under
 * epoch E (commit, replace, delete of segments) is accepted only when E is the
 * current epoch AND the lease is still live: an agent whose lease expired may
 * already have been replaced in an agent's view of the world even if nobody
 * has acquired the lease yet, so it must renew (same epoch, which is safe) or
 * re-acquire before it writes again.
 */
import { FencedLeaseEpochError, HighWatermarkConflictError, NotLeaderError } from '../protocol/errors.js';

/** The lease columns of a partition, as stored. */
export type LeaseView = {
  /** Agent holding the lease; undefined when never leased or released. */
  holder: string | undefined;
  /** Epoch of the latest acquisition; 0 when never leased. */
  epoch: number;
  /** Expiry, ms; the lease is live while `now <= expiresAt`. */
  expiresAt: number;
};

/**
 * Why a write or renewal under a lease is refused:
 * - `epoch`: another acquisition happened since (the epoch moved on);
 * - `holder`: the epoch matches but the lease names another agent;
 * - `released`: the lease was given up;
 * - `expired`: the lease ran out (`now > expiresAt`).
 */
export type FenceReason = 'epoch' | 'holder' | 'released' | 'expired';

/** True when a lease has a holder and has not run out at `now`. */
export function isLeaseLive(lease: LeaseView, now: number): boolean {
  return lease.holder !== undefined && now <= lease.expiresAt;
}

/** Why a write under `epoch` must be refused at `now`, or undefined when it may go ahead. */
export function writeFenceReason(current: LeaseView, epoch: number, now: number): FenceReason | undefined {
  if (epoch !== current.epoch) return 'epoch';
  if (current.holder === undefined) return 'released';
  if (now > current.expiresAt) return 'expired';
  return undefined;
}

/**
 * Why renewing `agentId`'s lease under `epoch` must be refused, or undefined.
 * An expired lease whose epoch and holder are still current may be renewed:
 * nobody acquired it in between (that would have moved the epoch), so no
 * other agent can have written.
 */
export function renewFenceReason(current: LeaseView, epoch: number, agentId: string): FenceReason | undefined {
  if (epoch !== current.epoch) return 'epoch';
  if (current.holder === undefined) return 'released';
  if (current.holder !== agentId) return 'holder';
  return undefined;
}

/** When `agentId` may not acquire the lease at `now`, the holder that blocks it. */
export function acquireBlocker(current: LeaseView, agentId: string, now: number): string | undefined {
  if (!isLeaseLive(current, now) || current.holder === agentId) return undefined;
  return current.holder;
}

function partitionName(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** The FencedLeaseEpochError for a refused write or renewal. */
export function fencedError(
  topic: string,
  partition: number,
  epoch: number,
  current: LeaseView,
  reason: FenceReason,
  now: number,
): FencedLeaseEpochError {
  const where = partitionName(topic, partition);
  const holder = current.holder ?? 'nobody';
  const detail: Record<FenceReason, string> = {
    epoch: `the current epoch is ${current.epoch} (holder ${holder})`,
    holder: `the lease is held by ${holder}`,
    released: 'the lease was released',
    expired: `the lease expired at ${current.expiresAt} (now ${now}); renew or acquire it again`,
  };
  return new FencedLeaseEpochError(`lease epoch ${epoch} of ${where} is fenced: ${detail[reason]}`, {
    context: { topic, partition },
  });
}

/** The NotLeaderError raised when another agent holds a live lease. */
export function notLeaderError(topic: string, partition: number, holder: string, expiresAt: number): NotLeaderError {
  return new NotLeaderError(
    `${partitionName(topic, partition)} is leased by ${holder} until ${expiresAt} ` +
      `(${new Date(expiresAt).toISOString()})`,
    { context: { topic, partition } },
  );
}

/** The HighWatermarkConflictError raised when a commit does not start at the high watermark. */
export function highWatermarkConflictError(
  topic: string,
  partition: number,
  expected: number,
  baseOffset: number,
  actual: number,
): HighWatermarkConflictError {
  const where = partitionName(topic, partition);
  const message =
    expected === baseOffset
      ? `high watermark of ${where} is ${actual}, not the expected ${expected}`
      : `segment of ${where} starts at ${baseOffset} but the expected high watermark is ${expected} (current ` +
        `${actual})`;
  return new HighWatermarkConflictError(message, { context: { topic, partition, offset: actual } });
}
