/**
 * Authentication of gRPC calls, as nice-grpc server middleware on the
 * StreamHouse service (health checks stay open). A call's principal is:
 *
 * 1. the user of its `authorization: Bearer <token>` metadata, when sent (a
 *    token that does not verify fails the call, even beside a certificate);
 * 2. else the CN of its verified client certificate (principal.ts);
 * 3. else none: anonymous, refused with UNAUTHENTICATED in mode `required`.
 *
 * The principal is handed on under PRINCIPAL_METADATA_KEY, read with principalOf.
 */
import { Metadata, type CallContext, type ServerMiddlewareCall } from 'nice-grpc-common';
import { UnauthenticatedError } from '../protocol/errors.js';
import { PRINCIPAL_METADATA_KEY, principalOf } from '../agent/tls/principal.js';
import type { Authenticator } from './authenticator.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** The middleware for `authenticator`; in mode `off` it passes every call through untouched. */
export function authMiddleware(authenticator: Authenticator) {
  return async function* authenticate<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    if (authenticator.mode === 'off') return yield* call.next(call.request, context);
    const header = context.metadata.get('authorization');
    let principal = principalOf(context);
    if (header !== undefined) {
      const match = BEARER.exec(header);
      if (match === null) throw new UnauthenticatedError('authorization metadata must be `Bearer <token>`');
      principal = await authenticator.authenticateToken(match[1]!);
    }
    if (principal === undefined) {
      if (authenticator.mode === 'required') {
        throw new UnauthenticatedError('this agent requires authentication: send a bearer token or client certificate');
      }
      return yield* call.next(call.request, context);
    }
    const metadata = Metadata(context.metadata);
    metadata.delete('authorization');
    metadata.set(PRINCIPAL_METADATA_KEY, Buffer.from(principal, 'utf8'));
    return yield* call.next(call.request, { ...context, metadata });
  };
}
