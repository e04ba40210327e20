/**
 * Says whether a denial should be logged: once per principal, resource and
 * operation within a window, remembering at most `maxEntries` keys (the
 * oldest are forgotten first, so memory stays bounded under any load).
 */
export class DeniedLog {
  /** Key → when it was last logged, ms; Map order is insertion order, oldest first. */
  private readonly logged = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
    private readonly clock: () => number,
  ) {}

  /** True when `key` was not logged within the window (and notes it as logged now). */
  shouldLog(key: string): boolean {
    const now = this.clock();
    const last = this.logged.get(key);
    if (last !== undefined && now - last < this.windowMs) return false;
    this.logged.delete(key);
    this.logged.set(key, now);
    if (this.logged.size > this.maxEntries) {
      const oldest = this.logged.keys().next().value;
      if (oldest !== undefined) this.logged.delete(oldest);
    }
    return true;
  }

  /** Keys remembered now (at most maxEntries). */
  get size(): number {
    return this.logged.size;
  }
}
