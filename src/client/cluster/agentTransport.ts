/**
 * How a client reaches agents: one typed StreamHouse client per agent
 * address. The default is the gRPC {@link ConnectionPool}; streamhouse/testing
 * provides an in-memory cluster behind the same interface.
 */
import type { StreamHouseClient } from '../agentClient.js';

export type AgentTransport = {
  /** The client for the agent at `address` (host:port), connected on first use. */
  get(address: string): { client: StreamHouseClient };
  /** Drops the connection to `address` after it failed; the next `get` connects again. */
  invalidate(address: string): void;
  /** Closes every connection (the client is closing). */
  closeAll(): void;
};
