/**
 * The agent's own service implementation as a StreamHouseClient, so the
 * console's API runs the CLI's logic (src/cli/groups.ts and friends) on the
 * very rules the gRPC and Kafka ports use, without a network hop. Requests
 * are completed with their defaults as the gRPC decoder would. Calls carry
 * `principal` (the API request's, see httpAuth.ts) as gRPC calls carry theirs.
 */
import type { StreamHouseClient } from '../../client/agentClient.js';
import { callContext } from '../../kafka/handlers/callService.js';
import { StreamHouseDefinition, type StreamHouseServiceImplementation } from '../../protocol/generated/streamhouse.js';

type Method = keyof typeof StreamHouseDefinition.methods;
type AnyCall = (request: unknown, context: ReturnType<typeof callContext>) => Promise<unknown>;

export function inProcessClient(
  service: StreamHouseServiceImplementation,
  signal: AbortSignal,
  principal?: string,
): StreamHouseClient {
  const client: Record<string, (request: unknown) => Promise<unknown>> = {};
  for (const [name, method] of Object.entries(StreamHouseDefinition.methods)) {
    const call = service[name as Method] as unknown as AnyCall;
    const complete = method.requestType.fromPartial as (request: unknown) => unknown;
    client[name] = (request) => call.call(service, complete(request ?? {}), callContext(signal, principal));
  }
  return client as unknown as StreamHouseClient;
}
