/**
 * This agent's produce and fetch rates over the last minutes, for the
 * console's chart: the traffic counters are sampled every `sampleMs` and each
 * sample keeps the per-second rates since the one before, `samples` at most.
 */
import type { TrafficTotals } from '../agentMetrics.js';

/** Time between samples, ms. */
export const RATE_SAMPLE_MS = 5000;
/** Samples kept: 10 minutes at the default interval. */
export const RATE_SAMPLES = 120;

export type RateSample = {
  /** End of the interval, ms since the epoch. */
  at: number;
  produceRecordsPerSec: number;
  produceBytesPerSec: number;
  fetchRecordsPerSec: number;
  fetchBytesPerSec: number;
};

export class RateHistory {
  private readonly kept: RateSample[] = [];
  private last: { at: number; totals: TrafficTotals } | undefined;

  constructor(private readonly samples = RATE_SAMPLES) {}

  /** Records the totals read at `at`; the first call only sets the baseline. */
  sample(at: number, totals: TrafficTotals): void {
    const last = this.last;
    this.last = { at, totals };
    if (last === undefined || at <= last.at) return;
    const seconds = (at - last.at) / 1000;
    const rate = (key: keyof TrafficTotals) => Math.max(0, totals[key] - last.totals[key]) / seconds;
    this.kept.push({
      at,
      produceRecordsPerSec: rate('producedRecords'),
      produceBytesPerSec: rate('producedBytes'),
      fetchRecordsPerSec: rate('fetchedRecords'),
      fetchBytesPerSec: rate('fetchedBytes'),
    });
    if (this.kept.length > this.samples) this.kept.shift();
  }

  /** The samples kept, oldest first. */
  all(): RateSample[] {
    return [...this.kept];
  }
}
