/**
 * A producer send's retry schedule: retriable failures are retried with
 * backoff ({@link retryWithBackoff}, built on `retry({ delay })`) until the
 * delivery timeout, which ends the attempt under way and every wait.
 */
import { asyncScheduler, defer, throwError, timeout, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { retryWithBackoff, type RetryEvent, type RetryPolicy } from '../retryPolicy.js';

/** Options of {@link retryUntilDeliveryTimeout}. */
export type RetryUntilDeliveryTimeoutConfig = {
  /** Backoff and retry count (a complete policy: see ProducerOptions.retry). */
  policy: RetryPolicy;
  /** Time left until the delivery timeout, ms from subscription. */
  timeoutMs: number;
  /** The error to fail with at the delivery timeout, given the last failure retried (undefined when none). */
  timeoutError: (lastError: unknown) => Error;
  /** Scheduler of the backoff and the timeout. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Randomness for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Which errors to retry. Default: retriable StreamHouse errors. */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each backoff wait. */
  onRetry?: (event: RetryEvent) => void;
};

/**
 * Resubscribes to the source after each retriable failure, waiting the
 * policy's backoff, until `timeoutMs` after subscription; then fails with
 * `timeoutError(lastFailure)`. A non-retriable error, or RetriesExhaustedError
 * for a finite `maxRetries`, passes through at once.
 *
 * ```ts
 * produceOnce(batch).pipe(
 *   retryUntilDeliveryTimeout({ policy, timeoutMs: 120_000, timeoutError: (cause) => new DeliveryTimeoutError('…', {
 * cause }) }),
 * );
 * // AGENT_UNAVAILABLE at 0 → ~100 ms → ~300 → ~700 → ~1500 → then every ~1 s until the agent answers, or 120 s
 * ```
 */
export function retryUntilDeliveryTimeout<T>(config: RetryUntilDeliveryTimeoutConfig): MonoTypeOperatorFunction<T> {
  const { policy, timeoutMs, timeoutError, scheduler = asyncScheduler, random, isRetriable, onRetry } = config;
  return (source) =>
    defer(() => {
      let lastError: unknown;
      return source.pipe(
        retryWithBackoff(policy, {
          scheduler,
          random,
          isRetriable,
          onRetry: (event) => {
            lastError = event.error;
            onRetry?.(event);
          },
        }),
        timeout({ first: timeoutMs, scheduler, with: () => throwError(() => timeoutError(lastError)) }),
      );
    });
}
