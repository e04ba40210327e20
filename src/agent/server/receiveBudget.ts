/**
 * Bounds the bytes of requests grpc-js is still receiving, as
 * inflightRequests.ts bounds those whose handlers run: grpc-js buffers each
 * message whole before a handler (and the in-flight middleware) sees it, so
 * without this a burst of large requests over many connections could hold
 * any amount of memory while it arrives.
 *
 * Each gRPC message starts with a 5-byte prefix giving its length. As soon
 * as a stream's prefix arrives, a message larger than ALWAYS_ADMITTED_BYTES
 * reserves its declared length from the agent's in-flight budget; when it
 * does not fit, the call is answered at once with AGENT_BUSY (which
 * producers retry) and its stream reset before the rest of it is read. The
 * reservation is released when the message has arrived (its handler then
 * reserves it again) or the stream ends. So received-but-unhandled and
 * handled request bytes together stay within maxInflightRequestBytes, plus
 * at most ALWAYS_ADMITTED_BYTES per open stream, and grpc-js's per-connection
 * stream limit (MAX_CONCURRENT_STREAMS) caps how many streams there are.
 */
import http2 from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import type { InflightRequestBytes } from './inflightRequests.js';

/** HTTP/2 streams (calls) one connection may have open at once (`grpc.max_concurrent_streams`). */
export const MAX_CONCURRENT_STREAMS = 128;

const PREFIX_BYTES = 5;

/** Counts of what the receive bound did. */
export type ReceiveStats = { refusedStreams: number };

/**
 * Answers the stream at once with AGENT_BUSY (a trailers-only gRPC answer, as the in-flight middleware's refusal
 * reads), then resets it so the rest of the message is never read.
 */
function refuse(stream: http2.ServerHttp2Stream, path: string, bytes: number, budget: InflightRequestBytes): void {
  const method = path.slice(path.lastIndexOf('/') + 1);
  const message =
    `[AGENT_BUSY] ${method} request of ${bytes} bytes refused: ${budget.bytes} of ${budget.maxBytes} request ` +
    'bytes in flight (--max-inflight-request-bytes); retry after a backoff';
  try {
    if (!stream.headersSent) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(Status.RESOURCE_EXHAUSTED),
          // gRPC percent-encodes only `%` and bytes outside printable ASCII.
          'grpc-message': message.replace(/[^\x20-\x24\x26-\x7e]/g, (c) => encodeURIComponent(c)),
        },
        { endStream: true },
      );
    }
  } finally {
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  }
}

/** Watches every gRPC stream `server` opens, reserving each large message's bytes from `budget` as it arrives. */
export function boundReceives(server: http2.Http2Server, budget: InflightRequestBytes, stats: ReceiveStats): void {
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    let prefix = Buffer.alloc(0);
    let remaining = 0;
    let release: (() => void) | undefined;
    stream.on('close', () => release?.());
    stream.on('data', (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length && !stream.destroyed) {
        if (remaining > 0) {
          const taken = Math.min(remaining, chunk.length - at);
          remaining -= taken;
          at += taken;
          if (remaining === 0) release?.();
          continue;
        }
        const need = PREFIX_BYTES - prefix.length;
        prefix = Buffer.concat([prefix, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (prefix.length < PREFIX_BYTES) return;
        remaining = prefix.readUInt32BE(1);
        prefix = Buffer.alloc(0);
        release?.();
        // Larger than any request accepted: grpc-js refuses it as too large (RESOURCE_EXHAUSTED, not retried).
        if (remaining > budget.maxBytes) {
          release = undefined;
          continue;
        }
        release = budget.tryReserve(remaining);
        if (release === undefined) {
          stats.refusedStreams++;
          refuse(stream, String(headers[':path'] ?? ''), remaining, budget);
          return;
        }
        if (remaining === 0) release();
      }
    });
  });
}
