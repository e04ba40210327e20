/**
 * Fetch: returns stored batches from each requested offset, long-polling up to
 * `maxWaitMs` until at least `minBytes` are there. Wakes as soon as a
 * partition's high watermark moves (see HighWatermarkNotifier).
 */
import type { FetchPartitionResult, FetchRequest, FetchResponse } from '../../protocol/generated/streamhouse.js';
import { InvalidRequestError, toErrorInfo } from '../../protocol/errors.js';
import type { HighWatermarkNotifier } from './highWatermarkNotifier.js';
import type { PartitionReader } from './partitionReader.js';
import type { LongPolls } from './longPolls.js';

export type FetchContext = {
  reader: PartitionReader;
  notifier: HighWatermarkNotifier;
  maxFetchWaitMs: number;
  defaultFetchMaxBytes: number;
  /** Bounds the Fetch calls waiting at once; beyond it a Fetch answers with what is there. Default unbounded. */
  longPolls?: LongPolls;
};

export async function handleFetch(
  ctx: FetchContext,
  request: FetchRequest,
  signal?: AbortSignal,
): Promise<FetchResponse> {
  if (request.partitions.length === 0) throw new InvalidRequestError('fetch request names no partitions');
  const deadline = Date.now() + Math.min(request.maxWaitMs, ctx.maxFetchWaitMs);
  const minBytes = Math.max(1, request.minBytes);
  let release: (() => void) | undefined;
  try {
    for (;;) {
      const results = await readAll(ctx, request);
      const bytes = results.reduce((sum, r) => sum + r.records.length, 0);
      const remaining = deadline - Date.now();
      if (
        bytes >= minBytes ||
        remaining <= 0 ||
        results.some((r) => r.error !== undefined) ||
        signal?.aborted === true
      ) {
        return { results };
      }
      if (release === undefined && ctx.longPolls !== undefined) {
        release = ctx.longPolls.acquire();
        if (release === undefined) return { results };
      }
      const watched = results.map((r) => ({ topic: r.topic, partition: r.partition, seen: r.highWatermark }));
      const recheck = async () => {
        for (const w of watched) {
          if ((await ctx.reader.bounds(w.topic, w.partition)).highWatermark > w.seen) return true;
        }
        return false;
      };
      const moved = await ctx.notifier.waitForAny(watched, remaining, signal, recheck);
      if (!moved) return { results };
    }
  } finally {
    release?.();
  }
}

/**
 * Reads every requested partition, as if one after the other: each gets
 * `min(its maxBytes, what is left of the response's maxBytes)`, at least 1,
 * and once nothing is left only its bounds.
 *
 * The reads themselves run at once where that gives the same answers: each
 * partition of the longest leading run whose limits fit in the response's
 * budget is read with its own limit, concurrently, and its result is kept
 * if, taken in order, the budget left before it still covered that limit
 * (only a read that overshot its limit, with a first batch larger than it,
 * makes one fall short). A partition whose result is not kept, and every
 * partition after the run, is read in turn as before. Reading one partition
 * after the other made a Fetch wait for the file reads of each partition in
 * turn, though they run on the thread pool.
 */
export async function readAll(
  ctx: Pick<FetchContext, 'reader' | 'defaultFetchMaxBytes'>,
  request: FetchRequest,
): Promise<FetchPartitionResult[]> {
  const total = request.maxBytes > 0 ? request.maxBytes : Number.MAX_SAFE_INTEGER;
  const limits = request.partitions.map((p) => (p.maxBytes > 0 ? p.maxBytes : ctx.defaultFetchMaxBytes));
  let concurrent = 0;
  for (let sum = 0; concurrent < limits.length && sum + limits[concurrent]! <= total; concurrent++)
    sum += limits[concurrent]!;
  const early = request.partitions.slice(0, concurrent).map((p, i) => readPartition(ctx, p, limits[i]!));
  const results: FetchPartitionResult[] = [];
  let budget = total;
  for (let i = 0; i < request.partitions.length; i++) {
    const p = request.partitions[i]!;
    const maxBytes = Math.min(limits[i]!, Math.max(1, budget));
    let result: FetchPartitionResult;
    if (budget <= 0) result = await boundsOnly(ctx, p);
    else if (i < concurrent && maxBytes === limits[i]) result = await early[i]!;
    else result = await readPartition(ctx, p, maxBytes);
    budget -= result.records.length;
    results.push(result);
  }
  return results;
}

type PartitionRequest = FetchRequest['partitions'][number];

/** One partition's records from its offset, up to about `maxBytes`; its error in the result. Never rejects. */
async function readPartition(
  ctx: Pick<FetchContext, 'reader'>,
  p: PartitionRequest,
  maxBytes: number,
): Promise<FetchPartitionResult> {
  const base = { topic: p.topic, partition: p.partition };
  try {
    const read = await ctx.reader.read(p.topic, p.partition, p.offset, maxBytes);
    return { ...base, error: undefined, ...read };
  } catch (error) {
    return failed(base, error);
  }
}

/** A partition past the response's budget: its bounds, no records. Never rejects. */
async function boundsOnly(ctx: Pick<FetchContext, 'reader'>, p: PartitionRequest): Promise<FetchPartitionResult> {
  const base = { topic: p.topic, partition: p.partition };
  try {
    const bounds = await ctx.reader.bounds(p.topic, p.partition);
    return { ...base, error: undefined, ...bounds, records: Buffer.alloc(0) };
  } catch (error) {
    return failed(base, error);
  }
}

function failed(base: { topic: string; partition: number }, error: unknown): FetchPartitionResult {
  return { ...base, error: toErrorInfo(error), highWatermark: -1, logStartOffset: -1, records: Buffer.alloc(0) };
}
