/**
 * Rules for changing the segment registry after the fact, written once for
 * every backend: compaction (replace) and retention (delete). SQLite runs these
 * functions inside its transaction; the Redis Lua scripts run the same checks
 * and report a violation as `INVALID_REQUEST <json>`, which is turned into the
 * same error by {@link segmentRuleError}.
 *
 * Registered segments never overlap and, together, cover the partition's
 * offsets from the log start offset to the high watermark without gaps.
 */
import { InvalidRequestError } from '../protocol/errors.js';
import type { SegmentInfo } from './metadataStore.js';

/** Why a replace or delete request does not fit the registry. */
export type SegmentRuleViolation =
  /** A key to remove or delete is not registered. */
  | { reason: 'unknown-key'; key: string }
  /** The segments to remove leave a gap: the next one should start at `expectedBase`. */
  | { reason: 'gap'; key: string; expectedBase: number }
  /** The merged segment does not cover exactly `baseOffset`..`endOffset`. */
  | { reason: 'coverage'; key: string; baseOffset: number; endOffset: number }
  /** The merged segment's key is already registered and is not being removed. */
  | { reason: 'key-exists'; key: string }
  /** A key to delete is registered but is not among the oldest segments. */
  | { reason: 'not-oldest'; key: string }
  /** The new log start offset is not the end of the last deleted segment. */
  | { reason: 'log-start'; expected: number; given: number };

/**
 * Checks a compaction: `removed` are the registered segments for the keys to
 * remove (undefined where a key is unknown, in request order), `addKeyTaken`
 * whether `add.key` is registered outside the removed set.
 */
export function checkReplacement(
  keys: string[],
  removed: (SegmentInfo | undefined)[],
  add: SegmentInfo,
  addKeyTaken: boolean,
): SegmentRuleViolation | undefined {
  const found: SegmentInfo[] = [];
  for (const [index, segment] of removed.entries()) {
    if (segment === undefined) return { reason: 'unknown-key', key: keys[index]! };
    found.push(segment);
  }
  found.sort((a, b) => a.baseOffset - b.baseOffset);
  for (let i = 1; i < found.length; i++) {
    const previous = found[i - 1]!;
    const segment = found[i]!;
    if (segment.baseOffset !== previous.endOffset) {
      return { reason: 'gap', key: segment.key, expectedBase: previous.endOffset };
    }
  }
  const first = found[0]!;
  const last = found[found.length - 1]!;
  if (add.baseOffset !== first.baseOffset || add.endOffset !== last.endOffset) {
    return { reason: 'coverage', key: add.key, baseOffset: first.baseOffset, endOffset: last.endOffset };
  }
  if (addKeyTaken) return { reason: 'key-exists', key: add.key };
  return undefined;
}

/**
 * Checks a retention delete: `oldest` are the registry's first `keys.length`
 * segments by offset, `registered` whether each requested key is registered.
 */
export function checkDeletion(
  keys: string[],
  registered: boolean[],
  oldest: SegmentInfo[],
  logStartOffset: number,
): SegmentRuleViolation | undefined {
  const oldestKeys = new Set(oldest.map((segment) => segment.key));
  for (const [index, key] of keys.entries()) {
    if (!registered[index]) return { reason: 'unknown-key', key };
    if (!oldestKeys.has(key)) return { reason: 'not-oldest', key };
  }
  const expected = oldest[oldest.length - 1]!.endOffset;
  if (logStartOffset !== expected) return { reason: 'log-start', expected, given: logStartOffset };
  return undefined;
}

/** The InvalidRequestError for a violation on `topic`/`partition`. */
export function segmentRuleError(
  topic: string,
  partition: number,
  violation: SegmentRuleViolation,
): InvalidRequestError {
  const where = `${topic}/${partition}`;
  const context = { topic, partition };
  switch (violation.reason) {
    case 'unknown-key':
      return new InvalidRequestError(`segment ${violation.key} is not registered in ${where}`, {
        context: { ...context, objectKey: violation.key },
      });
    case 'gap':
      return new InvalidRequestError(
        `segments to replace in ${where} are not contiguous: ${violation.key} does not start at ` +
          `${violation.expectedBase}`,
        { context: { ...context, objectKey: violation.key } },
      );
    case 'coverage':
      return new InvalidRequestError(
        `merged segment ${violation.key} must cover exactly offsets ${violation.baseOffset}..${violation.endOffset} ` +
          `of ${where}`,
        { context: { ...context, objectKey: violation.key } },
      );
    case 'key-exists':
      return new InvalidRequestError(`segment key ${violation.key} is already registered in ${where}: use a new key`, {
        context: { ...context, objectKey: violation.key },
      });
    case 'not-oldest':
      return new InvalidRequestError(
        `segment ${violation.key} is not among the oldest segments of ${where}: delete from the start`,
        {
          context: { ...context, objectKey: violation.key },
        },
      );
    case 'log-start':
      return new InvalidRequestError(
        `new log start offset of ${where} must be ${violation.expected} (end of the last deleted segment), not ` +
          `${violation.given}`,
        { context: { ...context, offset: violation.given } },
      );
  }
}
