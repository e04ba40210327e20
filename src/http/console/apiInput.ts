/** Checks of what an API request names or sends: path parts, query integers, JSON objects. Each refusal is a 400. */
import { InvalidRequestError } from '../../protocol/errors.js';

/** A non-negative safe integer from a query parameter, `fallback` when absent. */
export function queryInteger(url: URL, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  return integerText(raw, name, max);
}

/** A non-negative safe integer written in decimal digits. */
export function integerText(raw: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new InvalidRequestError(`${name} must be an integer from 0 to ${max}, got '${raw.slice(0, 40)}'`);
  }
  return value;
}

/** A JSON object body with only the fields named. */
export function objectBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    throw new InvalidRequestError(`unknown field '${unknown[0]!.slice(0, 40)}': use ${fields.join(', ')}`);
  }
  return body as Record<string, unknown>;
}

/** An optional integer field of a body, within [min, max]. */
export function integerField(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
