/**
 * Authentication of the console's JSON API, with the rules of gRPC calls
 * (src/auth/grpcAuth.ts). A request's principal is:
 *
 * 1. the user of its `Authorization` header, when sent: `Bearer <token>`
 *    (checked as a gRPC token) or `Basic base64(user:password)` (checked as
 *    SASL/PLAIN, within the same bound on concurrent password checks); a
 *    header that does not verify fails the request, even beside a certificate;
 * 2. else the CN of the connection's verified TLS client certificate;
 * 3. else none: anonymous, refused in mode `required`.
 *
 * Mode `off` ignores the header: the principal is the certificate's CN, if any.
 */
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { socketPrincipal } from '../../agent/tls/principal.js';
import type { Authenticator } from '../../auth/authenticator.js';
import { UnauthenticatedError } from '../../protocol/errors.js';

/** The `WWW-Authenticate` value of a 401 answer: both schemes accepted. */
export const WWW_AUTHENTICATE = 'Bearer realm="streamhouse", Basic realm="streamhouse", charset="UTF-8"';
/** Longest Authorization header read; longer ones are refused unread (a token is at most 1 KiB). */
export const MAX_AUTHORIZATION_LENGTH = 4096;

const BEARER = /^Bearer +(\S+) *$/i;
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/** The request's principal, or undefined (anonymous); UnauthenticatedError when refused. */
export async function httpPrincipal(
  authenticator: Authenticator | undefined,
  request: IncomingMessage,
): Promise<string | undefined> {
  const certificate = request.socket instanceof TLSSocket ? socketPrincipal(request.socket) : undefined;
  if (authenticator === undefined || authenticator.mode === 'off') return certificate;
  const header = request.headers.authorization;
  if (header === undefined) {
    if (certificate === undefined && authenticator.mode === 'required') {
      throw new UnauthenticatedError(
        'this agent requires authentication: send a bearer token, HTTP Basic credentials or a client certificate',
      );
    }
    return certificate;
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH) throw new UnauthenticatedError('authorization header too long');
  const bearer = BEARER.exec(header);
  if (bearer !== null) return authenticator.authenticateToken(bearer[1]!);
  const basic = BASIC.exec(header);
  if (basic === null) {
    throw new UnauthenticatedError('the authorization header must be `Bearer <token>` or `Basic <credentials>`');
  }
  const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UnauthenticatedError('Basic credentials must be base64 of `user:password`');
  // RFC 7617 user-pass, checked as the SASL/PLAIN message `NUL user NUL password`.
  return authenticator.authenticatePlain(Buffer.from(`\0${text.slice(0, colon)}\0${text.slice(colon + 1)}`, 'utf8'));
}
