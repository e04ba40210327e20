/**
 * Read–modify–compare-and-set on one group record, retried on a version
 * mismatch. This is the only way coordinators on different agents agree:
 * each step is computed from the record it read and stored only if nobody
 * stored another version meanwhile; the loser recomputes from the winner's.
 */
import type { GroupRecord, MetadataStore } from '../../metadata/metadataStore.js';
import { MetadataError, type StreamHouseError } from '../../protocol/errors.js';
import { completeJoinIfReady, tick, type GroupRules, type GroupStep } from './groupRules.js';

/** Attempts before giving up with a (retriable) MetadataError; each failed one means another writer made progress. */
const MAX_ATTEMPTS = 100;

/** What one stored (or needlessly written) update produced: the step's value, or its error. */
export type GroupUpdate<T> = {
  /** The step's answer; undefined exactly when `error` is set. */
  value: T | undefined;
  /** The step's refusal, to be thrown by the caller after logging. */
  error: StreamHouseError | undefined;
  /** The record as stored (or as read, when nothing needed writing). */
  group: GroupRecord | undefined;
  /** The record as read before the step. */
  before: GroupRecord | undefined;
  /** Members removed by session expiry in this update. */
  expired: string[];
};

export type GroupUpdateContext = {
  store: MetadataStore;
  clock: () => number;
  rules: GroupRules;
};

/**
 * Reads the group, applies expiry and due join completion, then `step`, then
 * any join completion the step made due, and stores the result when it
 * differs from what was read. A step's error is returned (not thrown) along
 * with what was stored: a refused heartbeat still records the expiries it
 * discovered.
 */
export async function updateGroup<T>(
  context: GroupUpdateContext,
  groupId: string,
  step: (group: GroupRecord | undefined, now: number) => GroupStep<T>,
): Promise<GroupUpdate<T>> {
  const { store, clock, rules } = context;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const before = await store.getGroup(groupId);
    const now = clock();
    const ticked = before === undefined ? undefined : tick(before, now, rules);
    const outcome = step(ticked?.group, now);
    const after = outcome.group === undefined ? undefined : completeJoinIfReady(outcome.group, now, rules);
    let group = after;
    if (after !== undefined && after !== before) {
      group = await store.updateGroup(after, before?.version ?? 0);
      if (group === undefined) {
        await backOff(attempt);
        continue;
      }
    }
    const expired = ticked?.expired ?? [];
    if (outcome.error !== undefined) return { value: undefined, error: outcome.error, group, before, expired };
    return { value: outcome.value, error: undefined, group, before, expired };
  }
  throw new MetadataError(`group ${groupId}: gave up after ${MAX_ATTEMPTS} conflicting concurrent updates`);
}

/** A short, growing, jittered pause so that writers colliding on one record spread out. */
function backOff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(attempt, 10);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
