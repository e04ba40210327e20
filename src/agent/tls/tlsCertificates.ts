/**
 * The certificates of an agent's TLS listener, read from their files at
 * start and again on {@link TlsCertificates.reload}. They are handed to
 * grpc-js as a certificate provider, which swaps the listening server's
 * secure context in place: new connections get the new certificates,
 * open ones keep theirs, nothing is rebound.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { InvalidConfigError } from '../../protocol/errors.js';
import type { ResolvedAgentTls } from './tlsOptions.js';

type Files = { cert: Buffer; key: Buffer; ca: Buffer | undefined };
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export class TlsCertificates implements experimental.CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly reloadListeners = new Set<(options: SecureContextOptions) => void>();

  private constructor(
    readonly options: ResolvedAgentTls,
    private files: Files,
  ) {}

  /** Reads and checks the files; fails with InvalidConfigError naming what is wrong. */
  static async load(options: ResolvedAgentTls): Promise<TlsCertificates> {
    return new TlsCertificates(options, await readFiles(options));
  }

  /**
   * Reads the files again and serves them to new connections. When they do
   * not read or do not form a valid certificate and key, the ones in use are
   * kept and InvalidConfigError is thrown.
   */
  async reload(): Promise<void> {
    this.files = await readFiles(this.options);
    const { cert, key, ca } = this.files;
    if (ca !== undefined) for (const listener of this.caListeners) listener({ caCertificate: ca });
    for (const listener of this.identityListeners) listener({ certificate: cert, privateKey: key });
    for (const listener of this.reloadListeners) listener(this.secureContextOptions());
  }

  /** The certificate, key and CA in use, for a node:tls secure context. */
  secureContextOptions(): SecureContextOptions {
    const { cert, key, ca } = this.files;
    return { cert, key, ...(ca === undefined ? {} : { ca }) };
  }

  /**
   * Options of a node:tls (or https) server serving these certificates, asking for client certificates as
   * `clientAuth` says: `optional` lets a client without a valid one in (it then has no principal).
   */
  serverOptions(handshakeTimeoutMs: number): TlsOptions {
    const { clientAuth } = this.options;
    return {
      ...this.secureContextOptions(),
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'required',
      handshakeTimeout: handshakeTimeoutMs,
    };
  }

  /**
   * Calls `listener` with the new files after each successful reload (a node:tls server passes them to
   * `setSecureContext`); returns its removal.
   */
  onReload(listener: (options: SecureContextOptions) => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /**
   * Server credentials serving these certificates, with client certificates as the agent's options ask (the
   * principal is set by principalInterceptor, installed on every agent server).
   */
  credentials(): ServerCredentials {
    const { clientAuth } = this.options;
    // grpc-js passes its first argument on as the identity provider and its second as the CA provider.
    return experimental.createCertificateProviderServerCredentials(
      this,
      clientAuth === 'none' ? null : this,
      clientAuth === 'required',
    );
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // Later than now: grpc-js registers its own watcher after adding this listener.
    const ca = this.files.ca;
    if (ca !== undefined) process.nextTick(() => listener({ caCertificate: ca }));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    const { cert, key } = this.files;
    process.nextTick(() => listener({ certificate: cert, privateKey: key }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

async function readFiles(options: ResolvedAgentTls): Promise<Files> {
  const read = async (name: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new InvalidConfigError(`TLS ${name} ${path} cannot be read: ${(error as Error).message}`);
    }
  };
  const cert = await read('certificate', options.certFile);
  const key = await read('key', options.keyFile);
  const ca = options.caFile === undefined ? undefined : await read('CA file', options.caFile);
  try {
    // Throws on unparsable PEM and on a key that does not match the certificate.
    createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) });
  } catch (error) {
    const withCa = options.caFile === undefined ? '' : ` with CA ${options.caFile}`;
    const files = `TLS certificate ${options.certFile} and key ${options.keyFile}${withCa}`;
    throw new InvalidConfigError(`${files} are not usable: ${(error as Error).message}`);
  }
  return { cert, key, ca };
}
