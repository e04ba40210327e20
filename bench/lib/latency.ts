/** Latency percentiles through an HDR histogram (microsecond resolution, values recorded in ms). */
import * as hdr from 'hdr-histogram-js';
import type { ResultRow } from './results.js';

export class LatencyRecorder {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The p-th percentile (0..100) in milliseconds. */
  percentile(p: number): number {
    return this.histogram.getValueAtPercentile(p) / 1000;
  }

  /** p50, p99 and p999 rows in ms. */
  rows(system: string, workload: string): ResultRow[] {
    return [50, 99, 99.9].map((p) => ({
      system,
      workload,
      metric: `p${String(p).replace('.', '')}`,
      value: this.percentile(p),
      unit: 'ms',
    }));
  }
}
