/**
 * Gives up the leases of partitions nobody writes to any more: a lease
 * unused for `idleMs` (no Produce, no recovery) is handed to `release`, so
 * an agent does not renew for ever every partition it once wrote (a single
 * Produce naming thousands of partitions took a lease on each). `keep` may
 * spare a lease (its partition still needs this agent, e.g. for retention).
 */
import type { Logger } from 'pino';
import type { Lease } from '../../metadata/metadataStore.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Default of AgentOptions.leaseIdleReleaseMs: 5 minutes. */
export const DEFAULT_LEASE_IDLE_RELEASE_MS = 300_000;

export type IdleLeasesOptions = {
  /** A lease unused this long is released, ms; 0 never releases. */
  idleMs: number;
  /** The leases held now. */
  held: () => Lease[];
  /** True when a lease must be kept although idle. */
  keep: (lease: Lease) => Promise<boolean>;
  /** Gives a lease up; false when the partition was used again meanwhile (it stays). */
  release: (lease: Lease) => Promise<boolean>;
  clock: () => number;
  logger?: Logger | undefined;
};

export class IdleLeases {
  private readonly lastUse = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(private readonly options: IdleLeasesOptions) {}

  /** Sweeps every quarter of the idle time (at most every 30 s) in the background. */
  start(): void {
    if (this.options.idleMs === 0) return;
    const every = Math.max(10, Math.min(30_000, Math.floor(this.options.idleMs / 4)));
    this.timer = setInterval(
      () => void this.sweep().catch((err: unknown) => this.options.logger?.warn({ err }, 'idle lease release failed')),
      every,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Notes a use of a partition's lease (a write). */
  used(topic: string, partition: number): void {
    this.lastUse.set(topicPartitionId(topic, partition), this.options.clock());
  }

  /** Releases every lease idle for `idleMs`; resolves with how many. Sweeps never overlap. */
  sweep(): Promise<number> {
    this.sweeping ??= this.releaseIdle().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async releaseIdle(): Promise<number> {
    if (this.options.idleMs === 0) return 0;
    const now = this.options.clock();
    const held = this.options.held();
    const keys = new Set(held.map((lease) => topicPartitionId(lease.topic, lease.partition)));
    for (const key of this.lastUse.keys()) if (!keys.has(key)) this.lastUse.delete(key);
    let released = 0;
    for (const lease of held) {
      const key = topicPartitionId(lease.topic, lease.partition);
      const last = this.lastUse.get(key);
      // A lease never noted as used (taken before this agent counted) is idle from now on.
      if (last === undefined) this.lastUse.set(key, now);
      if (last === undefined || now - last < this.options.idleMs || (await this.options.keep(lease))) continue;
      if (this.lastUse.get(key) !== last) continue;
      if (await this.options.release(lease)) {
        this.lastUse.delete(key);
        released++;
        this.options.logger?.info(
          { topic: lease.topic, partition: lease.partition, epoch: lease.epoch },
          'idle lease released',
        );
      }
    }
    return released;
  }
}
