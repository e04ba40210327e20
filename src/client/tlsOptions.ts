/**
 * The clients' `tls` option: connect to agents over TLS, trusting `ca`
 * (default: Node's root CAs), showing `cert`/`key` when the agent asks for
 * a client certificate, and checking the agent's certificate against
 * `servername` instead of the dialled host.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ChannelCredentials, type ChannelOptions } from 'nice-grpc';
import { InvalidConfigError } from '../protocol/errors.js';

export type ClientTlsOptions = {
  /** PEM CA certificates the agent's certificate must chain to. Default Node's root CAs. */
  ca?: string | Buffer;
  /** PEM client certificate chain (mutual TLS); needs `key`. */
  cert?: string | Buffer;
  /** PEM private key of `cert`. */
  key?: string | Buffer;
  /** Name the agent's certificate must carry. Default the host dialled. */
  servername?: string;
};

/** Checks the option: PEM that parses, `cert` and `key` together; throws InvalidConfigError. */
export function checkClientTls(tls: ClientTlsOptions): ClientTlsOptions {
  if (typeof tls !== 'object' || tls === null) {
    throw new InvalidConfigError(`option tls must be an object { ca, cert, key, servername }, got ${String(tls)}`);
  }
  const { ca, cert, key, servername } = tls;
  for (const [name, value] of Object.entries({ ca, cert, key })) {
    if (value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) {
      throw new InvalidConfigError(`option tls.${name} must be a PEM string or Buffer, got ${typeof value}`);
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new InvalidConfigError('options tls.cert and tls.key go together: give both or neither');
  }
  if (servername !== undefined && (typeof servername !== 'string' || servername === '')) {
    throw new InvalidConfigError(`option tls.servername must be a non-empty string, got ${JSON.stringify(servername)}`);
  }
  try {
    // createSecureContext skips a CA that is not PEM: parsing it finds that.
    if (ca !== undefined) new X509Certificate(ca);
    createSecureContext({ ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert, key }) });
  } catch (error) {
    throw new InvalidConfigError(`option tls is not usable: ${(error as Error).message}`);
  }
  return tls;
}

/** The gRPC channel credentials and options for `tls`. */
export function tlsChannel(tls: ClientTlsOptions): { credentials: ChannelCredentials; options: ChannelOptions } {
  const pem = (value: string | Buffer | undefined) =>
    value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value);
  const credentials = ChannelCredentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
  const options: ChannelOptions =
    tls.servername === undefined
      ? {}
      : { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername };
  return { credentials, options };
}
