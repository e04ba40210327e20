/** Argument checks for ranged reads, shared by every ObjectStore backend. */
import { InvalidRequestError } from '../protocol/errors.js';

/**
 * Throws InvalidRequestError unless `start` and `length` are non-negative
 * safe integers. (Whether `start` lies within the object is checked by the
 * backend, which knows the size.)
 */
export function assertValidRange(key: string, start: number, length: number): void {
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new InvalidRequestError(`range start ${start} for ${key} is not a non-negative integer`, {
      context: { objectKey: key },
    });
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new InvalidRequestError(`range length ${length} for ${key} is not a non-negative integer`, {
      context: { objectKey: key },
    });
  }
}
