/**
 * The heartbeat timer of a group member, as one Observable.
 */
import {
  asyncScheduler,
  catchError,
  endWith,
  exhaustMap,
  from,
  ignoreElements,
  interval,
  of,
  takeWhile,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import {
  IllegalGenerationError,
  RebalanceInProgressError,
  UnknownMemberIdError,
  type StreamHouseError,
} from '../../protocol/errors.js';

/** What one heartbeat came to. */
export type HeartbeatOutcome =
  | {
      /** The coordinator counted it: the member is alive in its generation. */
      type: 'ok';
    }
  | {
      /** The member must rejoin: a rebalance began, or it was fenced or forgotten. Ends the heartbeats. */
      type: 'rejoin';
      /** RebalanceInProgressError, IllegalGenerationError or UnknownMemberIdError. */
      error: StreamHouseError;
    }
  | {
      /** The heartbeat failed otherwise (agent unreachable, timeout); the next one is tried on time. */
      type: 'failed';
      /** The failure. */
      error: unknown;
    };

/** Options of {@link heartbeats}. */
export type HeartbeatOptions = {
  /** Time between heartbeats, ms; the first goes out one interval after subscribing. */
  intervalMs: number;
  /** Sends one heartbeat; completing (or resolving) means the coordinator took it. */
  send: () => ObservableInput<unknown>;
  /** Timer scheduler; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
};

/**
 * Sends a heartbeat every `intervalMs` and emits each outcome. A tick that
 * comes while the previous heartbeat is still unanswered is skipped
 * (`exhaustMap`), so a slow coordinator is never flooded. Emits `rejoin` and
 * completes when the coordinator says the member must rejoin; other failures
 * are reported and the timer keeps going (the session timeout, not one lost
 * heartbeat, decides membership). Unsubscribing stops the timer and cancels
 * a heartbeat in flight.
 *
 * @example
 * heartbeats({ intervalMs: 3000, send: () => client.heartbeat({ groupId, generationId, memberId }) })
 *   .pipe(filter((o) => o.type === 'rejoin'))
 *   .subscribe(() => rejoin());
 */
export function heartbeats(options: HeartbeatOptions): Observable<HeartbeatOutcome> {
  const { intervalMs, send, scheduler = asyncScheduler } = options;
  return interval(intervalMs, scheduler).pipe(
    exhaustMap(() =>
      from(send()).pipe(
        ignoreElements(),
        endWith<HeartbeatOutcome>({ type: 'ok' }),
        catchError((error: unknown) => of(classifyHeartbeatError(error))),
      ),
    ),
    takeWhile((outcome) => outcome.type !== 'rejoin', true),
  );
}

/** `rejoin` for the coordinator's membership answers, `failed` for anything else. */
export function classifyHeartbeatError(error: unknown): HeartbeatOutcome {
  if (
    error instanceof RebalanceInProgressError ||
    error instanceof IllegalGenerationError ||
    error instanceof UnknownMemberIdError
  ) {
    return { type: 'rejoin', error };
  }
  return { type: 'failed', error };
}
