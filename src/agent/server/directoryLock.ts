/**
 * An exclusive lock on a directory one agent owns (`serve`'s data directory;
 * an agent's write-ahead log directory): a lock file (`<dir>/streamhouse.lock`
 * unless told otherwise) holding the owner's pid, host name and agent id. It is created with an
 * exclusive link of a complete temp file (like O_EXCL, but never seen half
 * written), and deleted on release.
 *
 * A lock file is stale, and replaced, when its owner is gone: on this host,
 * no process has its pid (the agent was killed), or the pid is this process
 * and no lock of this process holds it (an agent stopped as by a crash, in
 * tests). A lock of a live owner, or of another host (a shared disk, which
 * cannot be checked), is refused with InvalidConfigError naming the owner.
 * A stale lock is deleted only while it still holds the token read from it;
 * two processes replacing the same stale lock in the same instant remain a
 * (narrow) race.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidConfigError } from '../../protocol/errors.js';

/** The lock file's name inside the locked directory. */
export const LOCK_FILE_NAME = 'streamhouse.lock';

/** What to lock. */
export type DirectoryLockOptions = {
  /** The directory (named in errors; created if missing). */
  dir: string;
  /** The lock file. Default `<dir>/streamhouse.lock`. */
  lockFile?: string;
  /** The agent taking the lock, recorded for whoever finds it held. */
  agentId?: string;
};

/** What a lock file holds. */
export type LockOwner = {
  pid: number;
  hostname: string;
  /** The agent that took it, when known. */
  agentId?: string;
  /** ms since the epoch. */
  acquiredAt: number;
  /** Unique per acquisition, so a release deletes only its own lock. */
  token: string;
};

/** A lock file's content as read back: a LockOwner, unless someone else wrote it. */
type StoredOwner = Record<string, unknown>;

/** Lock files held by this process, by path. */
const heldHere = new Set<string>();

export class DirectoryLock {
  private released = false;

  private constructor(
    /** The lock file. */
    readonly path: string,
    readonly owner: LockOwner,
  ) {}

  /** Takes the lock. Throws InvalidConfigError when another live agent holds it. */
  static async acquire(options: DirectoryLockOptions): Promise<DirectoryLock> {
    const { dir, lockFile: path = join(dir, LOCK_FILE_NAME), agentId } = options;
    await mkdir(dir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      acquiredAt: Date.now(),
      token: randomBytes(8).toString('hex'),
    };
    if (agentId !== undefined) owner.agentId = agentId;
    // One acquisition per path at a time in this process, so a lock of this process's pid found on disk is an abandoned
    // one.
    if (heldHere.has(path)) throw lockedError(dir, path, await readOwner(path).catch(() => undefined));
    heldHere.add(path);
    const temp = `${path}.${owner.token}`;
    try {
      await writeFile(temp, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
      // Two rounds: a stale lock found in the first is removed, then taken in the second.
      for (let round = 0; round < 2; round++) {
        try {
          await link(temp, path);
          return new DirectoryLock(path, owner);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const existing = await readOwner(path);
        if (existing === undefined) continue; // released meanwhile
        if (!isStale(existing)) throw lockedError(dir, path, existing);
        await removeIfStill(path, existing);
      }
      throw lockedError(dir, path, await readOwner(path));
    } catch (error) {
      heldHere.delete(path);
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Deletes the lock file, if it is still this lock's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.path);
    await removeIfStill(this.path, this.owner);
  }

  /** Lets go without deleting the file, as a crash would: the file is then stale. */
  abandon(): void {
    this.released = true;
    heldHere.delete(this.path);
  }
}

async function readOwner(path: string): Promise<StoredOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as StoredOwner) : {};
  } catch {
    return {}; // not ours to judge: refused as held by an unknown owner
  }
}

/** Whether the lock's owner is gone. Called only while this process holds no other lock on the path. */
function isStale(owner: StoredOwner): boolean {
  if (owner['hostname'] !== hostname() || typeof owner['pid'] !== 'number') return false;
  return owner['pid'] === process.pid || !processExists(owner['pid']);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes the lock file when it still holds `owner`'s token (another may have replaced it meanwhile). */
async function removeIfStill(path: string, owner: StoredOwner): Promise<void> {
  const current = await readOwner(path);
  if (current === undefined || current['token'] !== owner['token']) return;
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

function lockedError(dir: string, path: string, owner: StoredOwner | undefined): InvalidConfigError {
  const where = `pid ${String(owner?.['pid'] ?? '?')} on ${String(owner?.['hostname'] ?? '?')}`;
  const who =
    owner === undefined
      ? 'another agent'
      : owner['agentId'] === undefined
        ? `a process (${where})`
        : `agent ${String(owner['agentId'])} (${where})`;
  return new InvalidConfigError(
    `directory ${dir} is in use by ${who}: stop that agent or give this one another directory; if that agent is ` +
      `gone, delete ${path}`,
  );
}
