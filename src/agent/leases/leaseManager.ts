/**
 * Holds this agent's partition leases: acquires on demand, renews every third
 * of the TTL in the background, and reports a lost lease so the partition's
 * writer stops before a fenced write could even be attempted.
 *
 * Self-fencing: a lease counts as held only until `ttlMs - safetyMarginMs`
 * after this agent asked for it (or for its last renewal), by this agent's
 * own clock. Whatever the store's clock says, the store cannot have given the
 * lease to another agent before then, give or take the margin's clock drift.
 * An agent that was paused past that point (a long GC, a VM pause, SIGSTOP)
 * treats the lease as lost: it does not renew it but drops it, so the
 * partition is leased again (a new epoch, state reloaded from the store)
 * before it serves anything.
 */
import type { Logger } from 'pino';
import type { Lease, MetadataStore } from '../../metadata/metadataStore.js';
import { FencedLeaseEpochError, NotLeaderError } from '../../protocol/errors.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

export type LeaseManagerOptions = {
  store: MetadataStore;
  agentId: string;
  /** Lease TTL, ms. */
  ttlMs: number;
  /** A lease counts as held until this long before its TTL runs out by this agent's clock, ms (see agentOptions). */
  safetyMarginMs: number;
  /** Called once when a held lease is lost (renewal fenced, or expired by either clock), with that lease. */
  onLost: (lease: Lease, error: Error) => void;
  logger?: Logger | undefined;
  clock?: () => number;
};

/** A lease and until when, by this agent's clock, it may be used. */
type HeldLease = { lease: Lease; validUntil: number };

export class LeaseManager {
  private readonly leases = new Map<string, HeldLease>();
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

  /** The lease this agent holds now for a partition, unless it may have expired by this agent's clock. */
  held(topic: string, partition: number): Lease | undefined {
    const held = this.leases.get(topicPartitionId(topic, partition));
    return held !== undefined && this.clock() < held.validUntil ? held.lease : undefined;
  }

  /** Every lease held (and not expired by this agent's clock). */
  all(): Lease[] {
    const now = this.clock();
    return [...this.leases.values()].filter((held) => now < held.validUntil).map((held) => held.lease);
  }

  /**
   * The lease for a partition, acquiring it when this agent does not hold it
   * (or its hold may have expired). Throws NotLeaderError when another agent holds it.
   */
  async ensure(topic: string, partition: number): Promise<Lease> {
    const held = this.held(topic, partition);
    if (held !== undefined) return held;
    const key = topicPartitionId(topic, partition);
    let pending = this.acquiring.get(key);
    if (pending === undefined) {
      const askedAt = this.clock();
      pending = this.options.store
        .acquireLease(topic, partition, this.options.agentId, this.options.ttlMs)
        .then((lease) => {
          this.leases.set(key, { lease, validUntil: this.validUntil(askedAt) });
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
      await Promise.all([...this.leases.values()].map((held) => this.renew(held)));
    } finally {
      this.renewing = false;
    }
  }

  private async renew(held: HeldLease): Promise<void> {
    const { lease } = held;
    const key = topicPartitionId(lease.topic, lease.partition);
    const askedAt = this.clock();
    if (askedAt >= held.validUntil) {
      // Paused (or starved) past the lease: another agent may hold it already, so it is not renewed but leased anew.
      this.drop(
        held,
        new NotLeaderError(`lease of ${key} (epoch ${lease.epoch}) may have expired by this agent's clock`, {
          context: { topic: lease.topic, partition: lease.partition },
        }),
      );
      return;
    }
    try {
      const renewed = await this.options.store.renewLease(lease, this.options.ttlMs);
      if (this.leases.get(key) === held) this.leases.set(key, { lease: renewed, validUntil: this.validUntil(askedAt) });
    } catch (error) {
      if (
        error instanceof FencedLeaseEpochError ||
        error instanceof NotLeaderError ||
        held.validUntil <= this.clock()
      ) {
        this.drop(held, error as Error);
      } else {
        // A passing store failure: keep the lease and try again next round; it lapses at validUntil if the store stays
        // away.
        this.options.logger?.warn(
          { err: error, topic: lease.topic, partition: lease.partition },
          'lease renewal failed',
        );
      }
    }
  }

  private validUntil(askedAt: number): number {
    return askedAt + this.options.ttlMs - this.options.safetyMarginMs;
  }

  private drop(held: HeldLease, error: Error): void {
    const { lease } = held;
    const key = topicPartitionId(lease.topic, lease.partition);
    if (this.leases.get(key) !== held) return;
    this.leases.delete(key);
    this.options.logger?.warn(
      { topic: lease.topic, partition: lease.partition, epoch: lease.epoch, err: error },
      'lease lost',
    );
    this.options.onLost(lease, error);
  }

  /**
   * Forgets a lease without telling the store (the writer saw it fenced), if
   * it is still the one with this epoch: a newer lease is left alone.
   */
  forget(topic: string, partition: number, epoch: number): void {
    const key = topicPartitionId(topic, partition);
    if (this.leases.get(key)?.lease.epoch === epoch) this.leases.delete(key);
  }

  /**
   * Gives up a lease in the store (its writer stopped on a store failure), if
   * it is still the one with this epoch, so another agent can take over at
   * once; a failure to tell the store is logged (the lease then lapses).
   */
  async release(topic: string, partition: number, epoch: number): Promise<void> {
    const key = topicPartitionId(topic, partition);
    const held = this.leases.get(key);
    if (held === undefined || held.lease.epoch !== epoch) return;
    this.leases.delete(key);
    await this.options.store.releaseLease(held.lease).catch((err: unknown) => {
      this.options.logger?.warn({ err, topic, partition, epoch }, 'lease release failed; it lapses at its expiry');
    });
  }

  /** Stops renewal and releases every lease so another agent can take over at once. */
  async releaseAll(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const leases = [...this.leases.values()].map((held) => held.lease);
    this.leases.clear();
    await Promise.allSettled(leases.map((lease) => this.options.store.releaseLease(lease)));
  }

  /** Stops renewal without releasing (a crash, as far as others can tell). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
