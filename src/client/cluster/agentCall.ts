/**
 * One call to an agent with a deadline, the way every producer and consumer
 * request is made: cancelled by the caller's signal, turned into RequestTimedOutError
 * (retriable) when the deadline passes, and, when the agent cannot be
 * reached, the connection is dropped, the agent left out of routing and the
 * cluster view refreshed, so the retry goes to another agent (or dials
 * afresh when there is none).
 *
 * @internal
 */
import { AgentUnavailableError, RequestTimedOutError, type ErrorContext } from '../../protocol/errors.js';
import type { StreamHouseClient } from '../agentClient.js';
import type { SchedulerLike } from 'rxjs';
import type { AgentTransport } from './agentTransport.js';
import type { ClusterMetadata } from './clusterMetadata.js';
import { deadline as startDeadline } from './deadline.js';

/** Where calls go and how long they may take. @internal */
export type AgentCallContext = {
  pool: AgentTransport;
  cluster: ClusterMetadata;
  /** Times the deadlines; default asyncScheduler. */
  scheduler?: SchedulerLike | undefined;
};

/**
 * Runs `call` against the agent at `address` within `timeoutMs`.
 *
 * @param what names the call in the timeout message, e.g. `fetch`
 */
export async function callAgent<T>(
  context: AgentCallContext,
  address: string,
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (client: StreamHouseClient, signal: AbortSignal) => Promise<T>,
  errorContext?: ErrorContext,
): Promise<T> {
  const timer = startDeadline(timeoutMs, context.scheduler);
  const deadline = timer.signal;
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  try {
    return await call(context.pool.get(address).client, combined);
  } catch (error) {
    if (deadline.aborted && signal?.aborted !== true) {
      throw new RequestTimedOutError(`${what} to ${address} took over ${timeoutMs} ms`, {
        cause: error,
        ...(errorContext === undefined ? {} : { context: errorContext }),
      });
    }
    if (error instanceof AgentUnavailableError) {
      context.pool.invalidate(address);
      context.cluster.markUnreachable(address);
      void context.cluster.refresh().catch(() => undefined);
    }
    throw error;
  } finally {
    timer.clear();
  }
}

/**
 * Calls that any agent can answer (group coordination, offsets): they go to
 * one agent, and move to the next known one after a transport failure or a
 * timeout. Live agents come first, then the bootstrap list.
 *
 * @internal
 */
export class AnyAgent {
  private index = 0;

  constructor(
    private readonly context: AgentCallContext,
    private readonly bootstrap: readonly string[],
  ) {}

  /** The agent calls go to now. */
  address(): string {
    const addresses = [...new Set([...this.context.cluster.liveAgents().values(), ...this.bootstrap])];
    return addresses[this.index % addresses.length]!;
  }

  /** Moves on to the next agent when `error` says this one is unreachable or too slow. */
  failed(error: unknown): void {
    if (error instanceof AgentUnavailableError || error instanceof RequestTimedOutError) this.index++;
  }

  /** {@link callAgent} against the current agent, moving on after a failure of the agent. */
  async call<T>(
    what: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    call: (client: StreamHouseClient, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await callAgent(this.context, this.address(), what, timeoutMs, signal, call);
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }
}
