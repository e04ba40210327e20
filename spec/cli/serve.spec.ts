/**
 * `streamhouse serve` as an operator runs it (a real process): it exits
 * non-zero naming the store when Redis is unreachable, refuses a data
 * directory another running agent holds, takes over one left by a killed
 * agent, and exits 0 on SIGTERM.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, isListening, within } from '../support/faults.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Starting a process through tsx takes a few seconds on a loaded machine. */
const PROCESS_MS = 30_000;

type ServeProcess = {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the address once the agent says it listens. */
  listening: Promise<string>;
};

function serveProcess(args: string[]): ServeProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--no-kafka', '--http-port', '0', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let announce: (address: string) => void = () => undefined;
  const listening = new Promise<string>((resolve) => (announce = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const match = /listening on (\S+)/.exec(stdout);
    if (match !== null) announce(match[1]!);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited, listening };
}

describe('cli/serve: failures', function () {
  this.timeout(120_000);
  let dataDir: string;
  const running: ServeProcess[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sh-serve-'));
  });
  afterEach(async () => {
    for (const p of running.splice(0))
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits non-zero naming Redis when it is unreachable, after --startup-timeout-ms', async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const serve = serveProcess([
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--metadata',
      `redis://127.0.0.1:${redisPort}`,
      '--startup-timeout-ms',
      '1000',
      '--log-level',
      'warn',
    ]);
    running.push(serve);
    expect(await within(PROCESS_MS, serve.exited, 'serve')).to.deep.equal({ code: 1, signal: null });
    expect(serve.stderr()).to.match(
      new RegExp(
        `\\nerror METADATA_ERROR: agent cannot start: metadata store is not usable within 1000 ms ` +
          `\\(startupTimeoutMs\\): Redis at 127\\.0\\.0\\.1:${redisPort} did not answer PING: .*ECONNREFUSED.*\\n$`,
      ),
    );
    expect(serve.stderr()).to.contain('waiting for the metadata store: Redis at');
    expect(serve.stdout()).to.equal('');
    expect(await isListening(port)).to.equal(false);
  });

  it('refuses bad failure-bound flags, naming them, and leaves no lock behind', async () => {
    const zero = serveProcess([
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--startup-timeout-ms',
      '0',
      '--log-level',
      'silent',
    ]);
    const negative = serveProcess(['--data-dir', dataDir, '--port', '0', '--shutdown-timeout-ms', '-1']);
    running.push(zero, negative);
    expect(await within(PROCESS_MS, zero.exited, 'serve')).to.deep.equal({ code: 1, signal: null });
    expect(zero.stderr()).to.equal(
      "error: option '--startup-timeout-ms <ms>' argument '0' is invalid. --startup-timeout-ms must be a decimal " +
        "integer from 1 to 9007199254740991, got '0'.\n",
    );
    expect(await within(PROCESS_MS, negative.exited, 'serve')).to.deep.equal({ code: 1, signal: null });
    expect(negative.stderr()).to.contain(
      "--shutdown-timeout-ms must be a decimal integer from 0 to 9007199254740991, got '-1'.",
    );
    expect(await readdir(dataDir)).to.not.include('streamhouse.lock');
  });

  it('refuses a data directory in use, takes it over after a kill -9, and exits 0 on SIGTERM', async () => {
    const args = ['--data-dir', dataDir, '--port', '0', '--log-level', 'warn', '--maintenance-interval-ms', '0'];
    const first = serveProcess(args);
    running.push(first);
    await within(PROCESS_MS, first.listening, 'the first agent to listen');

    const second = serveProcess(args);
    running.push(second);
    expect(await within(PROCESS_MS, second.exited, 'the second serve')).to.deep.equal({ code: 1, signal: null });
    expect(second.stderr()).to.equal(
      `error INVALID_CONFIG: directory ${dataDir} is in use by a process (pid ${first.child.pid} on ${hostname()}): ` +
        `stop that agent or give this one another directory; if that agent is gone, delete ` +
        `${join(dataDir, 'streamhouse.lock')}\n`,
    );

    first.child.kill('SIGKILL');
    await first.exited;
    const third = serveProcess(args);
    running.push(third);
    const address = await within(PROCESS_MS, third.listening, 'the agent after the kill to listen');
    expect(await isListening(Number(address.split(':')[1]))).to.equal(true);
    third.child.kill('SIGTERM');
    expect(await within(PROCESS_MS, third.exited, 'serve after SIGTERM')).to.deep.equal({ code: 0, signal: null });
    expect(third.stdout()).to.match(/\nStreamHouse agent stopped\.\n$/);
  });
});
