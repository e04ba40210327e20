/**
 * What `produce` reads: each line of standard input is one record, either
 * text (optionally `key<sep>value`) or a JSON object
 * `{"key": string|null, "value": string|JSON, "headers": {name: string|null}}`.
 * A JSON line that is not such an object is refused, naming its line number.
 */
import type { RecordHeader } from '../protocol/codec/recordBatch.js';
import { InvalidRecordError } from '../protocol/errors.js';

export type ParsedLine = { key: Buffer | null; value: Buffer | null; headers: RecordHeader[] };

/** Parses `--header name=value` flags (value may be empty; the name may not). */
export function parseHeaderFlags(flags: readonly string[]): RecordHeader[] {
  return flags.map((flag) => {
    const cut = flag.indexOf('=');
    if (cut <= 0) throw new InvalidRecordError(`--header must be name=value, got '${flag}'`);
    return { key: flag.slice(0, cut), value: Buffer.from(flag.slice(cut + 1)) };
  });
}

/** A text line: the whole line is the value, or key and value split at the first `separator`. */
export function parseTextLine(line: string, separator: string | undefined, headers: RecordHeader[]): ParsedLine {
  const cut = separator === undefined ? -1 : line.indexOf(separator);
  const key = cut < 0 ? null : Buffer.from(line.slice(0, cut));
  const value = Buffer.from(cut < 0 ? line : line.slice(cut + separator!.length));
  return { key, value, headers };
}

function refuse(lineNumber: number, why: string): never {
  throw new InvalidRecordError(`line ${lineNumber}: ${why}`);
}

/** A JSON line; a value that is not a string is stored as its JSON text. */
export function parseJsonLine(line: string, lineNumber: number, extraHeaders: RecordHeader[]): ParsedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    refuse(lineNumber, 'not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    refuse(lineNumber, 'expected a JSON object with "value" and optionally "key" and "headers"');
  }
  const { key, value, headers, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) refuse(lineNumber, `unknown field '${unknown[0]}': use key, value, headers`);
  if (key !== undefined && key !== null && typeof key !== 'string')
    refuse(lineNumber, '"key" must be a string or null');
  const recordHeaders: RecordHeader[] = [...extraHeaders];
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      refuse(lineNumber, '"headers" must be an object of strings');
    }
    for (const [name, v] of Object.entries(headers)) {
      if (v !== null && typeof v !== 'string') refuse(lineNumber, `header '${name}' must be a string or null`);
      recordHeaders.push({ key: name, value: v === null ? null : Buffer.from(v) });
    }
  }
  return {
    key: typeof key === 'string' ? Buffer.from(key) : null,
    value:
      value === undefined || value === null
        ? null
        : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: recordHeaders,
  };
}
