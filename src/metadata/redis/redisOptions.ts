/** Options of the Redis metadata store. */
import { Redis, type RedisOptions } from 'ioredis';
import { InvalidRequestError } from '../../protocol/errors.js';

export type RedisMetadataStoreOptions = {
  /**
   * Redis to connect to. Default `process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'`. Ignored when `client` is given.
   */
  url?: string;
  /**
   * An existing ioredis client to use instead of opening a connection. The
   * store defines its script commands on it and does not close it. It must not
   * use ioredis' own `keyPrefix` option (the store prefixes keys itself).
   */
  client?: Redis;
  /**
   * Prefix of every key the store reads or writes. Default `'streamhouse:'`.
   * Stores sharing one Redis stay apart when no prefix is a prefix of another.
   */
  keyPrefix?: string;
  /** Current time in ms since the epoch; lease expiry and heartbeats use it, not Redis' clock. Default `Date.now`. */
  clock?: () => number;
  /**
   * A command that has no answer after this many ms fails with a retriable
   * MetadataError (ioredis `commandTimeout`), so a frozen Redis cannot freeze
   * the agent's requests. Applies to the connection the store opens, not to a
   * `client` passed in. Default 5000.
   */
  commandTimeoutMs?: number;
  /**
   * Extra ioredis options for the connection the store opens. The store's
   * defaults: `maxRetriesPerRequest: 2` (a call fails with MetadataError after
   * two reconnection attempts instead of waiting forever),
   * `connectTimeout: 5000` ms and `commandTimeout: commandTimeoutMs`.
   */
  redisOptions?: RedisOptions;
};

/** Default {@link RedisMetadataStoreOptions.commandTimeoutMs}. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 5000;

/** @internal The options with defaults applied. */
export type ResolvedRedisOptions = {
  client: Redis;
  /** Whether the store opened the client (and so closes it). */
  ownsClient: boolean;
  keyPrefix: string;
  clock: () => number;
};

/** The default Redis URL: REDIS_URL or the local default port. */
export function defaultRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** @internal Applies the defaults once; opens the connection unless a client was given. */
export function resolveRedisOptions(options: RedisMetadataStoreOptions | Redis): ResolvedRedisOptions {
  const normalized: RedisMetadataStoreOptions = options instanceof Redis ? { client: options } : options;
  const {
    url = defaultRedisUrl(),
    client,
    keyPrefix = 'streamhouse:',
    clock = Date.now,
    commandTimeoutMs = DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    redisOptions = {},
  } = normalized;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0) {
    throw new InvalidRequestError(
      "keyPrefix is empty: give a prefix such as 'streamhouse:' so the store's keys stay apart",
    );
  }
  if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new InvalidRequestError(`commandTimeoutMs ${commandTimeoutMs} is invalid: use a positive integer (ms)`);
  }
  if (client !== undefined) {
    if (client.options.keyPrefix) {
      throw new InvalidRequestError('the ioredis client has its own keyPrefix: pass keyPrefix to the store instead');
    }
    return { client, ownsClient: false, keyPrefix, clock };
  }
  const opened = new Redis(url, {
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    commandTimeout: commandTimeoutMs,
    ...redisOptions,
  });
  // Failures reach callers through rejected commands; without a listener ioredis would also print each one.
  opened.on('error', () => {});
  return { client: opened, ownsClient: true, keyPrefix, clock };
}
