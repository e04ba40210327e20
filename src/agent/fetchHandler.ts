/**
 * Fetch: returns stored batches from each requested offset, long-polling up to
 * `maxWaitMs` until at least `minBytes` are there. Wakes as soon as a
 * partition's high watermark moves (see HighWatermarkNotifier).
 */
import type { FetchPartitionResult, FetchRequest, FetchResponse } from '../protocol/generated/streamhouse.js';
import { InvalidRequestError, toErrorInfo } from '../protocol/errors.js';
import type { HighWatermarkNotifier } from './highWatermarkNotifier.js';
import type { PartitionReader } from './partitionReader.js';

export type FetchContext = {
  reader: PartitionReader;
  notifier: HighWatermarkNotifier;
  maxFetchWaitMs: number;
  defaultFetchMaxBytes: number;
};

export async function handleFetch(ctx: FetchContext, request: FetchRequest, signal?: AbortSignal): Promise<FetchResponse> {
  if (request.partitions.length === 0) throw new InvalidRequestError('fetch request names no partitions');
  const deadline = Date.now() + Math.min(request.maxWaitMs, ctx.maxFetchWaitMs);
  const minBytes = Math.max(1, request.minBytes);
  for (;;) {
    const results = await readAll(ctx, request);
    const bytes = results.reduce((sum, r) => sum + r.records.length, 0);
    const remaining = deadline - Date.now();
    if (bytes >= minBytes || remaining <= 0 || results.some((r) => r.error !== undefined) || signal?.aborted === true) {
      return { results };
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
}

async function readAll(ctx: FetchContext, request: FetchRequest): Promise<FetchPartitionResult[]> {
  let budget = request.maxBytes > 0 ? request.maxBytes : Number.MAX_SAFE_INTEGER;
  const results: FetchPartitionResult[] = [];
  // Partitions are read one after the other so the response-wide budget holds.
  for (const p of request.partitions) {
    const base = { topic: p.topic, partition: p.partition };
    try {
      const maxBytes = Math.min(p.maxBytes > 0 ? p.maxBytes : ctx.defaultFetchMaxBytes, Math.max(1, budget));
      if (budget <= 0) {
        const bounds = await ctx.reader.bounds(p.topic, p.partition);
        results.push({ ...base, error: undefined, ...bounds, records: Buffer.alloc(0) });
        continue;
      }
      const read = await ctx.reader.read(p.topic, p.partition, p.offset, maxBytes);
      budget -= read.records.length;
      results.push({ ...base, error: undefined, ...read });
    } catch (error) {
      results.push({ ...base, error: toErrorInfo(error), highWatermark: -1, logStartOffset: -1, records: Buffer.alloc(0) });
    }
  }
  return results;
}
