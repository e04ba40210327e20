/**
 * Retry with exponential backoff and jitter, Kafka-style
 * (`retry.backoff.ms` = 100, `retry.backoff.max.ms` = 1000, ×2 per attempt,
 * ±20 % jitter), as a pure delay function and an RxJS operator built on
 * `retry({ count, delay })`.
 *
 * Only errors that say they are retriable are retried (StreamHouseError
 * with `retriable: true`: NOT_LEADER, AGENT_UNAVAILABLE, REQUEST_TIMED_OUT,
 * …); a TypeError or RangeError is a bug and is never retried, whatever
 * `isRetriable` says. When the retries run out the stream fails with
 * RetriesExhaustedError whose `cause` is the last failure.
 */
import { asyncScheduler, retry, throwError, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import {
  InvalidConfigError,
  InvalidRequestError,
  RetriesExhaustedError,
  StreamHouseError,
  isRetriable as isRetriableError,
} from '../protocol/errors.js';

/** How often and how patiently to retry. */
export type RetryPolicy = {
  /**
   * Retries after the first attempt (so at most `maxRetries + 1` attempts),
   * or `Infinity`. Default 10 (about 7.5 s of waiting with the default
   * backoff). The Producer's default is `Infinity`, bounded by its delivery
   * timeout (see ProducerOptions.retry).
   */
  maxRetries: number;
  /** Delay before the first retry, in ms. Default 100 (Kafka's `retry.backoff.ms`). */
  initialBackoffMs: number;
  /** Upper bound on any delay, in ms, jitter included. Default 1000 (Kafka's `retry.backoff.max.ms`). */
  maxBackoffMs: number;
  /** Growth of the delay per retry. Default 2. */
  multiplier: number;
  /**
   * Random spread of each delay as a fraction: 0.2 draws from ±20 % of the
   * nominal delay, so many clients do not retry in lockstep. Default 0.2. 0 = none.
   */
  jitter: number;
};

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 10,
  initialBackoffMs: 100,
  maxBackoffMs: 1000,
  multiplier: 2,
  jitter: 0.2,
});

/**
 * A complete policy: the defaults overridden by `overrides`, validated.
 *
 * @throws InvalidConfigError naming the field to fix.
 */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const name of Object.keys(DEFAULT_RETRY_POLICY) as (keyof RetryPolicy)[]) {
    const value = overrides[name];
    if (value !== undefined) policy[name] = value;
  }
  const { maxRetries, initialBackoffMs, maxBackoffMs, multiplier, jitter } = policy;
  if (!(maxRetries === Infinity || (Number.isSafeInteger(maxRetries) && maxRetries >= 0))) {
    throw new InvalidConfigError(`retry maxRetries must be a non-negative integer or Infinity, got ${maxRetries}`);
  }
  if (!(Number.isFinite(initialBackoffMs) && initialBackoffMs >= 0)) {
    throw new InvalidConfigError(`retry initialBackoffMs must be a finite number ≥ 0, got ${initialBackoffMs}`);
  }
  if (!(Number.isFinite(maxBackoffMs) && maxBackoffMs >= initialBackoffMs)) {
    throw new InvalidConfigError(
      `retry maxBackoffMs must be finite and ≥ initialBackoffMs (${initialBackoffMs}), got ${maxBackoffMs}`,
    );
  }
  if (!(Number.isFinite(multiplier) && multiplier >= 1)) {
    throw new InvalidConfigError(`retry multiplier must be a finite number ≥ 1, got ${multiplier}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new InvalidConfigError(`retry jitter must be between 0 and 1, got ${jitter}`);
  }
  return policy;
}

/**
 * The delay in whole ms before retry number `attempt` (1 = the first retry):
 * `initialBackoffMs × multiplier^(attempt − 1)`, scaled by a random factor in
 * `[1 − jitter, 1 + jitter)`, rounded, and capped at `maxBackoffMs`.
 * With `random = () => 0.5` the factor is exactly 1.
 *
 * @param random a source in [0, 1); inject it for exact tests.
 * @throws InvalidRequestError when `attempt` is not an integer ≥ 1.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new InvalidRequestError(`backoff attempt must be an integer ≥ 1, got ${attempt}`);
  }
  const { initialBackoffMs, maxBackoffMs, multiplier, jitter } = policy;
  // A huge attempt makes the growth Infinity; 0 × Infinity would be NaN.
  const nominal = initialBackoffMs === 0 ? 0 : Math.min(maxBackoffMs, initialBackoffMs * multiplier ** (attempt - 1));
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.min(maxBackoffMs, Math.round(nominal * factor));
}

/** What {@link RetryWithBackoffOptions.onRetry} is told before each wait. */
export type RetryEvent = {
  /** Which retry is about to happen (1 = the first). */
  attempt: number;
  /** How long it waits first, in ms. */
  delayMs: number;
  /** The failure being retried. */
  error: unknown;
};

/** Options of {@link retryWithBackoff}. */
export type RetryWithBackoffOptions = {
  /** Scheduler for the backoff timers. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Randomness for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Which errors to retry. Default: retriable StreamHouse errors
   * (`isRetriable` of protocol/errors). TypeError and RangeError are never
   * retried, whatever this says.
   */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each backoff wait, e.g. to log or to refresh metadata after NOT_LEADER. */
  onRetry?: (event: RetryEvent) => void;
};

/**
 * Resubscribes to the source after a retriable error, waiting
 * {@link backoffDelay} between attempts.
 *
 * ```ts
 * produce$(batch).pipe(
 *   retryWithBackoff({ maxRetries: 5 }, { onRetry: ({ error }) => refreshOn(error) }),
 * );
 * // NOT_LEADER at 0 ms → retry at ~100 ms → AGENT_UNAVAILABLE → retry at ~300 ms → ok
 * ```
 *
 * Errors that are not retriable pass through at once, unchanged. After
 * `maxRetries` failed retries the result fails with RetriesExhaustedError
 * (`cause`: the last error, `context`: its context when it had one).
 *
 * @param policy overrides of {@link DEFAULT_RETRY_POLICY} (validated once, here).
 */
export function retryWithBackoff<T>(
  policy: Partial<RetryPolicy> = {},
  options: RetryWithBackoffOptions = {},
): MonoTypeOperatorFunction<T> {
  const complete = retryPolicy(policy);
  const { scheduler = asyncScheduler, random = Math.random, isRetriable = isRetriableError, onRetry } = options;
  const { maxRetries } = complete;

  return retry<T>({
    // One more than maxRetries so that `delay` also sees the final failure
    // and can turn it into RetriesExhaustedError.
    count: maxRetries + 1,
    delay: (error: unknown, attempt: number) => {
      if (error instanceof TypeError || error instanceof RangeError || !isRetriable(error)) {
        return throwError(() => error);
      }
      if (attempt > maxRetries) {
        return throwError(() => exhausted(error, attempt));
      }
      const delayMs = backoffDelay(attempt, complete, random);
      onRetry?.({ attempt, delayMs, error });
      return timer(delayMs, scheduler);
    },
  });
}

/** The error for a retriable failure that has no retries left. */
function exhausted(lastError: unknown, attempts: number): RetriesExhaustedError {
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  const retries = attempts - 1;
  return new RetriesExhaustedError(
    `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (${retries} ` +
      `${retries === 1 ? 'retry' : 'retries'}): ${reason}`,
    lastError instanceof StreamHouseError ? { cause: lastError, context: lastError.context } : { cause: lastError },
  );
}
