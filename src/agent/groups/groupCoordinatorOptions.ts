/**
 * Options of the GroupCoordinator, with their defaults. `resolveGroupCoordinatorOptions`
 * applies the defaults once and validates, naming what to change.
 */
import type { Logger } from 'pino';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import { InvalidConfigError } from '../../protocol/errors.js';
import {
  DEFAULT_MAX_GROUP_MEMBERS,
  DEFAULT_MAX_MEMBER_METADATA_BYTES,
  DEFAULT_MAX_OFFSET_METADATA_BYTES,
} from './groupLimits.js';

export type GroupCoordinatorOptions = {
  /** Where group records and committed offsets live; shared by every agent serving the groups. */
  store: MetadataStore;
  /**
   * Clock for session, rebalance and initial-delay deadlines, ms since the epoch.
   * Agents sharing a store should keep their clocks in sync well within the
   * smallest session timeout. Default `Date.now`.
   */
  clock?: () => number;
  /** How often a waiting JoinGroup or SyncGroup rereads the group record, ms. Default 50. */
  pollIntervalMs?: number;
  /** Waits between those rereads (streamhouse/testing's cluster waits on its scheduler). Default a timer. */
  wait?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Smallest session timeout a member may ask for, ms. Default 6000 (Kafka's `group.min.session.timeout.ms`). */
  minSessionTimeoutMs?: number;
  /** Largest session timeout a member may ask for, ms. Default 300000 (5 minutes). */
  maxSessionTimeoutMs?: number;
  /**
   * How long the first join phase of an empty group stays open for more
   * members, ms, counted from the first member's join and capped by the
   * rebalance timeout. It saves a rebalance per member when a whole
   * application starts at once. Default 3000, Kafka's
   * `group.initial.rebalance.delay.ms`; 0 completes at once (useful in tests).
   */
  initialRebalanceDelayMs?: number;
  /**
   * Largest member metadata a join may carry (client id, protocol names and
   * metadata), and largest assignment a leader may hand a member, bytes;
   * beyond it LimitExceededError. Default 1 MiB.
   */
  maxMemberMetadataBytes?: number;
  /**
   * Most members one group may have: a new member's join beyond it fails with GroupMaxSizeReachedError; members
   * already in the group keep rejoining. Default 1000 (see DEFAULT_MAX_GROUP_MEMBERS).
   */
  maxGroupMembers?: number;
  /**
   * Largest offset-commit metadata, UTF-8 bytes; beyond it the partition's result is OFFSET_METADATA_TOO_LARGE.
   * Default 4096.
   */
  maxOffsetMetadataBytes?: number;
  /** Structured logger; rebalances are logged at info, the rest at debug. Default: none. */
  logger?: Logger;
};

/** @internal The options with every default applied. */
export type ResolvedGroupCoordinatorOptions = {
  store: MetadataStore;
  clock: () => number;
  pollIntervalMs: number;
  wait: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  maxMemberMetadataBytes: number;
  maxGroupMembers: number;
  maxOffsetMetadataBytes: number;
  logger: Logger | undefined;
};

/** Applies defaults and checks ranges; throws InvalidConfigError naming the option to change. */
export function resolveGroupCoordinatorOptions(options: GroupCoordinatorOptions): ResolvedGroupCoordinatorOptions {
  const {
    store,
    clock = Date.now,
    pollIntervalMs = 50,
    minSessionTimeoutMs = 6000,
    maxSessionTimeoutMs = 300_000,
    initialRebalanceDelayMs = 3000,
    maxMemberMetadataBytes = DEFAULT_MAX_MEMBER_METADATA_BYTES,
    maxGroupMembers = DEFAULT_MAX_GROUP_MEMBERS,
    maxOffsetMetadataBytes = DEFAULT_MAX_OFFSET_METADATA_BYTES,
    logger,
  } = options;
  for (const [name, value] of Object.entries({
    pollIntervalMs,
    maxMemberMetadataBytes,
    maxGroupMembers,
    maxOffsetMetadataBytes,
  })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidConfigError(`group option ${name} must be a positive integer, got ${value}`);
    }
  }
  for (const [name, value] of Object.entries({ minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs })) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidConfigError(`group option ${name} must be a non-negative integer (ms), got ${value}`);
    }
  }
  if (minSessionTimeoutMs > maxSessionTimeoutMs) {
    throw new InvalidConfigError(
      `group option minSessionTimeoutMs (${minSessionTimeoutMs}) ` +
        `exceeds maxSessionTimeoutMs (${maxSessionTimeoutMs}): ` +
        'lower the minimum or raise the maximum',
    );
  }
  return {
    store,
    clock,
    pollIntervalMs,
    wait: options.wait,
    minSessionTimeoutMs,
    maxSessionTimeoutMs,
    initialRebalanceDelayMs,
    maxMemberMetadataBytes,
    maxGroupMembers,
    maxOffsetMetadataBytes,
    logger,
  };
}
