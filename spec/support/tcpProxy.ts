/**
 * Test support: a loopback TCP proxy in front of one target port, which a
 * test can make cut every connection through it (both sides reset at once),
 * as a network failure between a client and an agent would.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running proxy. */
export type TcpProxy = {
  /** Port clients connect to. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Resets every open connection (client and target side); new ones are let through. Returns how many were cut. */
  cutAll(): number;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
};

/**
 * Listens on `port` (0 = any free port) of 127.0.0.1 and forwards every
 * connection to 127.0.0.1:`targetPort`.
 */
export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const target = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, target];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
    client.pipe(target);
    target.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const listening = typeof address === 'object' && address !== null ? address.port : port;
  const cutAll = (): number => {
    const cut = pairs.size;
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of pair) if (!socket.destroyed) socket.resetAndDestroy();
    }
    return cut;
  };
  return {
    port: listening,
    address: `127.0.0.1:${listening}`,
    get accepted() {
      return accepted;
    },
    cutAll,
    close() {
      cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
