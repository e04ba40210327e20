/**
 * The bound on Fetch calls waiting for data at once (both protocols): each
 * waiting Fetch holds a notifier watch and its request until data or its
 * deadline comes. A Fetch that would wait while `max` already do is answered
 * at once with what is there, as a Fetch with no wait is: clients simply
 * fetch again, so nothing fails and nothing is lost.
 */

/** Default of AgentOptions.maxLongPolls. */
export const DEFAULT_MAX_LONG_POLLS = 1000;

export class LongPolls {
  private waiting = 0;
  private cutShort = 0;

  constructor(readonly max: number) {}

  /** Fetches waiting now. */
  get active(): number {
    return this.waiting;
  }

  /** Fetches answered without their wait because `max` were waiting. */
  get refused(): number {
    return this.cutShort;
  }

  /** Takes a waiting slot; its release (idempotent), or undefined when `max` are taken (answer at once). */
  acquire(): (() => void) | undefined {
    if (this.waiting >= this.max) {
      this.cutShort++;
      return undefined;
    }
    this.waiting++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.waiting--;
    };
  }
}
