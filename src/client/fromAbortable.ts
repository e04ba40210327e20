/**
 * An Observable over one Promise-returning call that takes an AbortSignal:
 * unsubscribing aborts the call (a gRPC request is cancelled, not left
 * running as `from(promise)` would leave it).
 */
import { Observable } from 'rxjs';

export function fromAbortable<T>(call: (signal: AbortSignal) => Promise<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    call(controller.signal).then(
      (value) => {
        subscriber.next(value);
        subscriber.complete();
      },
      (error: unknown) => subscriber.error(error),
    );
    return () => controller.abort();
  });
}
