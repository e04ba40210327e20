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
import type { KafkaContext } from './kafkaContext.js';
import { KafkaConnection, type ConnectionLimits } from './kafkaConnection.js';
import { createApis } from './apis.js';

export type KafkaListenerLimits = Partial<ConnectionLimits> & {
  maxFrameBytes: number;
  /** Connections beyond this are closed at once. Default 4096. */
  maxConnections?: number;
};

export class KafkaListener {
  private readonly server: Server;
  private readonly connections = new Set<KafkaConnection>();
  private readonly limits: ConnectionLimits;
  private readonly maxConnections: number;
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
    const apis = createApis({ sasl: ctx.authenticator !== undefined && ctx.authenticator.mode !== 'off' });
    this.server = createServer((socket: Socket) => {
      if (this.connections.size >= this.maxConnections) {
        ctx.logger?.warn({ maxConnections: this.maxConnections }, 'kafka connection refused: too many connections');
        socket.destroy();
        return;
      }
      const connection: KafkaConnection = new KafkaConnection(socket, apis, ctx, this.limits, () =>
        this.connections.delete(connection),
      );
      this.connections.add(connection);
    });
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.close();
    await closed;
  }
}
