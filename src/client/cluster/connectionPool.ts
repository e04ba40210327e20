/**
 * One gRPC connection per agent address, shared by every producer and
 * consumer call to that agent; connections unused for `idleMs` are closed,
 * and a connection whose calls fail with AGENT_UNAVAILABLE is replaced on
 * next use so a restarted agent is dialled afresh.
 */
import { connectAgent, type AgentConnection } from '../agentClient.js';
import type { ClientTlsOptions } from '../tlsOptions.js';

export type ConnectionPoolOptions = {
  /** Close connections idle this long, ms. Default 300 000 (5 min). */
  idleMs?: number;
  /** Largest gRPC message, bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** TLS settings of every connection. Default plain text. */
  tls?: ClientTlsOptions;
  /** Bearer token of every connection. Default none. */
  token?: string;
};

type Entry = { connection: AgentConnection; lastUsed: number };

export class ConnectionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly maxMessageBytes: number;
  private readonly tls: ClientTlsOptions | undefined;
  private readonly token: string | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: ConnectionPoolOptions = {}) {
    const { idleMs = 300_000, maxMessageBytes = 64 * 1024 * 1024 } = options;
    this.idleMs = idleMs;
    this.maxMessageBytes = maxMessageBytes;
    this.tls = options.tls;
    this.token = options.token;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(1000, Math.floor(idleMs / 2)));
    this.sweeper.unref();
  }

  /** The connection to `address`, dialled on first use. */
  get(address: string): AgentConnection {
    let entry = this.entries.get(address);
    if (entry === undefined) {
      entry = {
        connection: connectAgent(address, {
          maxMessageBytes: this.maxMessageBytes,
          ...(this.tls === undefined ? {} : { tls: this.tls }),
          ...(this.token === undefined ? {} : { token: this.token }),
        }),
        lastUsed: Date.now(),
      };
      this.entries.set(address, entry);
    }
    entry.lastUsed = Date.now();
    return entry.connection;
  }

  /** Drops the connection to `address` (after it failed); the next `get` dials again. */
  invalidate(address: string): void {
    const entry = this.entries.get(address);
    if (entry === undefined) return;
    this.entries.delete(address);
    entry.connection.close();
  }

  /** Number of open connections. */
  get size(): number {
    return this.entries.size;
  }

  private closeIdle(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [address, entry] of this.entries) {
      if (entry.lastUsed < cutoff) this.invalidate(address);
    }
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const address of [...this.entries.keys()]) this.invalidate(address);
  }
}
