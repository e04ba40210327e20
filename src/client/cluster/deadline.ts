/**
 * A request deadline as an AbortSignal, timed on the client's scheduler so a
 * virtual-time test sees it fire in virtual time. On the default
 * asyncScheduler it is AbortSignal.timeout (no timer to clear).
 *
 * @internal
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';

export type Deadline = {
  signal: AbortSignal;
  /** Cancels the timer once the call has ended. */
  clear(): void;
};

const NOTHING_TO_CLEAR = (): void => {};

/** A signal that aborts with a TimeoutError `timeoutMs` from now on `scheduler`. */
export function deadline(timeoutMs: number, scheduler: SchedulerLike = asyncScheduler): Deadline {
  if (scheduler === asyncScheduler) return { signal: AbortSignal.timeout(timeoutMs), clear: NOTHING_TO_CLEAR };
  const controller = new AbortController();
  const action = scheduler.schedule(() => {
    controller.abort(new DOMException(`deadline of ${timeoutMs} ms passed`, 'TimeoutError'));
  }, timeoutMs);
  return { signal: controller.signal, clear: () => action.unsubscribe() };
}
