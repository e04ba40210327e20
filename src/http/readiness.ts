/**
 * Readiness: the agent has started (it listens), is not shutting down, and both its stores
 * answer a ping within a bound. Concurrent probes share one check.
 */
import type { MetadataStore } from '../metadata/metadataStore.js';
import type { ObjectStore } from '../storage/objectStore.js';

/** A store ping that has not answered within this is a failure, ms. */
export const READINESS_PING_TIMEOUT_MS = 2000;

export type Readiness = { ready: true } | { ready: false; reason: string };

export type ReadinessSources = {
  /** Every start step is done, listening included. */
  started(): boolean;
  stopping(): boolean;
  metadataStore: MetadataStore;
  objectStore: ObjectStore;
  timeoutMs?: number;
};

export class ReadinessCheck {
  private running: Promise<Readiness> | undefined;

  constructor(private readonly sources: ReadinessSources) {}

  check(): Promise<Readiness> {
    const { stopping, started } = this.sources;
    if (stopping()) return Promise.resolve({ ready: false, reason: 'shutting down' });
    if (!started()) return Promise.resolve({ ready: false, reason: 'starting' });
    this.running ??= this.pingStores().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pingStores(): Promise<Readiness> {
    const { metadataStore, objectStore, timeoutMs = READINESS_PING_TIMEOUT_MS } = this.sources;
    const failures = await Promise.all([
      pingWithin('metadata store', () => metadataStore.ping(), timeoutMs),
      pingWithin('object store', async () => objectStore.ping?.(), timeoutMs),
    ]);
    const reasons = failures.filter((f): f is string => f !== undefined);
    // Stopping may have begun while the stores were pinged.
    if (this.sources.stopping()) return { ready: false, reason: 'shutting down' };
    return reasons.length === 0 ? { ready: true } : { ready: false, reason: reasons.join('; ') };
  }
}

/** undefined when `ping` resolves within `timeoutMs`, else why not. */
async function pingWithin(what: string, ping: () => Promise<unknown>, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${what} did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      ping().then(
        () => undefined,
        (error: unknown) => `${what} unreachable: ${error instanceof Error ? error.message : String(error)}`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
