/**
 * The bound on connections one client address holds open at once, so that a
 * single host cannot take every connection of an agent: a connection beyond
 * it is closed as soon as it is accepted.
 */

/** Default of AgentOptions.maxConnectionsPerAddress. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 128;

export class ConnectionsPerAddress {
  private readonly open = new Map<string, number>();
  private refusedCount = 0;

  constructor(readonly max: number) {}

  /** Connections refused so far for being over the bound. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Connections `address` holds now. */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }

  /** Counts a new connection from `address`; its release (idempotent), or undefined when it must be refused. */
  admit(address: string | undefined): (() => void) | undefined {
    const key = address ?? '';
    const count = this.count(key);
    if (count >= this.max) {
      this.refusedCount++;
      return undefined;
    }
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(key) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}
