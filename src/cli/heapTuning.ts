/**
 * V8 heap tuning for the agent process (`streamhouse serve`).
 *
 * An agent keeps a small JavaScript heap (about 20 MB) while hundreds of MB
 * per second of Produce and Fetch payloads pass through it as Buffers. V8
 * sizes the point of its next full (mark-compact) collection from the small
 * heap, with a growing factor it picks from the heap alone, so under load it
 * ran a full concurrent marking every 100 ms or so: measured with
 * bench/producer and a raw Produce load, that was a third of the agent's CPU
 * per record, spent on V8's background threads. Letting the heap grow by a
 * fixed 400 % between full collections (to about 100 MB here) cut the full
 * collections by four and the agent's CPU per record by 25-35 %.
 *
 * The setting is process-wide, so only the agent's own process applies it;
 * an agent embedded with startAgent() leaves its host's heap alone.
 */
import { setFlagsFromString } from 'node:v8';
import { InvalidConfigError } from '../protocol/errors.js';

/** Default of `serve --heap-growing-percent`. */
export const DEFAULT_HEAP_GROWING_PERCENT = 400;

/** Largest accepted value: a heap growing 100-fold between full collections is no longer a tuning. */
export const MAX_HEAP_GROWING_PERCENT = 10_000;

/**
 * Lets V8's old generation grow by `percent` % of what survived the last
 * full collection before it starts the next one (V8's
 * `--heap-growing-percent`). 0 keeps V8's own adaptive factor.
 *
 * @throws InvalidConfigError when `percent` is not an integer in [0, MAX_HEAP_GROWING_PERCENT].
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (!Number.isSafeInteger(percent) || percent < 0 || percent > MAX_HEAP_GROWING_PERCENT) {
    throw new InvalidConfigError(
      `heap growing percent must be an integer from 0 (V8's default) to ${MAX_HEAP_GROWING_PERCENT}, got ${percent}`,
    );
  }
  // V8 reads this flag whenever it sets the next limit, so setting it after start-up takes effect.
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
