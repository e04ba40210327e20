/**
 * Test support: a private redis-server on a loopback port of its own, with
 * an append-only file fsynced on every write, so that what it acknowledged
 * survives kill -9 and a restart on the same port and directory.
 */
import { spawnChild, type ExitStatus, type TestChild } from './childProcess.js';
import { freePort } from './freePort.js';

/** A running redis-server. */
export type RedisServerProcess = {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly child: TestChild;
  /** kill -9, then waits for the exit. */
  kill(): Promise<ExitStatus>;
};

/**
 * Starts redis-server (the binary on PATH) on `port` (default: a free one)
 * with its data in `dir`, and resolves once it accepts connections.
 */
export async function startRedisServer(dir: string, port?: number): Promise<RedisServerProcess> {
  const chosen = port ?? (await freePort());
  const child = spawnChild('redis-server', [
    '--port',
    String(chosen),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
  ]);
  try {
    await child.waitFor(/Ready to accept connections/, 15_000);
  } catch (error) {
    await child.kill();
    throw error;
  }
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, child, kill: () => child.kill() };
}
