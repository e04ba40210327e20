/**
 * The `--auth-file`: users an agent accepts beside those in the metadata
 * store, as JSON `{ "users": [UserRecord, …] }` (derived secrets only, the
 * same records `streamhouse users add --auth-file` writes). Written with mode
 * 0600 through a temporary file and a rename, so readers never see half a file.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { InvalidConfigError } from '../protocol/errors.js';
import { checkUserRecord, type UserRecord } from '../metadata/users.js';

/** The users of an auth file; a missing file has none when `missingOk`. InvalidConfigError names what is wrong. */
export async function readAuthFile(path: string, missingOk = false): Promise<UserRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (missingOk && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InvalidConfigError(`auth file ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const users = (parsed as { users?: unknown }).users;
    if (!Array.isArray(users)) throw new Error('expected {"users": [...]}');
    const seen = new Set<string>();
    return users.map((value) => {
      const user = checkUserRecord(value);
      if (seen.has(user.name)) throw new Error(`user ${user.name} is listed twice`);
      seen.add(user.name);
      return user;
    });
  } catch (error) {
    throw new InvalidConfigError(`auth file ${path} is malformed: ${(error as Error).message}`);
  }
}

/** Replaces the file's content with `users` (sorted by name). */
export async function writeAuthFile(path: string, users: readonly UserRecord[]): Promise<void> {
  const sorted = [...users].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ users: sorted }, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
