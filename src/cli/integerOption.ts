/**
 * The one parser of every numeric CLI flag: a decimal integer (no sign but
 * `-`, no fraction, exponent, hex or spaces) within the flag's range, or
 * `-1` where the flag says it means "no limit". Anything else is refused
 * with a commander InvalidArgumentError that names the flag and the range,
 * so the command exits non-zero before it sends anything.
 */
import { InvalidArgumentError } from 'commander';

/** Values a flag accepts. */
export type IntegerRange = {
  /** Smallest value. Default 0. */
  min?: number;
  /** Largest value. Default Number.MAX_SAFE_INTEGER. */
  max?: number;
  /** When set, -1 is accepted too and means this (e.g. 'keep forever'). */
  minusOne?: string;
};

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** Parses `value` of `flag`; throws InvalidArgumentError unless it is an accepted integer. */
export function parseIntegerOption(flag: string, value: string, range: IntegerRange = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, minusOne } = range;
  const n = DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
  if (minusOne !== undefined && n === -1) return n;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const accepted = `${minusOne === undefined ? '' : `-1 (${minusOne}) or `}a decimal integer from ${min} to ${max}`;
  throw new InvalidArgumentError(`${flag} must be ${accepted}, got '${value}'.`);
}

/** A commander argument parser for `flag` (see parseIntegerOption). */
export function integerOption(flag: string, range: IntegerRange = {}): (value: string) => number {
  return (value) => parseIntegerOption(flag, value, range);
}
