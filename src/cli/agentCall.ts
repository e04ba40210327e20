/**
 * How the client commands talk to an agent: every call has a deadline
 * (`--timeout-ms`), and a transport failure or a missed deadline becomes
 * AGENT_UNAVAILABLE naming the address, so a wrong address or an agent that
 * is down ends the command with a clear message instead of a wait.
 */
import { type Command, Option } from 'commander';
import { createClientFactory } from 'nice-grpc';
import type { CallOptions, ClientMiddlewareCall } from 'nice-grpc-common';
import { connectAgent, type StreamHouseClient } from '../client/agentClient.js';
import { StreamHouseService } from '../protocol/grpc/serviceDefinition.js';
import { AgentUnavailableError, fromGrpcError } from '../protocol/errors.js';
import { agentOption, clientTls, type AgentFlags } from './agentOption.js';
import { integerOption } from './integerOption.js';
import { bearerToken } from '../client/bearerToken.js';

/** Default deadline of one call to the agent, ms. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Flags every client command takes. */
export type ClientFlags = AgentFlags & {
  timeoutMs: number;
  json?: boolean;
};

/** Adds --agent, --timeout-ms and --json to a client command. */
export function clientOptions(command: Command): Command {
  return command
    .addOption(agentOption())
    .addOption(
      new Option('--timeout-ms <ms>', 'deadline of each call to the agent')
        .argParser(integerOption('--timeout-ms', { min: 1, max: 3_600_000 }))
        .default(DEFAULT_TIMEOUT_MS),
    )
    .option('--json', 'machine-readable output (JSON)');
}

function deadline(address: string, timeoutMs: number) {
  return async function* <Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    options: CallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    try {
      return yield* call.next(call.request, { ...options, signal });
    } catch (error) {
      if (timeout.aborted && options.signal?.aborted !== true) {
        throw new AgentUnavailableError(`no agent answers at ${address} within ${timeoutMs} ms`);
      }
      const mapped = fromGrpcError(error);
      // Transport failures carry gRPC's own details; errors the agent sent keep theirs.
      if (mapped instanceof AgentUnavailableError && mapped.message.startsWith('UNAVAILABLE:')) {
        throw new AgentUnavailableError(`no agent answers at ${address}`, { cause: error });
      }
      throw mapped;
    }
  };
}

/** Runs `fn` with a client of the agent at `flags.agent`, closing the channel after. */
export async function withAgent<T>(flags: ClientFlags, fn: (client: StreamHouseClient) => Promise<T>): Promise<T> {
  const tls = clientTls(flags);
  const connection = connectAgent(flags.agent, tls === undefined ? {} : { tls });
  const factory = createClientFactory().use(deadline(flags.agent, flags.timeoutMs));
  const client = (flags.token === undefined ? factory : factory.use(bearerToken(flags.token))).create(
    StreamHouseService,
    connection.channel,
  ) as StreamHouseClient;
  try {
    return await fn(client);
  } finally {
    connection.close();
  }
}
