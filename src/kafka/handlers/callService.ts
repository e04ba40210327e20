/** Calls the agent's gRPC service implementation from a Kafka handler, as a call on no network would. */
import { Metadata, type CallContext } from 'nice-grpc-common';
import { PRINCIPAL_METADATA_KEY } from '../../agent/tls/principal.js';

/** A call context for `signal`: the connection's principal (if any) as gRPC calls carry it, the listener as peer. */
export function callContext(signal: AbortSignal, principal?: string): CallContext {
  const metadata = Metadata();
  if (principal !== undefined) metadata.set(PRINCIPAL_METADATA_KEY, Buffer.from(principal, 'utf8'));
  return { metadata, peer: 'kafka', header: Metadata(), trailer: Metadata(), sendHeader() {}, signal };
}

/** Groups items by topic, keeping first-seen order of topics and items. */
export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const item of items) {
    const list = topics.get(item.topic);
    if (list === undefined) topics.set(item.topic, [item]);
    else list.push(item);
  }
  return topics;
}
