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
 * module wraps `http2.createServer`, which grpc-js calls when it binds a
 * port, to add the window to the SETTINGS every session starts with (the
 * per-stream window) and to raise each session's connection window. The
 * wrapper is installed once per process; each server gets the window set
 * last before it was created (an agent sets it just before it listens).
 */
import http2 from 'node:http2';

/** HTTP/2's largest window (2^31 - 1). */
export const MAX_HTTP2_WINDOW = 0x7fffffff;

const installed = Symbol.for('streamhouse.http2ReceiveWindow');

type CreateServer = typeof http2.createServer;
type WrappedCreateServer = CreateServer & { [installed]?: { window: number } };

/**
 * Makes HTTP/2 servers created from now on in this process announce a
 * receive window of `bytes` (at least HTTP/2's default, at most its maximum)
 * per stream and per connection, or more if the server's own settings ask
 * for more.
 */
export function useHttp2ReceiveWindow(bytes: number): void {
  const window = Math.min(Math.max(bytes, 65_535), MAX_HTTP2_WINDOW);
  const current = http2.createServer as WrappedCreateServer;
  const state = current[installed];
  if (state !== undefined) {
    state.window = window;
    return;
  }
  const original = current;
  const shared = { window };
  const wrapped = function createServer(...args: unknown[]): http2.Http2Server {
    const [first, ...rest] = args;
    const options: http2.ServerOptions = typeof first === 'object' && first !== null ? (first as http2.ServerOptions) : {};
    const handlerArgs = typeof first === 'function' ? [first, ...rest] : rest;
    const settings = { ...options.settings, initialWindowSize: Math.max(options.settings?.initialWindowSize ?? 0, shared.window) };
    const server = (original as (...a: unknown[]) => http2.Http2Server)({ ...options, settings }, ...handlerArgs);
    const connectionWindow = settings.initialWindowSize;
    server.on('session', (session: http2.ServerHttp2Session) => {
      // The connection window is not part of SETTINGS: it grows by a WINDOW_UPDATE.
      session.setLocalWindowSize(connectionWindow);
    });
    return server;
  } as unknown as WrappedCreateServer;
  wrapped[installed] = shared;
  http2.createServer = wrapped;
}
