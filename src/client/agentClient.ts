/**
 * A typed gRPC client for one agent, with errors mapped back to the
 * StreamHouse error classes (the agent's exact code, or AGENT_UNAVAILABLE and
 * friends for transport failures).
 *
 * ```ts
 * const agent = connectAgent('127.0.0.1:9660');
 * const { names } = await agent.client.listTopics({});
 * agent.close();
 * ```
 */
import { createChannel, createClientFactory, type Channel, type Client } from 'nice-grpc';
import type { CallOptions, ClientMiddlewareCall } from 'nice-grpc-common';
import type { StreamHouseDefinition } from '../protocol/generated/streamhouse.js';
import { StreamHouseService } from '../protocol/grpc/serviceDefinition.js';
import { fromGrpcError } from '../protocol/errors.js';
import { checkClientTls, tlsChannel, type ClientTlsOptions } from './tlsOptions.js';
import { bearerToken } from './bearerToken.js';

/** The generated StreamHouse service client. */
export type StreamHouseClient = Client<typeof StreamHouseDefinition>;

export type AgentConnectionOptions = {
  /** Largest message sent or received, bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Connect over TLS (see ClientTlsOptions). Default plain text. */
  tls?: ClientTlsOptions;
  /** Bearer token sent with every call (agents with `--auth`). Default none: anonymous or the certificate's CN. */
  token?: string;
};

/** A channel to one agent and its typed client. */
export type AgentConnection = {
  /** host:port of the agent. */
  address: string;
  client: StreamHouseClient;
  channel: Channel;
  /** Closes the channel; calls under way fail with AGENT_UNAVAILABLE. */
  close(): void;
};

async function* mapErrors<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
): AsyncGenerator<Response, Response | void, undefined> {
  try {
    return yield* call.next(call.request, options);
  } catch (error) {
    throw fromGrpcError(error);
  }
}

/** Opens a channel to an agent at `address` (host:port). */
export function connectAgent(address: string, options: AgentConnectionOptions = {}): AgentConnection {
  const { maxMessageBytes = 64 * 1024 * 1024 } = options;
  const tls = options.tls === undefined ? undefined : tlsChannel(checkClientTls(options.tls));
  const channel = createChannel(address, tls?.credentials, {
    ...tls?.options,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // HTTP/2 flow control: the default 64 KiB window makes the agent stop
    // every 64 KiB of a multi-MiB Fetch answer until this side's event loop
    // acknowledges it. A message is buffered whole before it is decoded
    // anyway, so a window as large as the largest message only lets it arrive.
    'grpc-node.flow_control_window': maxMessageBytes,
  });
  const factory = createClientFactory().use(mapErrors);
  const client = (options.token === undefined ? factory : factory.use(bearerToken(options.token))).create(
    StreamHouseService,
    channel,
  );
  return { address, client, channel, close: () => channel.close() };
}
