/**
 * Holds this agent's partition leases: acquires on demand, renews every third
 * of the TTL in the background, and reports a lost lease so the partition's
 * writer stops before a fenced write could even be attempted.
 */
import type { Logger } from 'pino';
import type { Lease, MetadataStore } from '../metadata/metadataStore.js';
import { FencedLeaseEpochError, NotLeaderError } from '../protocol/errors.js';

export type LeaseManagerOptions = {
  store: MetadataStore;
  agentId: string;
  /** Lease TTL, ms. */
  ttlMs: number;
  /** Called once when a held lease is lost (renewal fenced or expired), with that lease. */
  onLost: (lease: Lease, error: Error) => void;
  logger?: Logger | undefined;
  clock?: () => number;
};

export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`;

export class LeaseManager {
  private readonly leases = new Map<string, Lease>();
  private readonly acquiring = new Map<string, Promise<Lease>>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private readonly clock: () => number;

  constructor(private readonly options: LeaseManagerOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Starts background renewal. */
  start(): void {
    const every = Math.max(10, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => void this.renewAll(), every);
    this.timer.unref();
  }

  /** The lease this agent holds now for a partition, if still unexpired. */
  held(topic: string, partition: number): Lease | undefined {
    const lease = this.leases.get(partitionKey(topic, partition));
    return lease !== undefined && lease.expiresAt > this.clock() ? lease : undefined;
  }

  /** Every lease held. */
  all(): Lease[] {
    return [...this.leases.values()];
  }

  /**
   * The lease for a partition, acquiring it when this agent does not hold it.
   * Throws NotLeaderError when another agent holds it.
   */
  async ensure(topic: string, partition: number): Promise<Lease> {
    const held = this.held(topic, partition);
    if (held !== undefined) return held;
    const key = partitionKey(topic, partition);
    let pending = this.acquiring.get(key);
    if (pending === undefined) {
      pending = this.options.store
        .acquireLease(topic, partition, this.options.agentId, this.options.ttlMs)
        .then((lease) => {
          this.leases.set(key, lease);
          this.options.logger?.info({ topic, partition, epoch: lease.epoch }, 'lease acquired');
          return lease;
        })
        .finally(() => this.acquiring.delete(key));
      this.acquiring.set(key, pending);
    }
    return pending;
  }

  /** Renews every held lease; a fenced or expired one is dropped and reported. */
  async renewAll(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await Promise.all([...this.leases.values()].map((lease) => this.renew(lease)));
    } finally {
      this.renewing = false;
    }
  }

  private async renew(lease: Lease): Promise<void> {
    const key = partitionKey(lease.topic, lease.partition);
    try {
      const renewed = await this.options.store.renewLease(lease, this.options.ttlMs);
      if (this.leases.get(key) === lease) this.leases.set(key, renewed);
    } catch (error) {
      if (error instanceof FencedLeaseEpochError || error instanceof NotLeaderError || lease.expiresAt <= this.clock()) {
        this.drop(lease, error as Error);
      } else {
        // A passing store failure: keep the lease and try again next round; it lapses at expiresAt if the store stays away.
        this.options.logger?.warn({ err: error, topic: lease.topic, partition: lease.partition }, 'lease renewal failed');
      }
    }
  }

  private drop(lease: Lease, error: Error): void {
    const key = partitionKey(lease.topic, lease.partition);
    if (this.leases.get(key) !== lease) return;
    this.leases.delete(key);
    this.options.logger?.warn({ topic: lease.topic, partition: lease.partition, epoch: lease.epoch }, 'lease lost');
    this.options.onLost(lease, error);
  }

  /**
   * Forgets a lease without telling the store (the writer saw it fenced), if
   * it is still the one with this epoch: a newer lease is left alone.
   */
  forget(topic: string, partition: number, epoch: number): void {
    const key = partitionKey(topic, partition);
    if (this.leases.get(key)?.epoch === epoch) this.leases.delete(key);
  }

  /**
   * Gives up a lease in the store (its writer stopped on a store failure), if
   * it is still the one with this epoch, so another agent can take over at
   * once; a failure to tell the store is logged (the lease then lapses).
   */
  async release(topic: string, partition: number, epoch: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const lease = this.leases.get(key);
    if (lease === undefined || lease.epoch !== epoch) return;
    this.leases.delete(key);
    await this.options.store.releaseLease(lease).catch((err: unknown) => {
      this.options.logger?.warn({ err, topic, partition, epoch }, 'lease release failed; it lapses at its expiry');
    });
  }

  /** Stops renewal and releases every lease so another agent can take over at once. */
  async releaseAll(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const leases = [...this.leases.values()];
    this.leases.clear();
    await Promise.allSettled(leases.map((lease) => this.options.store.releaseLease(lease)));
  }

  /** Stops renewal without releasing (a crash, as far as others can tell). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
