/**
 * Object keys of segments: `topics/<topic>/<partition>/<baseOffset>.seg`, the
 * base offset written as 20 zero-padded digits so that listing a partition's
 * prefix returns its segments in offset order.
 *
 * Agents write `topics/<topic>/<partition>/<baseOffset>-<endOffset>-e<epoch>.seg`
 * (see {@link segmentObjectKey}): the same prefix and order, plus the range and
 * the writer's lease epoch, so that no two writers ever share a key. A stale
 * agent that lost its lease could otherwise overwrite, at the same base
 * offset, an object its successor has already committed; and a compacted
 * object could otherwise reuse the key of the first object it replaces.
 */
import { InvalidRequestError } from '../protocol/errors.js';

/** Width of the zero-padded base offset (enough for any i64). */
export const SEGMENT_OFFSET_DIGITS = 20;

/** Where one segment belongs. */
export type SegmentKeyParts = {
  topic: string;
  partition: number;
  /** First offset in the segment. */
  baseOffset: number;
  /** One past the last offset, for keys written by agents. */
  endOffset?: number;
  /** Lease epoch of the writer, for keys written by agents. */
  epoch?: number;
};

const SEGMENT_KEY_PATTERN = /^topics\/([^/]+)\/(0|[1-9][0-9]*)\/([0-9]{20})(?:-([0-9]{20})-e(0|[1-9][0-9]*))?\.seg$/;

/** The key of a segment, e.g. `segmentKey('orders', 3, 42)` → `topics/orders/3/00000000000000000042.seg`. */
export function segmentKey(topic: string, partition: number, baseOffset: number): string {
  assertTopicSegment(topic);
  assertNonNegativeInteger('partition', partition);
  assertNonNegativeInteger('baseOffset', baseOffset);
  return `${partitionSegmentPrefix(topic, partition)}${String(baseOffset).padStart(SEGMENT_OFFSET_DIGITS, '0')}.seg`;
}

/**
 * The key an agent writes a segment under: range and lease epoch included, e.g.
 * `segmentObjectKey('orders', 3, 42, 50, 7)` →
 * `topics/orders/3/00000000000000000042-00000000000000000050-e7.seg`.
 */
export function segmentObjectKey(
  topic: string,
  partition: number,
  baseOffset: number,
  endOffset: number,
  epoch: number,
): string {
  assertNonNegativeInteger('endOffset', endOffset);
  assertNonNegativeInteger('epoch', epoch);
  if (endOffset <= baseOffset)
    throw new InvalidRequestError(`segment endOffset ${endOffset} must be above baseOffset ${baseOffset}`);
  const base = segmentKey(topic, partition, baseOffset);
  return `${base.slice(0, -'.seg'.length)}-${String(endOffset).padStart(SEGMENT_OFFSET_DIGITS, '0')}-e${epoch}.seg`;
}

/** The prefix under which every segment of one partition lies, e.g. `topics/orders/3/`. */
export function partitionSegmentPrefix(topic: string, partition: number): string {
  assertTopicSegment(topic);
  assertNonNegativeInteger('partition', partition);
  return `topics/${topic}/${partition}/`;
}

/** Topic, partition and base offset of a segment key; InvalidRequestError for anything else. */
export function parseSegmentKey(key: string): SegmentKeyParts {
  const match = SEGMENT_KEY_PATTERN.exec(key);
  const offsetText = match?.[3];
  const baseOffset = offsetText === undefined ? Number.NaN : Number(offsetText);
  if (match === null || match[1] === '.' || match[1] === '..' || !Number.isSafeInteger(baseOffset)) {
    throw new InvalidRequestError(
      `not a segment key: ${JSON.stringify(key)} (expected topics/<topic>/<partition>/<20 digits>[-<20 ` +
        `digits>-e<epoch>].seg)`,
      {
        context: { objectKey: key },
      },
    );
  }
  const partition = Number(match[2]);
  if (!Number.isSafeInteger(partition)) {
    throw new InvalidRequestError(`segment key ${key} has partition ${match[2]} beyond safe integers`, {
      context: { objectKey: key },
    });
  }
  if (match[4] === undefined) return { topic: match[1]!, partition, baseOffset };
  return { topic: match[1]!, partition, baseOffset, endOffset: Number(match[4]), epoch: Number(match[5]) };
}

function assertTopicSegment(topic: string): void {
  if (typeof topic !== 'string' || topic === '' || topic === '.' || topic === '..' || /[/\\\0]/.test(topic)) {
    throw new InvalidRequestError(`topic ${JSON.stringify(topic)} cannot be part of a segment key`, {
      context: { topic },
    });
  }
}

function assertNonNegativeInteger(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`segment ${what} must be a non-negative safe integer, got ${value}`);
  }
}
