/** The `--agent`, `--tls-*` and `--token` options shared by the client commands. */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { ClientTlsOptions } from '../client/tlsOptions.js';
import { InvalidConfigError } from '../protocol/errors.js';
import { AGENT_DEFAULTS } from '../agent/agentDefaults.js';

/** Port of the agent the client commands talk to by default: the one `serve` listens on. */
export const DEFAULT_PORT = AGENT_DEFAULTS.serve.port;

export function agentOption(): Option {
  return new Option('-a, --agent <host:port>', 'agent to talk to')
    .env('STREAMHOUSE_AGENT')
    .default(`127.0.0.1:${DEFAULT_PORT}`);
}

/**
 * Parses a boolean option strictly: `true`/`1` or `false`/`0`; anything else fails with a message naming the option.
 */
export function booleanOption(name: string) {
  return (value: string): boolean => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new Error(`${name} must be true, false, 1 or 0, got '${value}'`);
  };
}

/** The flags of every command that talks to an agent: `--agent` and the `--tls-*` ones. */
export type AgentFlags = {
  agent: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServername?: string;
  /** Bearer token (`--token` or STREAMHOUSE_TOKEN); never printed. */
  token?: string;
};

/** The `--tls-*` options of the client commands (files are read when the command runs). */
export function tlsOptions(): Option[] {
  return [
    new Option('--tls-ca <file>', 'connect over TLS, trusting these PEM CA certificates').env(
      'STREAMHOUSE_CLIENT_TLS_CA',
    ),
    new Option('--tls-cert <file>', 'PEM client certificate (mutual TLS; implies TLS)').env(
      'STREAMHOUSE_CLIENT_TLS_CERT',
    ),
    new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('STREAMHOUSE_CLIENT_TLS_KEY'),
    new Option('--tls-servername <name>', "name the agent's certificate must carry (default the host dialled)").env(
      'STREAMHOUSE_CLIENT_TLS_SERVERNAME',
    ),
  ];
}

/** The `--token` option: a bearer token for agents that authenticate (prefer the variable: argv is visible). */
export function tokenOption(): Option {
  return new Option('--token <token>', 'bearer token sent to the agent (see `streamhouse users add --token`)').env(
    'STREAMHOUSE_TOKEN',
  );
}

/** Adds {@link tlsOptions} and {@link tokenOption} to every command under `program` that has the `--agent` option. */
export function addTlsOptions(program: Command): void {
  for (const command of program.commands) {
    if (command.options.some((o) => o.long === '--agent')) {
      for (const option of tlsOptions()) command.addOption(option);
      command.addOption(tokenOption());
    }
    addTlsOptions(command);
  }
}

/** The client's tls option from the flags, or undefined (plain text) when no `--tls-*` flag is given. */
export function clientTls(flags: AgentFlags): ClientTlsOptions | undefined {
  const { tlsCa, tlsCert, tlsKey, tlsServername } = flags;
  if ([tlsCa, tlsCert, tlsKey, tlsServername].every((v) => v === undefined)) return undefined;
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new InvalidConfigError(`${flag} ${path} cannot be read: ${(error as Error).message}`);
    }
  };
  return {
    ...(tlsCa !== undefined ? { ca: read('--tls-ca', tlsCa) } : {}),
    ...(tlsCert !== undefined ? { cert: read('--tls-cert', tlsCert) } : {}),
    ...(tlsKey !== undefined ? { key: read('--tls-key', tlsKey) } : {}),
    ...(tlsServername !== undefined ? { servername: tlsServername } : {}),
  };
}
