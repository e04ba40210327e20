/**
 * Validation of object-store keys and list prefixes, shared by every backend
 * so that a key accepted by one store is accepted by all of them.
 *
 * A key is a `/`-separated relative path: non-empty segments, none of them
 * `.` or `..`, no leading `/`, no backslash, no NUL, at most 1024 UTF-8 bytes
 * (the S3 limit). Such a key can never name a file outside a directory
 * store's root.
 */
import { InvalidRequestError } from '../protocol/errors.js';

/** Longest key any backend accepts, in UTF-8 bytes (S3's limit). */
export const MAX_OBJECT_KEY_BYTES = 1024;

/** Throws InvalidRequestError unless `key` is a valid object key. */
export function assertValidObjectKey(key: string): void {
  const problem = objectKeyProblem(key);
  if (problem !== undefined) {
    throw new InvalidRequestError(`invalid object key ${JSON.stringify(key)}: ${problem}`, {
      context: { objectKey: key },
    });
  }
}

/** True when `key` is a valid object key. */
export function isValidObjectKey(key: string): boolean {
  return objectKeyProblem(key) === undefined;
}

/**
 * Throws InvalidRequestError unless `prefix` is a valid list prefix: empty, or
 * the start of some valid key (its last, possibly partial, segment may be
 * empty or start with a dot; every complete segment before it must be valid).
 */
export function assertValidObjectPrefix(prefix: string): void {
  const problem = prefixProblem(prefix);
  if (problem !== undefined) {
    throw new InvalidRequestError(`invalid object key prefix ${JSON.stringify(prefix)}: ${problem}`, {
      context: { objectKey: prefix },
    });
  }
}

/**
 * Orders keys as S3 lists them: by their UTF-8 bytes. (JavaScript's `<` on
 * strings compares UTF-16 code units, which differs for characters beyond
 * the Basic Multilingual Plane.)
 */
export function compareObjectKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function objectKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key.length === 0) return 'empty';
  const common = characterProblem(key);
  if (common !== undefined) return common;
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function prefixProblem(prefix: string): string | undefined {
  if (typeof prefix !== 'string') return 'not a string';
  if (prefix.length === 0) return undefined;
  const common = characterProblem(prefix);
  if (common !== undefined) return common;
  const segments = prefix.split('/');
  segments.pop(); // the last segment may be partial: '', '.', 'topi' all start valid keys
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function characterProblem(text: string): string | undefined {
  if (text.startsWith('/')) return 'absolute (starts with "/")';
  if (text.includes('\\')) return 'contains a backslash';
  if (text.includes('\0')) return 'contains NUL';
  if (Buffer.byteLength(text, 'utf8') > MAX_OBJECT_KEY_BYTES) return `longer than ${MAX_OBJECT_KEY_BYTES} UTF-8 bytes`;
  return undefined;
}

function segmentProblem(segment: string): string | undefined {
  if (segment.length === 0) return 'empty path segment';
  if (segment === '.' || segment === '..') return `"${segment}" path segment`;
  return undefined;
}
