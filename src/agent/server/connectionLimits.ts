/**
 * Limits on the connections of an agent's gRPC server, which nice-grpc does
 * not expose: at most `maxConnections` open at once (Node's
 * `server.maxConnections`: the kernel accepts, Node closes the extra socket
 * at once), and a connection that has not sent its HTTP/2 preface and
 * SETTINGS within `handshakeTimeoutMs` is destroyed, so silent sockets do
 * not hold file descriptors. Idle HTTP/2 sessions are closed by grpc-js
 * itself (`grpc.max_connection_idle_ms`, see agent.ts).
 *
 * As http2Windows.ts does, {@link withConnectionLimits} wraps
 * `http2.createServer`, which grpc-js calls while it binds a port; listens
 * under it run one at a time in a process, so each server gets the limits
 * of the agent whose listen created it.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { ConnectionsPerAddress } from './addressLimits.js';

/** Default of AgentOptions.maxConnections. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default of AgentOptions.handshakeTimeoutMs. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default of AgentOptions.connectionIdleTimeoutMs: 5 minutes. */
export const DEFAULT_CONNECTION_IDLE_TIMEOUT_MS = 300_000;

/** The limits of one agent's connections. */
export type ConnectionLimits = {
  /** Most connections open at once (per listening address); extra ones are closed at once. */
  maxConnections: number;
  /** A connection is destroyed unless the client's HTTP/2 SETTINGS arrive within this, ms. */
  handshakeTimeoutMs: number;
  /** Most connections one client address holds open at once; extra ones are closed at once. */
  maxConnectionsPerAddress: number;
};

/** What the limits did so far. */
export type ConnectionStats = {
  /** Connections open now. */
  open: number;
  /** Connections closed at once because `maxConnections` were open. */
  refused: number;
  /** Connections destroyed because no HTTP/2 handshake came in time. */
  handshakeTimeouts: number;
  /** Connections closed at once because their client address held `maxConnectionsPerAddress`. */
  refusedPerAddress: number;
};

const installed = Symbol.for('streamhouse.connectionLimits');

/** The agent whose listen is under way, if any. */
type Current =
  | { limits: ConnectionLimits; stats: ConnectionStats; onServer: ((server: http2.Http2Server) => void) | undefined }
  | undefined;
type Hook = { current: Current; queue: Promise<unknown> };
type WrappedCreateServer = typeof http2.createServer & { [installed]?: Hook };

/**
 * Runs `start` (an agent's listen) so that the HTTP/2 servers it creates
 * keep `limits`; `stats` is updated as connections come and go. `onServer`
 * is given each server created, to watch it further.
 */
export function withConnectionLimits<T>(
  limits: ConnectionLimits,
  stats: ConnectionStats,
  start: () => Promise<T>,
  onServer?: (server: http2.Http2Server) => void,
): Promise<T> {
  const hook = install();
  const run = hook.queue.then(async () => {
    hook.current = { limits, stats, onServer };
    try {
      return await start();
    } finally {
      hook.current = undefined;
    }
  });
  hook.queue = run.catch(() => undefined);
  return run;
}

function install(): Hook {
  const existing = (http2.createServer as WrappedCreateServer)[installed];
  if (existing !== undefined) return existing;
  const hook: Hook = { current: undefined, queue: Promise.resolve() };
  // Plain-text and TLS listeners alike.
  http2.createServer = wrap(http2.createServer, hook) as typeof http2.createServer;
  http2.createSecureServer = wrap(http2.createSecureServer, hook, true) as typeof http2.createSecureServer;
  return hook;
}

function wrap(original: unknown, hook: Hook, secure = false): WrappedCreateServer {
  const wrapped = function createServer(...args: unknown[]): http2.Http2Server {
    const create = original as (...a: unknown[]) => http2.Http2Server;
    const current = hook.current;
    if (current === undefined) return create(...args);
    const [first, ...rest] = args;
    // A TLS handshake not done within handshakeTimeoutMs fails (the HTTP/2 one is timed once it is done).
    const server =
      secure && typeof first === 'object' && first !== null
        ? create({ ...first, handshakeTimeout: current.limits.handshakeTimeoutMs }, ...rest)
        : create(...args);
    if (secure) {
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
        if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') current.stats.handshakeTimeouts++;
        socket.destroy();
      });
    }
    limit(server, current.limits, current.stats);
    current.onServer?.(server);
    return server;
  } as unknown as WrappedCreateServer;
  wrapped[installed] = hook;
  return wrapped;
}

function limit(server: http2.Http2Server, limits: ConnectionLimits, stats: ConnectionStats): void {
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => stats.refused++);
  const perAddress = new ConnectionsPerAddress(limits.maxConnectionsPerAddress);
  server.on('connection', (socket: Socket) => {
    stats.open++;
    socket.once('close', () => stats.open--);
    const release = perAddress.admit(socket.remoteAddress);
    if (release === undefined) {
      stats.refusedPerAddress++;
      socket.destroy();
      return;
    }
    socket.once('close', release);
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    const timer = setTimeout(() => {
      stats.handshakeTimeouts++;
      session.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    session.once('remoteSettings', clear);
    session.once('close', clear);
  });
}
