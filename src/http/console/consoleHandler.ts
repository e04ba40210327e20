/**
 * The web console on the agent's HTTP port: its pages at `/` and
 * `/console/...`, and the JSON API behind them under `/api/...`. The API runs
 * the agent's own service (inProcessClient.ts) with the CLI's logic; errors
 * are typed JSON (httpJson.ts), mutations take a bounded same-origin JSON
 * body (jsonBody.ts). Each API request is authenticated (httpAuth.ts) and
 * runs the service as its principal, so ACLs apply as on gRPC.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../../auth/authenticator.js';
import type { StreamHouseClient } from '../../client/agentClient.js';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import { MAX_PARTITIONS } from '../../metadata/validation.js';
import { InvalidRequestError, UnauthenticatedError } from '../../protocol/errors.js';
import type { StreamHouseServiceImplementation } from '../../protocol/generated/streamhouse.js';
import type { AgentMetrics } from '../agentMetrics.js';
import type { HttpHandler } from '../httpPort.js';
import { HttpError, sendJson } from '../httpJson.js';
import { readJsonBody } from '../jsonBody.js';
import { integerText } from './apiInput.js';
import { asset, isAsset } from './consoleAssets.js';
import { groupDetail, listGroups, resetGroupOffsets } from './groupsApi.js';
import { httpPrincipal, WWW_AUTHENTICATE } from './httpAuth.js';
import { inProcessClient } from './inProcessClient.js';
import { overview } from './overviewApi.js';
import { RATE_SAMPLE_MS, RateHistory } from './rateHistory.js';
import { produceRecord, readRecords } from './recordsApi.js';
import { alterTopic, topicDetail } from './topicsApi.js';

export type ConsoleOptions = {
  service: StreamHouseServiceImplementation;
  metadataStore: MetadataStore;
  metrics: AgentMetrics;
  agentId: string;
  agentTtlMs: number;
  /** Time between samples of the rate chart, ms. Default RATE_SAMPLE_MS. */
  rateSampleMs?: number;
  /** Authenticates API requests (httpAuth.ts); default none: every request anonymous or its certificate's CN. */
  authenticator?: Authenticator | undefined;
};

type Method = 'GET' | 'POST' | 'PUT';
/** A route's path: fixed parts, and `*` for one named part (a topic, a partition, a group). */
type ApiRoute = {
  method: Method;
  path: string[];
  run(client: StreamHouseClient, params: string[], url: URL, body: unknown): Promise<object>;
};

/** Security headers of every console answer: nothing from elsewhere, no framing. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export class ConsoleHandler implements HttpHandler {
  private readonly routes: ApiRoute[];
  private readonly rates = new RateHistory();
  private readonly timer: NodeJS.Timeout;
  private readonly stopped = new AbortController();

  private readonly service: StreamHouseServiceImplementation;
  private readonly authenticator: Authenticator | undefined;

  constructor(options: ConsoleOptions) {
    this.service = options.service;
    this.authenticator = options.authenticator;
    const store = options.metadataStore;
    const partition = (text: string) => integerText(text, 'partition', MAX_PARTITIONS - 1);
    const context = { ...options, rates: this.rates, clock: Date.now };
    this.routes = [
      { method: 'GET', path: ['overview'], run: (client) => overview({ ...context, client }) },
      { method: 'GET', path: ['topics', '*'], run: (client, [topic]) => topicDetail(client, store, topic!) },
      {
        method: 'PUT',
        path: ['topics', '*', 'config'],
        run: (client, [topic], _, body) => alterTopic(client, store, topic!, body),
      },
      {
        method: 'GET',
        path: ['topics', '*', 'partitions', '*', 'records'],
        run: (client, [topic, p], url) => readRecords(client, topic!, partition(p!), url),
      },
      {
        method: 'POST',
        path: ['topics', '*', 'records'],
        run: (client, [topic], _, body) => produceRecord(client, topic!, body),
      },
      { method: 'GET', path: ['groups'], run: (client) => listGroups(client) },
      { method: 'GET', path: ['groups', '*'], run: (client, [group]) => groupDetail(client, group!) },
      {
        method: 'POST',
        path: ['groups', '*', 'reset-offsets'],
        run: (client, [group], _, body) => resetGroupOffsets(client, group!, body),
      },
    ];
    const sample = () => void options.metrics.trafficTotals().then((totals) => this.rates.sample(Date.now(), totals));
    sample();
    this.timer = setInterval(sample, options.rateSampleMs ?? RATE_SAMPLE_MS).unref();
  }

  serves(path: string): boolean {
    return path === '/api' || path.startsWith('/api/') || isAsset(path);
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!url.pathname.startsWith('/api')) return this.serveAsset(request, response, url.pathname);
    const parts = url.pathname.split('/').slice(2).map(decodePart);
    const matching = this.routes.filter((r) => matches(r.path, parts));
    if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `no API route ${url.pathname.slice(0, 200)}`);
    const route = matching.find((r) => r.method === request.method);
    if (route === undefined) {
      response.setHeader('Allow', matching.map((r) => r.method).join(', '));
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${request.method} not allowed on ${url.pathname}`);
    }
    const principal = await this.principal(request, response);
    const body = route.method === 'GET' ? noBody(request) : await readJsonBody(request);
    const params = parts.filter((_, i) => route.path[i] === '*');
    const client = inProcessClient(this.service, this.stopped.signal, principal);
    const answer = await route.run(client, params, url, body);
    for (const [name, value] of Object.entries(PAGE_HEADERS)) response.setHeader(name, value);
    sendJson(response, 200, answer);
  }

  /** The request's principal; a refusal is a 401 naming the schemes accepted, before any body is read. */
  private async principal(request: IncomingMessage, response: ServerResponse): Promise<string | undefined> {
    try {
      return await httpPrincipal(this.authenticator, request);
    } catch (error) {
      if (error instanceof UnauthenticatedError) response.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
      throw error;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.stopped.abort();
  }

  private async serveAsset(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${request.method} not allowed on ${path}`);
    }
    noBody(request);
    const { body, type } = await asset(path);
    response.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': type, 'Content-Length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidRequestError(`bad escape in the path part '${part.slice(0, 40)}'`);
  }
}

function matches(path: readonly string[], parts: readonly string[]): boolean {
  return path.length === parts.length && path.every((p, i) => p === '*' || p === parts[i]);
}

/** A GET carries no body (400 otherwise), as on the port's other routes. */
function noBody(request: IncomingMessage): undefined {
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) {
    throw new HttpError(400, 'INVALID_REQUEST', 'a GET request carries no body');
  }
  return undefined;
}
