/**
 * The agent's Kafka port: a TCP server whose connections speak the Kafka
 * protocol (see kafkaConnection.ts) and whose handlers call the agent's own
 * service, so Kafka clients and our gRPC clients share topics, offsets and
 * groups.
 *
 * ```ts
 * const listener = new KafkaListener(context, { maxFrameBytes: 64 << 20 });
 * await listener.listen('127.0.0.1', 9092);
 * ```
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { KafkaContext } from './kafkaContext.js';
import { KafkaConnection, type ConnectionLimits } from './kafkaConnection.js';
import { createApis } from './apis.js';
import type { TlsCertificates } from '../agent/tls/tlsCertificates.js';
import { socketPrincipal } from '../agent/tls/principal.js';
import { ConnectionsPerAddress } from '../agent/server/addressLimits.js';

export type KafkaListenerLimits = Partial<ConnectionLimits> & {
  maxFrameBytes: number;
  /** Connections beyond this are closed at once. Default 4096. */
  maxConnections?: number;
  /** Connections from one client address beyond this are closed at once. Default unbounded. */
  maxConnectionsPerAddress?: number;
  /** Serve TLS with these certificates (reloaded with them); client certificates as their clientAuth says. */
  tls?: TlsCertificates | undefined;
  /** With TLS: a connection whose TLS handshake is not done within this is closed, ms. Default 10000. */
  handshakeTimeoutMs?: number;
};

export class KafkaListener {
  private readonly server: Server;
  private readonly connections = new Set<KafkaConnection>();
  private readonly limits: ConnectionLimits;
  private readonly maxConnections: number;
  private readonly perAddress: ConnectionsPerAddress;
  private readonly stopReload: (() => void) | undefined;
  private boundPort = 0;

  constructor(
    private readonly ctx: KafkaContext,
    limits: KafkaListenerLimits,
  ) {
    this.limits = {
      maxFrameBytes: limits.maxFrameBytes,
      maxInFlightRequests: limits.maxInFlightRequests ?? 32,
      maxInFlightBytes: limits.maxInFlightBytes ?? limits.maxFrameBytes,
    };
    this.maxConnections = limits.maxConnections ?? 4096;
    this.perAddress = new ConnectionsPerAddress(limits.maxConnectionsPerAddress ?? Number.MAX_SAFE_INTEGER);
    const apis = createApis({ sasl: ctx.authenticator !== undefined && ctx.authenticator.mode !== 'off' });
    const accept = (socket: Socket, principal: string | undefined) => {
      if (this.connections.size >= this.maxConnections) {
        ctx.logger?.warn({ maxConnections: this.maxConnections }, 'kafka connection refused: too many connections');
        socket.destroy();
        return;
      }
      const release = this.perAddress.admit(socket.remoteAddress);
      if (release === undefined) {
        ctx.logger?.warn(
          { address: socket.remoteAddress, maxConnectionsPerAddress: this.perAddress.max },
          'kafka connection refused: too many connections from its address',
        );
        socket.destroy();
        return;
      }
      const connection: KafkaConnection = new KafkaConnection(socket, apis, ctx, this.limits, principal, () => {
        release();
        this.connections.delete(connection);
      });
      this.connections.add(connection);
    };
    const { tls } = limits;
    if (tls === undefined) {
      this.server = createServer((socket: Socket) => accept(socket, undefined));
      return;
    }
    const server = createTlsServer(tls.serverOptions(limits.handshakeTimeoutMs ?? 10_000), (socket: TLSSocket) =>
      accept(socket, socketPrincipal(socket)),
    );
    // A plain-text client, a wrong CA, an expired or missing client certificate: the handshake fails, socket closed.
    server.on('tlsClientError', (err: Error, socket: Socket) => {
      ctx.logger?.debug({ err, address: socket.remoteAddress }, 'kafka TLS handshake failed');
      socket.destroy();
    });
    this.stopReload = tls.onReload((options) => server.setSecureContext(options));
    this.server = server;
  }

  /** Connections refused so far for their client address holding maxConnectionsPerAddress already. */
  get refusedPerAddress(): number {
    return this.perAddress.refused;
  }

  /** The port bound (the real one when asked for 0). */
  get port(): number {
    return this.boundPort;
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    this.boundPort = typeof address === 'object' && address !== null ? address.port : port;
    this.ctx.logger?.info({ host, port: this.boundPort }, 'kafka listener started');
  }

  /** Stops accepting, closes every connection (their long polls end), waits for the server to close. */
  async close(): Promise<void> {
    this.stopReload?.();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.close();
    await closed;
  }
}
