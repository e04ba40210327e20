/**
 * Fixed limits on what one request may ask of the agent, checked before a
 * handler runs, so a refused request writes nothing and takes no lease.
 */
import { LimitExceededError } from '../../protocol/errors.js';

/** Default of AgentOptions.maxPartitionsPerRequest. */
export const DEFAULT_MAX_PARTITIONS_PER_REQUEST = 1000;

/** `handler`, refusing with LimitExceededError a request that names more than `max` partitions. */
export function limitPartitions<R extends { partitions: readonly unknown[] }, A extends unknown[], T>(
  method: string,
  max: number,
  handler: (request: R, ...rest: A) => Promise<T>,
): (request: R, ...rest: A) => Promise<T> {
  return async (request, ...rest) => {
    const count = request.partitions.length;
    if (count > max) {
      throw new LimitExceededError(
        `${method} request names ${count} partitions; this agent accepts at most ${max} per request ` +
          `(--max-partitions-per-request): split it`,
      );
    }
    return handler(request, ...rest);
  };
}
