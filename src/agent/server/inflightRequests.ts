/**
 * The bound on request bytes an agent holds at once: every call reserves
 * its request's encoded size from one budget while its handler runs (a
 * Produce holds its batches until they are acknowledged), and a call that
 * would take the budget past `maxBytes` is refused at once with AgentBusyError,
 * which producers retry after a backoff. Requests of at most
 * ALWAYS_ADMITTED_BYTES are neither counted nor refused, so control calls
 * (health, metadata, heartbeats, small fetches) keep working under a flood
 * of large produces.
 */
import type { CallContext, ServerMiddlewareCall } from 'nice-grpc-common';
import { AgentBusyError } from '../../protocol/errors.js';
import { encodedSize } from '../../protocol/grpc/requestDecoding.js';

/** Default of AgentOptions.maxInflightRequestBytes: 256 MiB. */
export const DEFAULT_MAX_INFLIGHT_REQUEST_BYTES = 256 * 1024 * 1024;
/** Requests this small are admitted without counting. */
export const ALWAYS_ADMITTED_BYTES = 64 * 1024;

export class InflightRequestBytes {
  private inUse = 0;
  private highest = 0;
  private refused = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved now. */
  get bytes(): number {
    return this.inUse;
  }

  /** The most bytes ever reserved at once (never above maxBytes). */
  get peakBytes(): number {
    return this.highest;
  }

  /** Requests refused so far. */
  get refusals(): number {
    return this.refused;
  }

  /** Reserves `bytes` as {@link reserve} does, but answers undefined (counted as a refusal) when they do not fit. */
  tryReserve(bytes: number): (() => void) | undefined {
    if (bytes > ALWAYS_ADMITTED_BYTES && this.inUse + bytes > this.maxBytes) {
      this.refused++;
      return undefined;
    }
    return this.reserve(bytes, '');
  }

  /** Reserves `bytes` and returns their release (idempotent); throws AgentBusyError when they do not fit. */
  reserve(bytes: number, method: string): () => void {
    if (bytes <= ALWAYS_ADMITTED_BYTES) return () => undefined;
    if (this.inUse + bytes > this.maxBytes) {
      this.refused++;
      throw new AgentBusyError(
        `${method} request of ${bytes} bytes refused: ${this.inUse} of ${this.maxBytes} request bytes in flight ` +
          `(--max-inflight-request-bytes); retry after a backoff`,
      );
    }
    this.inUse += bytes;
    this.highest = Math.max(this.highest, this.inUse);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= bytes;
    };
  }

  /** Server middleware holding each call's reservation while its handler runs. */
  middleware() {
    const budget = this;
    return async function* inflightBytes<Request, Response>(
      call: ServerMiddlewareCall<Request, Response>,
      context: CallContext,
    ): AsyncGenerator<Response, Response | void, undefined> {
      const { path } = call.method;
      const release = budget.reserve(encodedSize(call.request) ?? 0, path.slice(path.lastIndexOf('/') + 1));
      try {
        return yield* call.next(call.request, context);
      } finally {
        release();
      }
    };
  }
}
