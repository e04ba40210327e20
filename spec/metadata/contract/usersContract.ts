/** Contract: users who may authenticate (derived secrets only), shared by every store instance. */
import { expect } from 'chai';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import type { UserRecord } from '../../../src/metadata/users.js';
import { rejection, useStore, type StoreHarnessFactory } from './harness.js';

const CREDENTIAL = { salt: 'c2FsdA==', iterations: 4096, storedKey: 'c3RvcmVk', serverKey: 'c2VydmVy' };

function user(name: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { name, scram: { 'SCRAM-SHA-256': CREDENTIAL }, createdAt: 1000, ...extra };
}

export function usersContract(factory: StoreHarnessFactory): void {
  describe('users', () => {
    const ctx = useStore(factory);

    it('puts, gets, lists by name, replaces and deletes users, seen by another store instance', async () => {
      const { store, harness, clock } = ctx();
      const other = await harness.open(clock.read);
      await store.putUser(user('bob'));
      await store.putUser(user('alice', { tokenSha256: 'a'.repeat(64) }));
      expect(await other.getUser('alice')).to.deep.equal(user('alice', { tokenSha256: 'a'.repeat(64) }));
      expect((await other.listUsers()).map((u) => u.name)).to.deep.equal(['alice', 'bob']);
      await other.putUser(user('bob', { scram: {}, createdAt: 2000 }));
      expect(await store.getUser('bob')).to.deep.equal({ name: 'bob', scram: {}, createdAt: 2000 });
      expect(await store.deleteUser('bob')).to.equal(true);
      expect(await store.deleteUser('bob')).to.equal(false);
      expect(await other.getUser('bob')).to.equal(undefined);
      expect((await store.listUsers()).map((u) => u.name)).to.deep.equal(['alice']);
    });

    it('refuses malformed records and names, storing nothing', async () => {
      const { store } = ctx();
      const bad: unknown[] = [
        user(''),
        user('a\nb'),
        user('x'.repeat(256)),
        user('c', { tokenSha256: 'not-hex' }),
        user('d', { scram: { 'SCRAM-SHA-256': { ...CREDENTIAL, iterations: 10 } } }),
        user('e', { scram: { 'SCRAM-SHA-1': CREDENTIAL } as unknown as UserRecord['scram'] }),
        user('f', { scram: { 'SCRAM-SHA-256': { ...CREDENTIAL, salt: 'not base64!' } } }),
      ];
      for (const record of bad) {
        await rejection(store.putUser(record as UserRecord), InvalidRequestError, 'INVALID_REQUEST');
      }
      await rejection(store.getUser(''), InvalidRequestError, 'INVALID_REQUEST');
      expect(await store.listUsers()).to.deep.equal([]);
    });
  });
}
