/** Options of ACL authorisation on an agent (AgentOptions.authorizer), with their defaults. */
import { InvalidConfigError } from '../../protocol/errors.js';
import { MAX_ACL_NAME_LENGTH } from '../../metadata/aclRules.js';

export type AuthorizerOptions = {
  /** Principals every check allows, ACLs or not. Default none. */
  superUsers?: readonly string[];
  /**
   * The agent reads the store's ACLs again this often, ms: a change made with `streamhouse acls` takes effect
   * on every agent within about this long. Default 1000.
   */
  refreshMs?: number;
  /** A denial of one principal, resource and operation is logged at most once per this window, ms. Default 60000. */
  deniedLogWindowMs?: number;
};

export type ResolvedAuthorizerOptions = Required<AuthorizerOptions>;

export const DEFAULT_ACL_REFRESH_MS = 1000;
export const DEFAULT_DENIED_LOG_WINDOW_MS = 60_000;

/** The options with defaults applied; InvalidConfigError naming what to change. */
export function resolveAuthorizerOptions(options: AuthorizerOptions): ResolvedAuthorizerOptions {
  const {
    superUsers = [],
    refreshMs = DEFAULT_ACL_REFRESH_MS,
    deniedLogWindowMs = DEFAULT_DENIED_LOG_WINDOW_MS,
  } = options;
  if (!Number.isSafeInteger(refreshMs) || refreshMs <= 0)
    throw new InvalidConfigError(`authorizer option refreshMs must be a positive integer, got ${refreshMs}`);
  if (!Number.isSafeInteger(deniedLogWindowMs) || deniedLogWindowMs < 0)
    throw new InvalidConfigError(
      `authorizer option deniedLogWindowMs must be a non-negative integer, got ${deniedLogWindowMs}`,
    );
  for (const user of superUsers) {
    if (typeof user !== 'string' || user.length === 0 || user.length > MAX_ACL_NAME_LENGTH)
      throw new InvalidConfigError(`superuser names must be 1 to ${MAX_ACL_NAME_LENGTH} characters, got '${user}'`);
  }
  return { superUsers: [...superUsers], refreshMs, deniedLogWindowMs };
}
