/**
 * Per-principal byte-rate quotas (produce and fetch are separate instances).
 * Each principal's bytes are charged to a virtual clock that runs ahead by
 * `bytes / rate` per call; a principal more than one second of its rate ahead
 * of real time is throttled by the difference. Throttling delays answers,
 * it never drops them: over time a principal gets its rate, with bursts of
 * up to one second's worth.
 */
import { InvalidConfigError } from '../../protocol/errors.js';
/** Burst a principal may send (or fetch) at once before it is throttled, in seconds of its rate. */
export const QUOTA_BURST_SECONDS = 1;
/** Principals whose state is kept at once; the idlest are forgotten beyond it (they then start afresh). */
export const MAX_TRACKED_PRINCIPALS = 10_000;

/** Byte rates of one principal; 0 or absent: not limited. */
export type PrincipalQuota = { produceBytesPerSecond?: number; fetchBytesPerSecond?: number };

/** What a quota did to one principal so far. */
export type QuotaUsage = { bytes: number; throttleMs: number };

type State = { aheadUntil: number; bytes: number; throttleMs: number };

export class ByteRateQuotas {
  private readonly states = new Map<string, State>();

  /**
   * @param defaultBytesPerSecond rate of principals not in `perPrincipal`; 0: not limited.
   * @param perPrincipal rates of named principals (0: not limited, whatever the default).
   */
  constructor(
    readonly defaultBytesPerSecond: number,
    private readonly perPrincipal: ReadonlyMap<string, number>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The rate that applies to `principal`, bytes/s; 0 when not limited. */
  rateOf(principal: string): number {
    return this.perPrincipal.get(principal) ?? this.defaultBytesPerSecond;
  }

  /** Charges `bytes` to `principal`; how long its answer must be delayed, ms (0 within its quota). */
  record(principal: string, bytes: number): number {
    const rate = this.rateOf(principal);
    if (rate <= 0 || bytes <= 0) return 0;
    const now = this.clock();
    let state = this.states.get(principal);
    if (state === undefined) {
      if (this.states.size >= MAX_TRACKED_PRINCIPALS) this.forgetIdlest();
      state = { aheadUntil: now, bytes: 0, throttleMs: 0 };
    } else this.states.delete(principal);
    // Re-inserted: the map's order is least recently charged first.
    this.states.set(principal, state);
    state.aheadUntil = Math.max(state.aheadUntil, now) + (bytes * 1000) / rate;
    state.bytes += bytes;
    const throttle = Math.max(0, Math.ceil(state.aheadUntil - now - QUOTA_BURST_SECONDS * 1000));
    state.throttleMs += throttle;
    return throttle;
  }

  /** Bytes charged to `principal` and the throttle it was given, since it was first charged. */
  usage(principal: string): QuotaUsage {
    const state = this.states.get(principal);
    return { bytes: state?.bytes ?? 0, throttleMs: state?.throttleMs ?? 0 };
  }

  /** Forgets the least recently charged principal (the map's first). */
  private forgetIdlest(): void {
    const idlest = this.states.keys().next();
    if (idlest.done !== true) this.states.delete(idlest.value);
  }
}

/** Checks a quota's rate: a non-negative safe integer, bytes/s. */
export function checkRate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidConfigError(`agent option ${name} must be a non-negative integer (bytes/s), got ${value}`);
  }
  return value;
}

/**
 * Parses `principal=bytesPerSecond` pairs separated by commas (the form of the quota flags), e.g.
 * `alice=1048576,batch-jobs=262144`; throws InvalidConfigError naming the bad pair.
 */
export function parsePrincipalRates(flag: string, text: string): Map<string, number> {
  const rates = new Map<string, number>();
  for (const pair of text.split(',')) {
    const at = pair.lastIndexOf('=');
    const principal = pair.slice(0, at).trim();
    const rate = pair.slice(at + 1).trim();
    if (at <= 0 || principal === '' || !/^\d+$/.test(rate) || !Number.isSafeInteger(Number(rate))) {
      throw new InvalidConfigError(`${flag} takes principal=bytesPerSecond pairs separated by commas, got '${pair}'`);
    }
    rates.set(principal, Number(rate));
  }
  return rates;
}
