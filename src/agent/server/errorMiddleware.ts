/**
 * The one place where domain errors become gRPC statuses: handlers throw
 * StreamHouse errors, this middleware turns them into `ServerError`s whose
 * details carry the exact code (see toServerError). A request that did not
 * decode is answered here with its typed error, before any handler runs.
 */
import type { CallContext, ServerMiddlewareCall } from 'nice-grpc-common';
import { toServerError } from '../../protocol/errors.js';
import { UndecodableRequest } from '../../protocol/grpc/requestDecoding.js';

export async function* errorMiddleware<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  if (call.request instanceof UndecodableRequest) throw toServerError(call.request.error);
  try {
    return yield* call.next(call.request, context);
  } catch (error) {
    // A call the client cancelled ends as nice-grpc expects; there is nobody to read a status.
    if (context.signal.aborted) throw error;
    throw toServerError(error);
  }
}
