/**
 * Test support: reads a topic back after a fault and checks it against what
 * a producer load was told: every acknowledged record exactly once at its
 * offset, offsets dense from 0, nothing stored that was reported failed, and
 * nothing stored that nobody acknowledged.
 */
import type { AgentConnection } from '../../src/client/agentClient.js';
import { StreamHouseError } from '../../src/protocol/errors.js';
import { OffsetSpec } from '../../src/protocol/generated/streamhouse.js';
import { readAll } from './agentHarness.js';
import type { Acked, LoadResult } from './producerLoad.js';

/** What was found wrong; every list empty when the guarantees held (each capped at 10 examples plus a count). */
export type LogViolations = {
  /** Acknowledged records not at their offset: `value: acked at p/o, found at [...]`. */
  misplaced: string[];
  /** Values stored more than once. */
  duplicated: string[];
  /** Records reported failed that are in the log. */
  storedButFailed: string[];
  /** Values in the log that no one acknowledged (nor reported failed). */
  storedUnacknowledged: string[];
  /** Partitions whose offsets are not 0, 1, 2, … */
  gaps: string[];
  /** Records sent but neither acknowledged nor failed. */
  unsettled: string[];
};

/** The counts of one run, for the report. */
export type LogFigures = {
  sent: number;
  acknowledged: number;
  failed: number;
  readBack: number;
  /** Batches the producer retried. */
  retries: number;
  /** Failed records by `CODE on <partition>`. */
  failures: Record<string, number>;
};

export const NO_VIOLATIONS: LogViolations = {
  misplaced: [],
  duplicated: [],
  storedButFailed: [],
  storedUnacknowledged: [],
  gaps: [],
  unsettled: [],
};

const LIMIT = 10;

function capped(list: string[]): string[] {
  return list.length <= LIMIT
    ? list
    : [...list.slice(0, LIMIT), `… ${list.length - LIMIT} more (${list.length} in all)`];
}

/**
 * Reads every partition of `topic` through `connection` and compares it with
 * `load`; `otherAcks` are records acknowledged to someone else (values unique
 * across both).
 */
export async function checkLog(
  connection: AgentConnection,
  topic: string,
  partitions: number,
  load: LoadResult,
  otherAcks: ReadonlyMap<string, Acked> = new Map(),
): Promise<{ violations: LogViolations; figures: LogFigures }> {
  const found = new Map<string, { partition: number; offset: number }[]>();
  const gaps: string[] = [];
  let readBack = 0;
  for (let p = 0; p < partitions; p++) {
    const log = await readAll(connection, topic, p);
    readBack += log.length;
    const firstGap = log.findIndex(([offset], i) => offset !== i);
    if (firstGap >= 0)
      gaps.push(`partition ${p}: offset ${log[firstGap]![0]} at position ${firstGap} (of ${log.length})`);
    for (const [offset, value] of log) {
      const places = found.get(value) ?? [];
      places.push({ partition: p, offset });
      found.set(value, places);
    }
  }
  const where = (places: { partition: number; offset: number }[] | undefined) =>
    `[${(places ?? []).map((x) => `${x.partition}/${x.offset}`).join(', ')}]`;
  const acked = new Map([...load.acked, ...otherAcks]);
  const misplaced: string[] = [];
  for (const [value, ack] of acked) {
    const places = found.get(value);
    if (places === undefined || !places.some((x) => x.partition === ack.partition && x.offset === ack.offset)) {
      misplaced.push(`${value}: acked at ${ack.partition}/${ack.offset}, found at ${where(places)}`);
    }
  }
  const duplicated = [...found]
    .filter(([, places]) => places.length > 1)
    .map(([value, places]) => `${value} at ${where(places)}`);
  const storedButFailed = [...load.failed]
    .filter(([value]) => found.has(value))
    .map(([value, f]) => `${value}: failed with ${describe(f.error)}, found at ${where(found.get(value))}`);
  const storedUnacknowledged = [...found]
    .filter(([value]) => !acked.has(value) && !load.failed.has(value))
    .map(([value, places]) => `${value} at ${where(places)}`);
  const unsettled: string[] = [];
  if (load.acked.size + load.failed.size !== load.sent)
    unsettled.push(`${load.sent - load.acked.size - load.failed.size} of ${load.sent} records`);
  const failures: Record<string, number> = {};
  for (const { error, partition } of load.failed.values()) {
    const key = `${describe(error)} on ${partition}`;
    failures[key] = (failures[key] ?? 0) + 1;
  }
  return {
    violations: {
      misplaced: capped(misplaced),
      duplicated: capped(duplicated),
      storedButFailed: capped(storedButFailed),
      storedUnacknowledged: capped(storedUnacknowledged),
      gaps,
      unsettled,
    },
    figures: {
      sent: load.sent,
      acknowledged: load.acked.size,
      failed: load.failed.size,
      readBack,
      retries: load.retries,
      failures,
    },
  };
}

/**
 * Polls each partition's high watermark until it is past every offset
 * acknowledged there, for at most `timeoutMs`: a `buffered` ack promises the
 * record is kept, and it becomes readable once flushed into a segment.
 * Resolves either way: records still missing then show in {@link checkLog}.
 */
export async function waitUntilReadable(
  connection: AgentConnection,
  topic: string,
  acked: ReadonlyMap<string, Acked>,
  timeoutMs: number,
): Promise<void> {
  const needed = new Map<number, number>();
  for (const { partition, offset } of acked.values())
    needed.set(partition, Math.max(needed.get(partition) ?? 0, offset + 1));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { results } = await connection.client.listOffsets({
      partitions: [...needed.keys()].map((partition) => ({
        topic,
        partition,
        spec: OffsetSpec.OFFSET_SPEC_LATEST,
        timestampMs: 0,
      })),
    });
    if (results.every((r) => r.error === undefined && r.offset >= needed.get(r.partition)!) || Date.now() > deadline)
      return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An error's code, with its cause's for retries exhausted. */
function describe(error: unknown): string {
  if (!(error instanceof StreamHouseError)) return error instanceof Error ? error.name : String(error);
  const cause = error.cause instanceof StreamHouseError ? `(${error.cause.code})` : '';
  return `${error.code}${cause}`;
}

/** Prints a run's figures when STREAMHOUSE_FAULT_REPORT is set (for docs/guarantees.md). */
export function reportFigures(scenario: string, figures: LogFigures): void {
  if (process.env['STREAMHOUSE_FAULT_REPORT'] === undefined) return;
  console.log(`      [figures] ${scenario}: ${JSON.stringify(figures)}`);
}
