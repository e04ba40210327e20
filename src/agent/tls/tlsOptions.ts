/** The agent's `tls` option: certificate files of its gRPC listener, and whether clients must show one. */
import { InvalidConfigError } from '../../protocol/errors.js';

/**
 * `none`: no client certificate asked for; `optional`: asked for, checked when given; `required`: refused without one.
 */
export type ClientAuth = 'none' | 'optional' | 'required';

export type AgentTlsOptions = {
  /** PEM certificate chain the agent presents. */
  certFile: string;
  /** PEM private key of `certFile`. */
  keyFile: string;
  /** PEM CA certificates client certificates are checked against; needed unless clientAuth is `none`. */
  caFile?: string;
  /** Default `none`. */
  clientAuth?: ClientAuth;
};

export type ResolvedAgentTls = {
  certFile: string;
  keyFile: string;
  caFile: string | undefined;
  clientAuth: ClientAuth;
};

const CLIENT_AUTH: readonly ClientAuth[] = ['none', 'optional', 'required'];

/** Checks the option's shape (the files are read when the agent starts). */
export function resolveTlsOptions(tls: AgentTlsOptions): ResolvedAgentTls {
  const { certFile, keyFile, caFile, clientAuth = 'none' } = tls;
  for (const [name, value] of [
    ['certFile', certFile],
    ['keyFile', keyFile],
  ] as const) {
    if (typeof value !== 'string' || value === '') {
      throw new InvalidConfigError(`agent option tls.${name} must be a file path, got ${JSON.stringify(value)}`);
    }
  }
  if (caFile !== undefined && (typeof caFile !== 'string' || caFile === '')) {
    throw new InvalidConfigError(`agent option tls.caFile must be a file path, got ${JSON.stringify(caFile)}`);
  }
  if (!CLIENT_AUTH.includes(clientAuth)) {
    throw new InvalidConfigError(
      `agent option tls.clientAuth must be one of ${CLIENT_AUTH.join(', ')}, got ${JSON.stringify(clientAuth)}`,
    );
  }
  if (clientAuth !== 'none' && caFile === undefined) {
    throw new InvalidConfigError(
      `agent option tls.clientAuth '${clientAuth}' needs tls.caFile to check clients against`,
    );
  }
  return { certFile, keyFile, caFile, clientAuth };
}
