/**
 * Test support: the `streamhouse` command run as a real process
 * (`node --import tsx src/cli/main.ts …`), with an environment free of the
 * caller's STREAMHOUSE_* settings.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** How a process ended and what it wrote. */
export type Finished = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** The environment without any STREAMHOUSE_* or AWS_REGION variable, plus `extra`. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('STREAMHOUSE_') && name !== 'AWS_REGION') env[name] = value;
  }
  return { ...env, ...extra };
}

function spawnCli(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: environment(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves when it has exited and its streams have closed. */
function finished(
  child: ChildProcessWithoutNullStreams,
  output: { stdout: string; stderr: string },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, ...output }));
  });
}

function capture(child: ChildProcessWithoutNullStreams): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return output;
}

/**
 * Runs one command to its end, writing `input` to its standard input;
 * killed (and the promise rejected) after `timeoutMs`.
 */
export async function runCli(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Finished> {
  const { input = '', env = {}, timeoutMs = 15_000 } = options;
  const child = spawnCli(args, env);
  const output = capture(child);
  const done = finished(child, output);
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const result = await done;
    if (result.signal === 'SIGKILL')
      throw new Error(
        `streamhouse ${args.join(' ')} did not end within ${timeoutMs} ms:\n${result.stdout}\n${result.stderr}`,
      );
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** `streamhouse serve` running in the background. */
export class ServeProcess {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly output: { stdout: string; stderr: string },
    private readonly done: Promise<Finished>,
    /** The agent id it printed. */
    readonly agentId: string,
    /** The address it printed. */
    readonly address: string,
  ) {}

  /**
   * Starts `serve` with these arguments and waits for its banner (failing if it exits first or takes over
   * `timeoutMs`).
   */
  static async start(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<ServeProcess> {
    const child = spawnCli(['serve', ...args], env);
    const output = capture(child);
    const done = finished(child, output);
    child.stdin.end();
    const banner = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => fail(`serve printed no banner within ${timeoutMs} ms`), timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${why}\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
      };
      const check = () => {
        const match = /^StreamHouse agent (\S+) listening on (\S+)\n[\s\S]*Ctrl-C stops the agent gracefully\.\n/.exec(
          output.stdout,
        );
        if (match === null) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(match);
      };
      child.stdout.on('data', check);
      void done.then((result) => fail(`serve exited with ${result.code ?? result.signal} before its banner`));
    });
    return new ServeProcess(child, output, done, banner[1]!, banner[2]!);
  }

  /** What it has written to standard output so far. */
  get stdout(): string {
    return this.output.stdout;
  }

  /** What it has written to standard error (its log) so far. */
  get stderr(): string {
    return this.output.stderr;
  }

  /** Sends `signal` without waiting for anything. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends `signal` (Ctrl-C by default) and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 20_000): Promise<Finished> {
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills it at once if it still runs (test cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.done;
  }
}
