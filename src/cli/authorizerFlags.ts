/**
 * The `serve` flags of authorisation: `--authorizer acl` checks every call
 * against the ACLs `streamhouse acls` keeps (default `none`: all allowed),
 * `--superusers a,b` names principals every check allows, `--acl-refresh-ms`
 * how often the agent reads the ACLs again.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AuthorizerOptions } from '../agent/acl/authorizerOptions.js';
import { MAX_ACL_NAME_LENGTH } from '../metadata/aclRules.js';
import { InvalidConfigError } from '../protocol/errors.js';
import { AGENT_DEFAULTS } from '../agent/agentDefaults.js';
import { integerOption } from './integerOption.js';

export type AuthorizerFlags = {
  authorizer: 'none' | 'acl';
  superusers?: string[];
  aclRefreshMs: number;
};

/** `a,b` → ['a', 'b']; refuses empty names and names longer than an ACL principal may be. */
export function parseSuperusers(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_ACL_NAME_LENGTH)
      throw new InvalidArgumentError(
        `--superusers takes comma-separated principals of 1 to ${MAX_ACL_NAME_LENGTH} characters, got '${value}'.`,
      );
  }
  return names;
}

export function addAuthorizerOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--authorizer <kind>', 'acl: allow only what the ACLs allow (streamhouse acls); none: allow all')
        .env('STREAMHOUSE_AUTHORIZER')
        .choices(['none', 'acl'])
        .default(AGENT_DEFAULTS.serve.authorizer),
    )
    .addOption(
      new Option('--superusers <principals>', 'comma-separated principals every ACL check allows')
        .env('STREAMHOUSE_SUPERUSERS')
        .argParser(parseSuperusers),
    )
    .addOption(
      new Option('--acl-refresh-ms <ms>', 'read the ACLs from the metadata store again this often')
        .env('STREAMHOUSE_ACL_REFRESH_MS')
        .default(AGENT_DEFAULTS.aclRefreshMs)
        .argParser(integerOption('--acl-refresh-ms', { min: 1 })),
    );
}

/** The agent's authorizer option, or undefined for `--authorizer none`. */
export function authorizerOptions(flags: AuthorizerFlags): AuthorizerOptions | undefined {
  if (flags.authorizer === 'none') {
    if (flags.superusers !== undefined) throw new InvalidConfigError('--superusers needs --authorizer acl');
    return undefined;
  }
  return { superUsers: flags.superusers ?? [], refreshMs: flags.aclRefreshMs };
}
