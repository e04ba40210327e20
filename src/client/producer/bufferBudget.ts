/**
 * Bounds the bytes of records a producer holds between `send` and their
 * acknowledgement. `reserve` takes room at once when there is some, or waits
 * (first come, first served) up to a timeout, then fails with BufferFullError.
 */
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { BufferFullError } from '../../protocol/errors.js';

type Waiter = { bytes: number; resolve: () => void; reject: (e: unknown) => void; timer: Subscription | undefined };

export class BufferBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  /** @param scheduler times the `reserve` waits */
  constructor(
    readonly capacity: number,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  /** Bytes held now. */
  get usedBytes(): number {
    return this.used;
  }

  /** Takes room when available now and nobody waits before us. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || (this.used + bytes > this.capacity && this.used > 0)) return false;
    this.used += bytes;
    return true;
  }

  /**
   * Takes room, waiting up to `timeoutMs`. A record larger than the whole
   * buffer is let through when the buffer is empty, so it can still be sent.
   */
  reserve(bytes: number, timeoutMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, timer: undefined };
      waiter.timer = this.scheduler.schedule(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new BufferFullError(
            `producer buffer full: ${this.used} of ${this.capacity} bytes held for more than ${timeoutMs} ms`,
          ),
        );
        this.wake();
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (this.used + next.bytes > this.capacity && this.used > 0) return;
      this.waiters.shift();
      next.timer?.unsubscribe();
      this.used += next.bytes;
      next.resolve();
    }
  }

  /** Fails every waiter (the producer is closing). */
  rejectAll(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.timer?.unsubscribe();
      waiter.reject(error);
    }
  }
}
