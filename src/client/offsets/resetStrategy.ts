/**
 * Where a consumer starts reading a partition: at the committed offset when
 * there is one inside the log, otherwise where the reset strategy says
 * (Kafka's `auto.offset.reset`, plus a fixed offset and a timestamp).
 */
import { InvalidRequestError, OffsetOutOfRangeError } from '../../protocol/errors.js';

/**
 * What to do when nothing is committed or the committed offset is outside
 * the log (deleted by retention, or beyond the end after data loss).
 * - `earliest`: the log start offset.
 * - `latest`: the high watermark (only records produced from now on).
 * - `offset`: a fixed offset, clamped into `[logStartOffset, highWatermark]`.
 * - `timestamp`: the first record at or after `timestamp` (ms), looked up with
 *   ListOffsets; the high watermark when every record is older.
 * - `none`: fail with OffsetOutOfRangeError.
 */
export type ResetStrategy =
  | { type: 'earliest' }
  | { type: 'latest' }
  | {
      type: 'offset';
      /** Offset to start from. */
      offset: number;
    }
  | {
      type: 'timestamp';
      /** Start at the first record with this timestamp or later, ms since the epoch. */
      timestamp: number;
    }
  | { type: 'none' };

/** The default reset strategy, as Kafka's `auto.offset.reset=latest`. */
export const DEFAULT_RESET_STRATEGY: ResetStrategy = { type: 'latest' };

/** Input of {@link resolveStartOffset}. */
export type StartOffsetInput = {
  /** Committed offset (next to consume); undefined or -1 when nothing is committed. */
  committed?: number;
  /** First offset still in the log. */
  logStartOffset: number;
  /** Offset the next produced record will get. */
  highWatermark: number;
  /** What to do without a usable committed offset. */
  strategy: ResetStrategy;
  /**
   * For the `timestamp` strategy: ListOffsets' answer for `strategy.timestamp`
   * (-1 when every record is older). Required only when the strategy is used.
   */
  offsetForTimestamp?: number;
  /** Topic, for error context. */
  topic?: string;
  /** Partition, for error context. */
  partition?: number;
};

/** Where to start and why. */
export type StartOffset = {
  /** Next offset to consume. */
  offset: number;
  /** `committed` when the committed offset was used, else the strategy applied. */
  source: 'committed' | Exclude<ResetStrategy['type'], 'none'>;
};

/** True when `committed` is set and lies in `[logStartOffset, highWatermark]`. */
export function isCommittedInRange(
  input: Pick<StartOffsetInput, 'committed' | 'logStartOffset' | 'highWatermark'>,
): boolean {
  const { committed, logStartOffset, highWatermark } = input;
  return committed !== undefined && committed !== -1 && committed >= logStartOffset && committed <= highWatermark;
}

/**
 * Decides where to start consuming a partition.
 *
 * The committed offset wins when it lies in `[logStartOffset, highWatermark]`
 * (equal to the high watermark means "caught up", a valid position).
 * Otherwise the strategy decides. Throws OffsetOutOfRangeError for `none`,
 * InvalidRequestError for inconsistent input or a `timestamp` strategy
 * without `offsetForTimestamp`.
 */
export function resolveStartOffset(input: StartOffsetInput): StartOffset {
  const { committed, logStartOffset, highWatermark, strategy, offsetForTimestamp } = input;
  const context = {
    ...(input.topic === undefined ? {} : { topic: input.topic }),
    ...(input.partition === undefined ? {} : { partition: input.partition }),
  };
  checkOffsets(input, context);
  if (isCommittedInRange(input)) return { offset: committed!, source: 'committed' };

  const clamp = (offset: number) => Math.min(highWatermark, Math.max(logStartOffset, offset));
  switch (strategy.type) {
    case 'earliest':
      return { offset: logStartOffset, source: 'earliest' };
    case 'latest':
      return { offset: highWatermark, source: 'latest' };
    case 'offset':
      checkSafe(strategy.offset, 'reset offset', context);
      return { offset: clamp(strategy.offset), source: 'offset' };
    case 'timestamp': {
      if (offsetForTimestamp === undefined) {
        throw new InvalidRequestError(
          'the timestamp reset strategy needs offsetForTimestamp (look it up with ListOffsets)',
          {
            context,
          },
        );
      }
      if (offsetForTimestamp !== -1) checkSafe(offsetForTimestamp, 'offsetForTimestamp', context);
      return { offset: offsetForTimestamp === -1 ? highWatermark : clamp(offsetForTimestamp), source: 'timestamp' };
    }
    case 'none': {
      const has = committed !== undefined && committed !== -1;
      const message = has
        ? `committed offset ${committed} is outside [${logStartOffset}, ${highWatermark}] and the reset strategy is ` +
          `none`
        : 'no committed offset and the reset strategy is none';
      throw new OffsetOutOfRangeError(message, { context: has ? { ...context, offset: committed } : context });
    }
  }
}

type Context = { topic?: string; partition?: number };

function checkOffsets(input: StartOffsetInput, context: Context): void {
  checkSafe(input.logStartOffset, 'logStartOffset', context);
  checkSafe(input.highWatermark, 'highWatermark', context);
  if (input.logStartOffset > input.highWatermark) {
    throw new InvalidRequestError(
      `logStartOffset ${input.logStartOffset} is above highWatermark ${input.highWatermark}`,
      {
        context,
      },
    );
  }
  if (input.committed !== undefined && input.committed !== -1) checkSafe(input.committed, 'committed offset', context);
}

function checkSafe(value: number, what: string, context: Context): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${what} must be a non-negative safe integer, got ${value}`, { context });
  }
}
