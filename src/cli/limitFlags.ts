/**
 * The `serve` flags of the agent's per-address, long-poll, topic and quota
 * limits (docs/security.md, "Limits and quotas"), and the agent options
 * they give.
 */
import { type Command, Option } from 'commander';
import type { AgentOptions } from '../agent/agentOptions.js';
import { AGENT_DEFAULTS } from '../agent/agentDefaults.js';
import { parsePrincipalRates, type PrincipalQuota } from '../agent/server/byteRateQuotas.js';
import { integerOption } from './integerOption.js';

export type LimitFlags = {
  maxConnectionsPerAddress: number;
  maxLongPolls: number;
  maxTopics: number;
  maxPartitionsPerTopic: number;
  produceQuota: number;
  fetchQuota: number;
  produceQuotaPrincipals?: string;
  fetchQuotaPrincipals?: string;
};

type Spec = [flag: string, env: string, help: string, fallback: number, min: number];

const INTEGER_FLAGS: Spec[] = [
  [
    '--max-connections-per-address <n>',
    'MAX_CONNECTIONS_PER_ADDRESS',
    'most connections one client address holds open, per port (gRPC, Kafka)',
    AGENT_DEFAULTS.maxConnectionsPerAddress,
    1,
  ],
  [
    '--max-long-polls <n>',
    'MAX_LONG_POLLS',
    'most Fetch calls waiting for data at once; beyond it a Fetch answers at once with what there is',
    AGENT_DEFAULTS.maxLongPolls,
    1,
  ],
  [
    '--max-topics <n>',
    'MAX_TOPICS',
    'most topics in the cluster (CreateTopic beyond it: INVALID_CONFIG)',
    AGENT_DEFAULTS.maxTopics,
    1,
  ],
  [
    '--max-partitions-per-topic <n>',
    'MAX_PARTITIONS_PER_TOPIC',
    'most partitions of one topic (CreateTopic beyond it: INVALID_CONFIG)',
    AGENT_DEFAULTS.maxPartitionsPerTopic,
    1,
  ],
  [
    '--produce-quota <bytes/s>',
    'PRODUCE_QUOTA',
    'produce bytes per second per principal, beyond which answers are throttled (0 = none)',
    AGENT_DEFAULTS.produceQuotaBytesPerSecond,
    0,
  ],
  [
    '--fetch-quota <bytes/s>',
    'FETCH_QUOTA',
    'fetch bytes per second per principal, beyond which answers are throttled (0 = none)',
    AGENT_DEFAULTS.fetchQuotaBytesPerSecond,
    0,
  ],
];

/** Adds the limit flags to `command`. */
export function addLimitFlags(command: Command): Command {
  for (const [flag, env, help, fallback, min] of INTEGER_FLAGS) {
    const name = flag.split(' ', 1)[0]!;
    command.addOption(
      new Option(flag, help).env(`STREAMHOUSE_${env}`).default(fallback).argParser(integerOption(name, { min })),
    );
  }
  return command
    .addOption(
      new Option(
        '--produce-quota-principals <list>',
        'per-principal produce quotas: alice=1048576,bob=0 (0 = none)',
      ).env('STREAMHOUSE_PRODUCE_QUOTA_PRINCIPALS'),
    )
    .addOption(
      new Option('--fetch-quota-principals <list>', 'per-principal fetch quotas: alice=1048576,bob=0 (0 = none)').env(
        'STREAMHOUSE_FETCH_QUOTA_PRINCIPALS',
      ),
    );
}

/** The agent options of the limit flags; throws InvalidConfigError on a malformed principal list. */
export function limitOptions(flags: LimitFlags): Partial<AgentOptions> {
  const principalQuotas: Record<string, PrincipalQuota> = {};
  const add = (list: string | undefined, flag: string, key: keyof PrincipalQuota) => {
    if (list === undefined) return;
    for (const [principal, rate] of parsePrincipalRates(flag, list)) {
      principalQuotas[principal] = { ...principalQuotas[principal], [key]: rate };
    }
  };
  add(flags.produceQuotaPrincipals, '--produce-quota-principals', 'produceBytesPerSecond');
  add(flags.fetchQuotaPrincipals, '--fetch-quota-principals', 'fetchBytesPerSecond');
  return {
    maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
    maxLongPolls: flags.maxLongPolls,
    maxTopics: flags.maxTopics,
    maxPartitionsPerTopic: flags.maxPartitionsPerTopic,
    produceQuotaBytesPerSecond: flags.produceQuota,
    fetchQuotaBytesPerSecond: flags.fetchQuota,
    principalQuotas,
  };
}
