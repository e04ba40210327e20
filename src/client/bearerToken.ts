/**
 * The bearer token a client sends to agents that authenticate (see
 * docs/security.md): nice-grpc client middleware adding
 * `authorization: Bearer <token>` to every call.
 */
import type { CallOptions, ClientMiddlewareCall } from 'nice-grpc-common';
import { Metadata } from 'nice-grpc-common';
import { InvalidConfigError } from '../protocol/errors.js';

/** Longest token accepted (agents refuse longer ones unread). */
const MAX_TOKEN_LENGTH = 1024;
const TOKEN = /^[\x21-\x7e]+$/;

/** Throws InvalidConfigError unless `token` can travel as a metadata value (1..1024 printable ASCII). */
export function checkToken(token: string): string {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) {
    throw new InvalidConfigError(`token must be 1 to ${MAX_TOKEN_LENGTH} printable ASCII characters without spaces`);
  }
  return token;
}

/** Client middleware sending `token` with every call. */
export function bearerToken(token: string) {
  const value = `Bearer ${checkToken(token)}`;
  return async function* sendToken<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    options: CallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const metadata = Metadata(options.metadata);
    metadata.set('authorization', value);
    return yield* call.next(call.request, { ...options, metadata });
  };
}
