/**
 * An Observable over one Promise-returning call that takes an AbortSignal:
 * unsubscribing aborts the call (a gRPC request is cancelled, not left
 * running as `from(promise)` would leave it).
 */
import { Observable } from 'rxjs';

export function fromAbortable<T>(call: (signal: AbortSignal) => Promise<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    let settled = false;
    call(controller.signal).then(
      (value) => {
        settled = true;
        subscriber.next(value);
        subscriber.complete();
      },
      (error: unknown) => {
        settled = true;
        subscriber.error(error);
      },
    );
    // Only a call still running needs cancelling; aborting a settled one costs a DOMException and its listeners for
    // nothing.
    return () => {
      if (!settled) controller.abort();
    };
  });
}
