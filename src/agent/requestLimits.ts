/**
 * Fixed limits on what one request may ask of the agent, checked before a
 * handler runs, so a refused request writes nothing and takes no lease.
 */
import { LimitExceededError } from '../protocol/errors.js';

/** Default of AgentOptions.maxPartitionsPerRequest. */
export const DEFAULT_MAX_PARTITIONS_PER_REQUEST = 1000;

/** Throws LimitExceededError when a request names more than `max` partitions. */
export function checkPartitionCount(method: string, count: number, max: number): void {
  if (count <= max) return;
  throw new LimitExceededError(
    `${method} request names ${count} partitions; this agent accepts at most ${max} per request (--max-partitions-per-request): split it`,
  );
}
