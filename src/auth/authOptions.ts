/** How an agent authenticates its callers, with the defaults applied once. */
import { InvalidConfigError } from '../protocol/errors.js';
import { checkUserRecord, type UserRecord } from '../metadata/users.js';

/**
 * - `off`: no authentication; bearer tokens are ignored and SASL is not offered.
 * - `optional`: credentials are checked when presented (wrong ones refused); anonymous callers are served.
 * - `required`: every gRPC call and Kafka connection must authenticate first.
 */
export type AuthMode = 'off' | 'optional' | 'required';
export const AUTH_MODES: readonly AuthMode[] = ['off', 'optional', 'required'];

export type AuthOptions = {
  /** Default `off`. */
  mode?: AuthMode;
  /** Users beside those in the metadata store (from `--auth-file`); a name here wins over the store's. Default none. */
  users?: readonly UserRecord[];
  /**
   * How long a user read from the metadata store is reused, ms: a removed user or token lapses within it.
   * Default 5000.
   */
  userCacheMs?: number;
  /** A Kafka connection not authenticated within this is closed (mode `required`), ms. Default 10000. */
  saslTimeoutMs?: number;
};

export type ResolvedAuthOptions = {
  mode: AuthMode;
  users: ReadonlyMap<string, UserRecord>;
  userCacheMs: number;
  saslTimeoutMs: number;
};

export const DEFAULT_USER_CACHE_MS = 5000;
export const DEFAULT_SASL_TIMEOUT_MS = 10_000;

export function resolveAuthOptions(options: AuthOptions = {}): ResolvedAuthOptions {
  const {
    mode = 'off',
    users = [],
    userCacheMs = DEFAULT_USER_CACHE_MS,
    saslTimeoutMs = DEFAULT_SASL_TIMEOUT_MS,
  } = options;
  if (!AUTH_MODES.includes(mode)) throw new InvalidConfigError(`auth mode must be one of ${AUTH_MODES.join(', ')}`);
  for (const [name, value] of Object.entries({ userCacheMs, saslTimeoutMs })) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidConfigError(`${name} must be an integer >= 0`);
  }
  const byName = new Map<string, UserRecord>();
  for (const user of users) {
    const checked = checkUserRecord(user);
    if (byName.has(checked.name)) throw new InvalidConfigError(`user ${checked.name} is listed twice`);
    byName.set(checked.name, checked);
  }
  return { mode, users: byName, userCacheMs, saslTimeoutMs };
}
