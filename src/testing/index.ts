/**
 * streamhouse/testing: an in-memory cluster that the real Producer and
 * Consumer reach through the same transport as gRPC agents, and a
 * TestScheduler that covers whole pipelines in virtual time. See docs/testing.md.
 */
export {
  InMemoryCluster,
  createInMemoryCluster,
  type InMemoryClusterOptions,
  type FaultTarget,
  type CallName,
  type CallLogEntry,
  type StoredRecord,
} from './inMemoryCluster.js';
export { PipelineTestScheduler } from './pipelineTestScheduler.js';
export type { AgentTransport } from '../client/cluster/agentTransport.js';
