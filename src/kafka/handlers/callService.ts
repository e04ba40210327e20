/** Calls the agent's gRPC service implementation from a Kafka handler, as a call on no network would. */
import { Metadata, type CallContext } from 'nice-grpc-common';

/** A call context for `signal`: empty metadata, the Kafka listener as peer. */
export function callContext(signal: AbortSignal): CallContext {
  return { metadata: Metadata(), peer: 'kafka', header: Metadata(), trailer: Metadata(), sendHeader() {}, signal };
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
