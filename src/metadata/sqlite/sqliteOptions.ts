/** Options of the SQLite metadata store. */
import { InvalidRequestError } from '../../protocol/errors.js';

/**
 * How hard SQLite syncs a commit to disk (in WAL mode):
 * - `full` (default): every transaction is fsynced before it returns. A
 *   segment commit is the point where a durable Produce is acknowledged, so it
 *   must survive a power loss, not only a process crash; the cost is one small
 *   fsync (~0.25 ms) per commit.
 * - `normal`: survives a process crash but a power loss may roll back the last
 *   commits (never corrupts the file). Only for tests and benchmarks that do
 *   not need the durable-ack promise.
 */
export type SqliteSynchronous = 'full' | 'normal';

export type SqliteMetadataStoreOptions = {
  /**
   * Path of the database file (created if missing), or `':memory:'` for a private in-memory store (tests). Required.
   */
  path: string;
  /** Current time in ms since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** How long a write waits for another connection's lock before failing with MetadataError, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Durability of each transaction; see SqliteSynchronous. Default `'full'`. */
  synchronous?: SqliteSynchronous;
};

/** @internal The options with defaults applied. */
export type ResolvedSqliteOptions = Required<SqliteMetadataStoreOptions>;

/** @internal Applies the defaults once and checks the values. */
export function resolveSqliteOptions(options: SqliteMetadataStoreOptions): ResolvedSqliteOptions {
  const { path, clock = Date.now, busyTimeoutMs = 5000, synchronous = 'full' } = options;
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidRequestError("SQLite metadata path is empty: give a file path or ':memory:'");
  }
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidRequestError(`busyTimeoutMs ${busyTimeoutMs} is invalid: use a non-negative integer (ms)`);
  }
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new InvalidRequestError(`synchronous '${String(synchronous)}' is invalid: use 'full' or 'normal'`);
  }
  return { path, clock, busyTimeoutMs, synchronous };
}
