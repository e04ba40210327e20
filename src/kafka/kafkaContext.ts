/**
 * What the Kafka handlers need from their agent: the same service the gRPC
 * server runs (so both protocols share every rule), plus a few facts about
 * the agent and its metadata store.
 */
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { MetadataStore } from '../metadata/metadataStore.js';
import type { Authorizer } from '../agent/acl/aclAuthorizer.js';
import type { StreamHouseServiceImplementation } from '../protocol/generated/streamhouse.js';
import type { LongPolls } from '../agent/read/longPolls.js';
import type { TopicLimits } from '../agent/server/topicLimits.js';
import type { KafkaQuotas } from './kafkaQuotas.js';
import type { TopicIdResolver } from './topicIds.js';

export type KafkaContext = {
  /** The agent's gRPC service implementation; handlers translate into its requests. */
  service: StreamHouseServiceImplementation;
  /** Checks for the handlers that read the metadata store themselves; undefined when authorisation is off. */
  authorizer?: Authorizer | undefined;
  agentId: string;
  metadataStore: MetadataStore;
  /** Partitions of a topic Metadata creates when asked for a missing one; 0: no auto-creation. */
  autoCreatePartitions: number;
  /** Names the topics clients give by id (Fetch 13+, Metadata, DeleteTopics 6). */
  topicIds: TopicIdResolver;
  /** The agent's bounds on topics, which CreateTopics validateOnly checks as a create would. */
  topicLimits: TopicLimits;
  /** Agents heard from within this are live brokers, ms. */
  agentTtlMs: number;
  /** Whether acks=1 can mean `buffered` (the agent has a write-ahead log). */
  bufferedAcksEnabled: boolean;
  /** host:port Kafka clients dial to reach this agent. */
  advertisedAddress(): string;
  logger: Logger | undefined;
  /** Checks SASL credentials; undefined or mode `off`: no SASL, every connection anonymous. */
  authenticator?: Authenticator;
  /** A connection held to authenticate (mode `required`) is closed when it has not within this, ms. Default 10000. */
  saslTimeoutMs?: number;
  /** Byte-rate quotas on Produce and Fetch per principal; undefined: none. */
  quotas?: KafkaQuotas | undefined;
  /** The agent's bound on waiting Fetch calls (an empty Fetch's wait takes a slot too). */
  longPolls?: LongPolls | undefined;
};

/** Splits `host:port` (IPv6 hosts in brackets). */
export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (match === null) return { host: address, port: 9092 };
  return { host: match[1]!, port: Number(match[2]) };
}
