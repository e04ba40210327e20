/** Registers this agent in the metadata store and heartbeats so clients can find it. */
import type { Logger } from 'pino';
import type { MetadataStore } from '../../metadata/metadataStore.js';

export class AgentRegistry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly agentId: string,
    private readonly ttlMs: number,
    private readonly logger?: Logger,
  ) {}

  /** Registers `address` (gRPC) and `kafkaAddress` (when the agent serves Kafka), then heartbeats. */
  async start(address: string, kafkaAddress?: string): Promise<void> {
    const registration = {
      agentId: this.agentId,
      address,
      ...(kafkaAddress === undefined ? {} : { kafkaAddress }),
      startedAt: Date.now(),
    };
    await this.store.registerAgent(registration);
    this.timer = setInterval(
      () => {
        // A heartbeat for a registration the store dropped (e.g. Redis restarted empty) registers again.
        this.store
          .heartbeatAgent(this.agentId)
          .catch(() => this.store.registerAgent(registration))
          .catch((err: unknown) => this.logger?.warn({ err }, 'agent heartbeat failed'));
      },
      Math.max(10, Math.floor(this.ttlMs / 3)),
    );
    this.timer.unref();
  }

  /** Stops heartbeating and deregisters. */
  async stop(): Promise<void> {
    this.kill();
    await this.store
      .deregisterAgent(this.agentId)
      .catch((err: unknown) => this.logger?.warn({ err }, 'deregister failed'));
  }

  /** Stops heartbeating only; the registration lapses after the TTL. */
  kill(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
