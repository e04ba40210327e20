/**
 * Test support: an agent in a process of its own, started the way an operator
 * starts one (`streamhouse serve`, here `node --import tsx src/cli/main.ts
 * serve`), so that a test can kill -9 it, SIGSTOP it or restart it on the
 * same port and data directory.
 */
import { fileURLToPath } from 'node:url';
import { spawnChild, type ExitStatus, type TestChild } from './childProcess.js';
import { freePort } from './freePort.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Flags of one `serve` process. */
export type AgentProcessOptions = {
  /** `--data-dir`: objects/, wal/, metadata.db (unless `metadata` says otherwise), agent-id. */
  dataDir: string;
  /** Port to listen on. Default: a free one, chosen before the start (so a restart can reuse it). */
  port?: number;
  /** `--agent-id`; needed when agents share a data directory. Default: the one kept in the data directory. */
  agentId?: string;
  /** `--metadata`, e.g. `redis://127.0.0.1:6379`. Default: SQLite in the data directory. */
  metadata?: string;
  /** `--redis-prefix`. */
  redisPrefix?: string;
  /** `--lease-ttl-ms`. */
  leaseTtlMs?: number;
  /** `--advertised-address`, e.g. a proxy's address. */
  advertisedAddress?: string;
  /** Further flags, as given. */
  extraArgs?: string[];
  /** Give up waiting for the "listening" line after this long, ms. Default 30 000. */
  startTimeoutMs?: number;
};

/** A running agent process. */
export type AgentProcess = {
  /** host:port it listens on. */
  readonly address: string;
  readonly port: number;
  readonly agentId: string;
  readonly pid: number;
  /** The options it was started with (its port included), for a restart. */
  readonly options: AgentProcessOptions & { port: number };
  readonly child: TestChild;
  /** kill -9, then waits for the exit. */
  kill(): Promise<ExitStatus>;
  /** SIGTERM (after SIGCONT, in case it is stopped) and waits for a graceful exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
  /** SIGSTOP: the process freezes; its sockets stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
};

/** Starts `serve` and resolves once it prints that it listens. */
export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const port = options.port ?? (await freePort());
  const args = [
    '--import',
    'tsx',
    MAIN,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--no-kafka',
    '--http-port',
    '0',
    '--data-dir',
    options.dataDir,
    '--log-level',
    'warn',
  ];
  if (options.agentId !== undefined) args.push('--agent-id', options.agentId);
  if (options.metadata !== undefined) args.push('--metadata', options.metadata);
  if (options.redisPrefix !== undefined) args.push('--redis-prefix', options.redisPrefix);
  if (options.leaseTtlMs !== undefined) args.push('--lease-ttl-ms', String(options.leaseTtlMs));
  if (options.advertisedAddress !== undefined) args.push('--advertised-address', options.advertisedAddress);
  args.push(...(options.extraArgs ?? []));
  const child = spawnChild(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
  let match: RegExpMatchArray;
  try {
    match = await child.waitFor(/StreamHouse agent (\S+) listening on (\S+)/, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await child.kill();
    throw error;
  }
  const address = match[2]!;
  return {
    address,
    port,
    agentId: match[1]!,
    pid: child.pid,
    options: { ...options, port },
    child,
    kill: () => child.kill(),
    async stop(timeoutMs = 10_000) {
      child.signal('SIGCONT');
      child.signal('SIGTERM');
      const timer = setTimeout(() => child.signal('SIGKILL'), timeoutMs);
      const status = await child.exited;
      clearTimeout(timer);
      return status;
    },
    pause: () => child.signal('SIGSTOP'),
    resume: () => child.signal('SIGCONT'),
  };
}

/** Starts the same agent again: same port, data directory and flags. */
export function restartAgentProcess(previous: AgentProcess): Promise<AgentProcess> {
  return startAgentProcess(previous.options);
}
