/**
 * The principal of a call: the subject CN of the client certificate the
 * TLS handshake verified. A grpc-js interceptor puts it into the call's
 * metadata (dropping any value the client sent itself), where handlers and
 * middleware read it with {@link principalOf}.
 */
import { type Metadata, ServerInterceptingCall, ServerListenerBuilder, type ServerInterceptor } from '@grpc/grpc-js';
import type { CallContext } from 'nice-grpc-common';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';

/** Metadata key carrying the principal to handlers (binary: a CN may hold any UTF-8). */
export const PRINCIPAL_METADATA_KEY = 'x-streamhouse-principal-bin';

/** Sets the principal of each call from its connection's verified client certificate; logs it at debug level. */
export const principalInterceptor =
  (logger: Logger | undefined): ServerInterceptor =>
  (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata: Metadata, nextMetadata) => {
              metadata.remove(PRINCIPAL_METADATA_KEY);
              const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
              if (typeof cn === 'string' && cn !== '') {
                metadata.set(PRINCIPAL_METADATA_KEY, Buffer.from(cn, 'utf8'));
                if (logger?.isLevelEnabled('debug')) {
                  logger.debug({ principal: cn, peer: call.getPeer(), method: method.path }, 'call from principal');
                }
              }
              nextMetadata(metadata);
            })
            .build(),
        ),
    });

/** The CN of the call's verified client certificate, or undefined (no TLS, no or unverified certificate). */
export function principalOf(context: CallContext): string | undefined {
  const value = context.metadata.get(PRINCIPAL_METADATA_KEY);
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

/** The CN of the verified client certificate of a node:tls connection, or undefined (none shown, or not verified). */
export function socketPrincipal(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}
