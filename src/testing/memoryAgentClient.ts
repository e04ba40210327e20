/**
 * Builds a StreamHouseClient out of plain handlers: each generated method
 * fills its request's defaults (as the wire would) and calls the handler
 * with the call's abort signal. The in-memory cluster gives every agent one.
 *
 * @internal
 */
import type { CallOptions } from 'nice-grpc-common';
import type { StreamHouseClient } from '../client/agentClient.js';
import { StreamHouseDefinition } from '../protocol/generated/streamhouse.js';

type Methods = typeof StreamHouseDefinition.methods;

/** The name of an agent call: `produce`, `fetch`, `joinGroup`, … */
export type CallName = keyof Methods;

export type RequestOf<K extends CallName> = ReturnType<Methods[K]['requestType']['fromPartial']>;
export type ResponseOf<K extends CallName> = ReturnType<Methods[K]['responseType']['fromPartial']>;

/** One handler per agent call. */
export type CallHandler = <K extends CallName>(
  call: K,
  request: RequestOf<K>,
  signal: AbortSignal | undefined,
) => Promise<ResponseOf<K>>;

/** Every call name, in the service's order. */
export const CALL_NAMES = Object.keys(StreamHouseDefinition.methods) as CallName[];

/** A client whose every method goes to `handle`. */
export function clientOf(handle: CallHandler): StreamHouseClient {
  const client: Record<string, (request: unknown, options?: CallOptions) => Promise<unknown>> = {};
  for (const name of CALL_NAMES) {
    const requestType = StreamHouseDefinition.methods[name].requestType as { fromPartial(o: unknown): unknown };
    client[name] = (request, options) =>
      handle(name, requestType.fromPartial(request ?? {}) as RequestOf<typeof name>, options?.signal);
  }
  return client as unknown as StreamHouseClient;
}
