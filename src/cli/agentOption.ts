/** The `--agent` option shared by the client commands. */
import { Option } from 'commander';

export const DEFAULT_PORT = 9660;

export function agentOption(): Option {
  return new Option('-a, --agent <host:port>', 'agent to talk to').env('STREAMHOUSE_AGENT').default(`127.0.0.1:${DEFAULT_PORT}`);
}
