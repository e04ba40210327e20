/**
 * Where `streamhouse users` keeps users: an auth file, or a metadata store
 * (SQLite or Redis) that every agent on it reads. Both behind UserStore.
 */
import type { UserRecord, UserStore } from '../metadata/users.js';
import { readAuthFile, writeAuthFile } from './authFile.js';

/** A UserStore over an auth file: each change reads the file and writes it anew. */
export class AuthFileUsers implements UserStore {
  constructor(private readonly path: string) {}

  async putUser(user: UserRecord): Promise<void> {
    const users = (await readAuthFile(this.path, true)).filter((u) => u.name !== user.name);
    await writeAuthFile(this.path, [...users, user]);
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    return (await readAuthFile(this.path, true)).find((u) => u.name === name);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await readAuthFile(this.path, true)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async deleteUser(name: string): Promise<boolean> {
    const users = await readAuthFile(this.path, true);
    const kept = users.filter((u) => u.name !== name);
    if (kept.length === users.length) return false;
    await writeAuthFile(this.path, kept);
    return true;
  }
}
