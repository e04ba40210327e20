/**
 * Test support: child processes that a test starts, waits on and kills. Every
 * child still running when the test process exits is killed with SIGKILL, so
 * a failed test never leaves an agent or a redis-server behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** How a child ended. */
export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

/** A child process with its output kept for diagnostics. */
export type TestChild = {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** The last 64 KiB of stdout and stderr, interleaved as they arrived. */
  output(): string;
  /**
   * Resolves with the first match of `pattern` in the output (from the start), or rejects at exit or after
   * `timeoutMs`.
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Sends a signal (no-op once exited). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<ExitStatus>;
};

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `command` with its stdout and stderr captured. */
export function spawnChild(command: string, args: string[], options: SpawnOptions = {}): TestChild {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const child of running) child.kill('SIGKILL');
    });
  }
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      for (const listener of listeners) listener();
    });
    child.once('error', (error) => {
      output += `\nspawn failed: ${error.message}`;
      running.delete(child);
      resolve({ code: null, signal: null });
      for (const listener of listeners) listener();
    });
  });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null || !running.has(child);
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    output: () => output,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match !== null) return done(() => resolve(match));
          if (hasExited())
            return done(() => reject(new Error(`${command} exited before printing ${pattern}:\n${output}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${output}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    signal(signal) {
      if (!hasExited()) child.kill(signal);
    },
    async kill() {
      if (!hasExited()) child.kill('SIGKILL');
      return exited;
    },
  };
}
