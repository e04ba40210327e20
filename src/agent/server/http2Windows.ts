/**
 * Larger HTTP/2 receive windows for the agent's gRPC server.
 *
 * HTTP/2 lets a sender put only as many bytes on the wire as the receiver's
 * window allows: 64 KiB per stream and per connection by default, refilled
 * by WINDOW_UPDATE frames as the receiver reads. A producer sends batches of
 * a MiB or more while its event loop is busy accepting records, so it only
 * sees each WINDOW_UPDATE between its bursts of work; with 64 KiB windows a
 * 1 MiB Produce took hundreds of ms to arrive (bench/producer: ack p50
 * 270 ms at saturation, 30 ms with large windows, and 15 % more records/s).
 * The agent buffers each whole message before decoding it anyway (grpc-js
 * does), so a window as large as the largest accepted message costs no
 * memory that the message would not take.
 *
 * grpc-js (1.14) lets clients set their window ('grpc-node.flow_control_window')
 * but not servers, and nice-grpc does not expose the grpc-js server. So this
 * module wraps `http2.createServer`, which grpc-js calls while it binds a
 * port, to add the window to the SETTINGS every session starts with (the
 * per-stream window) and to raise each session's connection window (and
 * `http2.createSecureServer` likewise, for TLS listeners). The
 * wrapper is installed once per process and changes only the servers created
 * while an agent starts listening ({@link withHttp2ReceiveWindow}); other
 * HTTP/2 servers of the process keep Node's defaults.
 */
import http2 from 'node:http2';

/** HTTP/2's largest window (2^31 - 1). */
export const MAX_HTTP2_WINDOW = 0x7fffffff;
/** HTTP/2's default window. */
const DEFAULT_HTTP2_WINDOW = 65_535;

const installed = Symbol.for('streamhouse.http2ReceiveWindow');

/** The windows asked for by the `withHttp2ReceiveWindow` calls under way. */
type WindowRequests = { windows: number[] };
type WrappedCreateServer = typeof http2.createServer & { [installed]?: WindowRequests };

/**
 * Runs `start` (an agent's listen) so that the HTTP/2 servers it creates
 * announce a receive window of `bytes` per stream and per connection (at
 * least HTTP/2's default, at most its maximum; the largest asked for when
 * several agents start at once; more if a server's own settings ask for more).
 */
export async function withHttp2ReceiveWindow<T>(bytes: number, start: () => Promise<T>): Promise<T> {
  const requests = install();
  const window = Math.min(Math.max(bytes, DEFAULT_HTTP2_WINDOW), MAX_HTTP2_WINDOW);
  requests.windows.push(window);
  try {
    return await start();
  } finally {
    requests.windows.splice(requests.windows.indexOf(window), 1);
  }
}

function install(): WindowRequests {
  const existing = (http2.createServer as WrappedCreateServer)[installed];
  if (existing !== undefined) return existing;
  const requests: WindowRequests = { windows: [] };
  // Plain-text and TLS listeners alike.
  http2.createServer = wrap(http2.createServer, requests) as typeof http2.createServer;
  http2.createSecureServer = wrap(http2.createSecureServer, requests) as typeof http2.createSecureServer;
  return requests;
}

function wrap(original: unknown, requests: WindowRequests): WrappedCreateServer {
  const wrapped = function createServer(...args: unknown[]): http2.Http2Server {
    const create = original as (...a: unknown[]) => http2.Http2Server;
    if (requests.windows.length === 0) return create(...args);
    const [first, ...rest] = args;
    const options: http2.ServerOptions =
      typeof first === 'object' && first !== null ? (first as http2.ServerOptions) : {};
    const handlerArgs = typeof first === 'function' ? [first, ...rest] : rest;
    const window = Math.max(options.settings?.initialWindowSize ?? 0, ...requests.windows);
    const server = create({ ...options, settings: { ...options.settings, initialWindowSize: window } }, ...handlerArgs);
    server.on('session', (session: http2.ServerHttp2Session) => {
      // The connection window is not part of SETTINGS: it grows by a WINDOW_UPDATE.
      session.setLocalWindowSize(window);
    });
    return server;
  } as unknown as WrappedCreateServer;
  wrapped[installed] = requests;
  return wrapped;
}
