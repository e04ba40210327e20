/**
 * The agent's HTTP port (node:http): Prometheus `/metrics`, `/healthz`
 * (the process runs) and `/readyz` (see readiness.ts): GET and HEAD only,
 * no request body. With a console (src/http/console/), its pages and its
 * JSON API (which alone takes POST and PUT, see jsonBody.ts) too. Bounded
 * connections and timeouts.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TlsCertificates } from '../agent/tls/tlsCertificates.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AgentMetrics } from './agentMetrics.js';
import type { ReadinessCheck } from './readiness.js';
import { apiError, sendJson } from './httpJson.js';

/** Extra paths served beside the fixed routes (the web console). */
export type HttpHandler = {
  /** Whether this handler serves `path`. */
  serves(path: string): boolean;
  /** Answers the request; a thrown error becomes a typed JSON error (see httpJson.ts). */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void>;
  close?(): void;
};

/** Most HTTP connections open at once; extra ones are closed. */
export const HTTP_MAX_CONNECTIONS = 64;
/** A request's headers must arrive within this, ms. */
export const HTTP_HEADERS_TIMEOUT_MS = 5000;
/** A whole request must arrive within this, ms. */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;
/** Most bytes of a refused request body read (and dropped) before its connection is destroyed. */
export const MAX_DISCARDED_BYTES = 64 * 1024;
/** An idle keep-alive connection is closed after this, ms. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;

export type HttpPortOptions = {
  host: string;
  port: number;
  metrics: AgentMetrics;
  readiness: ReadinessCheck;
  logger?: Logger | undefined;
  /** Serves more paths (the web console); default none. */
  handler?: HttpHandler | undefined;
  /** Serve HTTPS with these certificates (reloaded with them), asking for client certificates as they say. */
  tls?: TlsCertificates | undefined;
};

type Route = (response: ServerResponse) => Promise<void> | void;

export class HttpPort {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly handler: HttpHandler | undefined,
    private readonly stopReload: (() => void) | undefined,
  ) {}

  /** Listens on host:port (0 picks a free port). */
  static async listen(options: HttpPortOptions): Promise<HttpPort> {
    const routes = new Map<string, Route>([
      ['/metrics', (response) => serveMetrics(options.metrics, response)],
      ['/healthz', (response) => sendJson(response, 200, { status: 'ok' })],
      ['/readyz', (response) => serveReadiness(options.readiness, response)],
    ]);
    const listener: RequestListener = (request, response) => {
      handle(routes, options.handler, request, response).catch((err: unknown) => {
        const known = apiError(err);
        if (known === undefined) options.logger?.warn({ err, url: request.url }, 'http request failed');
        if (response.headersSent) return void response.destroy();
        // A body left unread (refused before reading it) is dropped, and the connection closed after the answer.
        const unread = !request.complete;
        if (unread) discardBody(request);
        if (known !== undefined) sendJson(response, known.status, known.body, unread);
        else sendJson(response, 500, { error: 'internal error' }, unread);
      });
    };
    const { tls } = options;
    let stopReload: (() => void) | undefined;
    let server: Server;
    if (tls === undefined) server = createServer(listener);
    else {
      const secure = createHttpsServer(tls.serverOptions(HTTP_HEADERS_TIMEOUT_MS), listener);
      secure.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      stopReload = tls.onReload((context) => secure.setSecureContext(context));
      server = secure;
    }
    server.maxConnections = HTTP_MAX_CONNECTIONS;
    server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
    server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS;
    server.maxHeadersCount = 100;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HttpPort(server, (server.address() as AddressInfo).port, options.handler, stopReload);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.handler?.close?.();
    this.stopReload?.();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

async function handle(
  routes: Map<string, Route>,
  handler: HttpHandler | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? '/').split('?', 1)[0]!;
  const route = routes.get(path);
  if (route === undefined && handler?.serves(path) === true) {
    return handler.handle(request, response, new URL(request.url ?? '/', 'http://agent'));
  }
  if (route === undefined) return sendJson(response, 404, { error: `no route ${path}` });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return sendJson(response, 405, { error: `method ${request.method} not allowed on ${path}` }, true);
  }
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) {
    discardBody(request);
    return sendJson(response, 400, { error: 'a GET request carries no body' }, true);
  }
  await route(response);
}

/**
 * Reads and drops a refused body (closing at once would reset the connection before the client reads the answer),
 * up to MAX_DISCARDED_BYTES; beyond that the connection is destroyed.
 */
export function discardBody(request: IncomingMessage): void {
  let bytes = 0;
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_DISCARDED_BYTES) request.socket.destroy();
  });
}

async function serveMetrics(metrics: AgentMetrics, response: ServerResponse): Promise<void> {
  const text = await metrics.text();
  response.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  response.end(text);
}

async function serveReadiness(readiness: ReadinessCheck, response: ServerResponse): Promise<void> {
  const state = await readiness.check();
  if (state.ready) sendJson(response, 200, { status: 'ready' });
  else sendJson(response, 503, { status: 'not ready', reason: state.reason });
}
