/**
 * Benchmark results: every bench writes rows `{ system, workload, metric, value, unit }`
 * to bench/results/<name>.json and prints them as a table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';

/** One measured figure. */
export type ResultRow = {
  /** What was measured, e.g. `streamhouse`, `redis-streams`, `metadata:sqlite`. */
  system: string;
  /** The workload, e.g. `producer-100B`. */
  workload: string;
  /** e.g. `throughput`, `p50`, `p99`. */
  metric: string;
  value: number;
  /** e.g. `records/s`, `MB/s`, `ms`. */
  unit: string;
};

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes the rows to bench/results/<name>.json (with the machine it ran on) and prints them; returns the path. */
export async function writeResults(name: string, rows: ResultRow[]): Promise<string> {
  const path = join(RESULTS_DIR, `${name}.json`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  await writeFile(path, `${JSON.stringify({ name, date: new Date().toISOString(), machine, rows }, null, 2)}\n`);
  printTable(rows);
  console.log(`\nwrote ${path}`);
  return path;
}

/** Prints rows as an aligned table. */
export function printTable(rows: ResultRow[]): void {
  const cells = rows.map((r) => [r.system, r.workload, r.metric, formatNumber(r.value), r.unit]);
  const header = ['system', 'workload', 'metric', 'value', 'unit'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 3 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

function formatNumber(value: number): string {
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(value < 10 ? 3 : 1);
}

/** Throughput rows (records/s and MB/s) for `records` of `bytesPerRecord` in `seconds`. */
export function throughputRows(
  system: string,
  workload: string,
  records: number,
  bytes: number,
  seconds: number,
): ResultRow[] {
  return [
    { system, workload, metric: 'throughput', value: records / seconds, unit: 'records/s' },
    { system, workload, metric: 'throughput', value: bytes / seconds / 1e6, unit: 'MB/s' },
  ];
}
