/** The lock that keeps a second agent off a directory, on real files. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryLock, LOCK_FILE_NAME } from '../../../src/agent/server/directoryLock.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';
import { rejection } from '../../support/agentHarness.js';

describe('agent/DirectoryLock', () => {
  let dir: string;
  const held: DirectoryLock[] = [];
  const lockPath = () => join(dir, LOCK_FILE_NAME);
  const acquire = async (agentId?: string) => {
    const lock = await DirectoryLock.acquire(agentId === undefined ? { dir } : { dir, agentId });
    held.push(lock);
    return lock;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-lock-'));
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((l) => l.release()));
    await rm(dir, { recursive: true, force: true });
  });

  it('writes its owner, refuses a second holder, and is free again once released', async () => {
    const lock = await acquire('agent-a');
    const owner = JSON.parse(await readFile(lockPath(), 'utf8')) as Record<string, unknown>;
    expect([owner['pid'], owner['hostname'], owner['agentId'], owner['token']]).to.deep.equal([
      process.pid,
      hostname(),
      'agent-a',
      lock.owner.token,
    ]);
    const error = await rejection(acquire('agent-b'));
    expect(error).to.be.instanceOf(InvalidConfigError);
    expect((error as Error).message).to.equal(
      `directory ${dir} is in use by agent agent-a (pid ${process.pid} on ${hostname()}): ` +
        `stop that agent or give this one another directory; if that agent is gone, delete ${lockPath()}`,
    );
    await lock.release();
    expect(await readdir(dir)).to.deep.equal([]);
    await acquire('agent-b');
  });

  it('lets exactly one of many concurrent acquisitions win, and leaves no temp files', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => DirectoryLock.acquire({ dir, agentId: `agent-${i}` })),
    );
    const won = results
      .filter((r): r is PromiseFulfilledResult<DirectoryLock> => r.status === 'fulfilled')
      .map((r) => r.value);
    held.push(...won);
    expect(won.length).to.equal(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(InvalidConfigError);
    expect(await readdir(dir)).to.deep.equal([LOCK_FILE_NAME]);
  });

  it('replaces a lock whose process is gone, or that this process abandoned', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await writeFile(
      lockPath(),
      JSON.stringify({ pid: dead, hostname: hostname(), agentId: 'old', acquiredAt: 1, token: 'dead' }),
    );
    const lock = await acquire();
    lock.abandon();
    const next = await acquire('again');
    expect((JSON.parse(await readFile(lockPath(), 'utf8')) as Record<string, unknown>)['token']).to.equal(
      next.owner.token,
    );
    // The abandoned lock no longer owns the file: releasing it leaves the new one alone.
    await lock.release();
    expect(await readdir(dir)).to.deep.equal([LOCK_FILE_NAME]);
  });

  it('refuses a lock of another host, or one it cannot read, naming what it knows', async () => {
    await writeFile(lockPath(), JSON.stringify({ pid: 42, hostname: 'elsewhere', acquiredAt: 1, token: 't' }));
    expect((await rejection(acquire())) as Error)
      .to.have.property('message')
      .that.contains('is in use by a process (pid 42 on elsewhere)');
    await writeFile(lockPath(), 'not json');
    expect((await rejection(acquire())) as Error)
      .to.have.property('message')
      .that.contains('is in use by a process (pid ? on ?)');
  });
});
