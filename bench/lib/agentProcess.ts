/**
 * Starts one agent as a separate process (`streamhouse serve` on the
 * TypeScript sources through tsx) on a free loopback port with a temporary
 * data directory, so a benchmark's client and agent do not share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AgentProcess = {
  address: string;
  /** host:port of its Kafka listener, when started with `--kafka-port`. */
  kafkaAddress: string | undefined;
  dataDir: string;
  child: ChildProcess;
  /** CPU time (user + system) the agent process has used so far, in seconds (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  stop(): Promise<void>;
};

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ, fixed at 100 on every architecture Node runs on). */
const TICKS_PER_SECOND = 100;

/** CPU seconds of a process from /proc/<pid>/stat (utime + stime), NaN when unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces; the fields after its closing parenthesis are plain
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startAgentProcess(extraArgs: string[] = [], nodeArgs: string[] = []): Promise<AgentProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sh-bench-'));
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      'tsx',
      join(root, 'src/cli/main.ts'),
      'serve',
      // Kafka only when asked for with --kafka-port
      ...(extraArgs.includes('--kafka-port') ? [] : ['--no-kafka']),
      '--http-port',
      '0',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      const kafkaReady = !extraArgs.includes('--kafka-port') || /Kafka clients: \S+/.test(out);
      if (match !== null && kafkaReady) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code} before listening: ${out}`)));
  });
  return {
    address,
    kafkaAddress: /Kafka clients: (\S+)/.exec(out)?.[1],
    dataDir,
    child,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
