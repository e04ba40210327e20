/**
 * gRPC side of the byte-rate quotas: a Produce is charged its request's
 * encoded size, a Fetch the records it returns, to the call's principal
 * (ANONYMOUS without one); a principal over its quota gets its answer after
 * the throttle delay, so a client sending one call at a time is held to its
 * rate. (Kafka connections are throttled by kafkaConnection.ts.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallContext, ServerMiddlewareCall } from 'nice-grpc-common';
import { encodedSize } from '../../protocol/grpc/requestDecoding.js';
import type { FetchResponse } from '../../protocol/generated/streamhouse.js';
import { principalOf } from '../tls/principal.js';
import type { ByteRateQuotas } from './byteRateQuotas.js';
import { ANONYMOUS } from '../../metadata/aclRules.js';

/** Server middleware delaying Produce and Fetch answers of principals over their quota. */
export function quotaMiddleware(produce: ByteRateQuotas, fetch: ByteRateQuotas) {
  return async function* quotas<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const name = call.method.path.slice(call.method.path.lastIndexOf('/') + 1);
    const quota = name === 'Produce' ? produce : name === 'Fetch' ? fetch : undefined;
    if (quota === undefined || call.requestStream || call.responseStream) {
      return yield* call.next(call.request, context);
    }
    const principal = principalOf(context) ?? ANONYMOUS;
    if (quota.rateOf(principal) <= 0) return yield* call.next(call.request, context);
    const response = yield* call.next(call.request, context);
    const bytes = quota === produce ? (encodedSize(call.request) ?? 0) : fetchedBytes(response as FetchResponse);
    const throttleMs = quota.record(principal, bytes);
    if (throttleMs > 0) await sleep(throttleMs, undefined, { signal: context.signal }).catch(() => undefined);
    return response;
  };
}

function fetchedBytes(response: FetchResponse | undefined): number {
  let bytes = 0;
  for (const result of response?.results ?? []) bytes += result.records.length;
  return bytes;
}
