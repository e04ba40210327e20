/** Runs the ObjectStore conformance suite against every backend: a local directory and S3 (s3rver on loopback). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';
import { startS3Server, type S3TestServer } from '../support/s3Server.js';
import { objectStoreContract } from './objectStore.contract.js';

describe('ObjectStore backends', () => {
  objectStoreContract('LocalDirectoryObjectStore', async () => {
    const base = await mkdtemp(join(tmpdir(), 'sh-objects-'));
    const store = new LocalDirectoryObjectStore({ root: join(base, 'root') });
    return {
      store,
      async cleanup() {
        await store.close();
        await rm(base, { recursive: true, force: true });
      },
    };
  });

  describe('on s3rver', () => {
    let server: S3TestServer;

    before(async () => {
      server = await startS3Server();
    });

    after(async () => {
      await server?.stop();
    });

    objectStoreContract('S3ObjectStore', async () => {
      // A fresh prefix per test keeps tests apart on one server and checks prefix handling throughout.
      const store = new S3ObjectStore(server.storeOptions(`run-${randomBytes(6).toString('hex')}`));
      return {
        store,
        async cleanup() {
          for (const object of await store.list('')) await store.delete(object.key);
          await store.close();
        },
      };
    });
  });
});
