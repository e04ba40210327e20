/** The `--agent` option shared by the client commands. */
import { Option } from 'commander';

export const DEFAULT_PORT = 9660;

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
