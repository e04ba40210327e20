/** JSON answers of the HTTP port, and the typed errors of its API. */
import type { ServerResponse } from 'node:http';
import { StreamHouseError, type ErrorCodeName } from '../protocol/errors.js';

export function sendJson(response: ServerResponse, status: number, body: object, close = false): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(text);
}

/** A refusal of the HTTP layer itself (body too large, wrong content type, foreign origin). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** HTTP status of each StreamHouse error code an API call may end with; any other is 500. */
const STATUS_OF_CODE: Partial<Record<ErrorCodeName, number>> = {
  UNAUTHENTICATED: 401,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  GROUP_ID_NOT_FOUND: 404,
  INVALID_REQUEST: 400,
  INVALID_CONFIG: 400,
  INVALID_TOPIC: 400,
  INVALID_RECORD: 400,
  INVALID_TIMESTAMP: 400,
  OFFSET_OUT_OF_RANGE: 400,
  UNSAFE_INTEGER: 400,
  RECORD_TOO_LARGE: 413,
  REQUEST_TOO_LARGE: 413,
  TOPIC_AUTHORIZATION_FAILED: 403,
  GROUP_AUTHORIZATION_FAILED: 403,
  CLUSTER_AUTHORIZATION_FAILED: 403,
  ILLEGAL_GENERATION: 409,
  REBALANCE_IN_PROGRESS: 409,
  LIMIT_EXCEEDED: 429,
  AGENT_BUSY: 503,
  SHUTTING_DOWN: 503,
  STORAGE_ERROR: 503,
  METADATA_ERROR: 503,
  NOT_LEADER: 503,
  REQUEST_TIMED_OUT: 504,
};

/** The typed JSON error body of an API failure: `{error: {code, message, retriable}}`. */
export type ApiErrorBody = { error: { code: string; message: string; retriable: boolean } };

/** Status and body for an error thrown by an API route; undefined for an unexpected one (a bug: 500). */
export function apiError(error: unknown): { status: number; body: ApiErrorBody } | undefined {
  if (error instanceof HttpError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, retriable: false } } };
  }
  if (error instanceof StreamHouseError) {
    const status = STATUS_OF_CODE[error.code] ?? 500;
    return { status, body: { error: { code: error.code, message: error.message, retriable: error.retriable } } };
  }
  return undefined;
}
