/**
 * Reading the JSON body of a mutating API request (POST, PUT) safely: at
 * most `maxBytes` (413 past it, told by Content-Length or counted as it
 * streams), `Content-Type: application/json` only (415; a cross-site form
 * cannot send it without a CORS preflight, which this port never grants),
 * and no request from a foreign origin (403: Origin or Sec-Fetch-Site).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './httpJson.js';

/** Largest JSON body an API request may carry, bytes. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** 403 unless the request comes from this port's own pages (or from no browser page at all). */
export function checkSameOrigin(request: IncomingMessage): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'FORBIDDEN', `cross-site request refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== request.headers.host) {
    throw new HttpError(403, 'FORBIDDEN', `request from origin ${origin.slice(0, 200)} refused`);
  }
}

/** The parsed JSON body; HttpError 413, 415, 403 or 400 (not JSON) otherwise. */
export async function readJsonBody(request: IncomingMessage, maxBytes = MAX_JSON_BODY_BYTES): Promise<unknown> {
  checkSameOrigin(request);
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON (Content-Type: application/json)');
  }
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `body over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_REQUEST', 'the body is not valid JSON');
  }
}
