/** What only the directory store promises: files stay under the root, puts are atomic, temp files stay hidden. */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  InvalidRequestError,
  ObjectNotFoundError,
  StorageFailureError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore, TEMP_FILE_PREFIX } from '../../src/storage/localDirectoryObjectStore.js';
import { INVALID_KEYS, patternBytes, rejection } from './objectStore.contract.js';

describe('storage/LocalDirectoryObjectStore', function () {
  this.timeout(30_000);
  let base: string;
  let root: string;
  let store: LocalDirectoryObjectStore;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'sh-localstore-'));
    root = join(base, 'root');
    store = new LocalDirectoryObjectStore({ root });
  });

  afterEach(async () => {
    await store.close();
    await rm(base, { recursive: true, force: true });
  });

  it('names itself with a file URL of its absolute root', () => {
    expect(store.root).to.equal(root);
    expect(store.url).to.equal(pathToFileURL(root).href);
  });

  it("creates a directory again when it was removed behind the store's back", async () => {
    await store.put('topics/t/0/a.seg', Buffer.from('one'));
    await rm(join(root, 'topics'), { recursive: true });
    await store.put('topics/t/0/b.seg', Buffer.from('two'));
    expect((await store.get('topics/t/0/b.seg')).toString()).to.equal('two');
    expect(await readdir(join(root, 'topics/t/0'))).to.deep.equal(['b.seg']);
  });

  it('stores a key as the file <root>/<key>, creating directories', async () => {
    await store.put('topics/t/0/00000000000000000000.seg', Buffer.from('abc'));
    expect(await readdir(join(root, 'topics', 't', '0'))).to.deep.equal(['00000000000000000000.seg']);
  });

  it('never creates a file outside the root for a refused key', async () => {
    const outside = join(base, 'escape');
    const attempts = [...INVALID_KEYS.map(([key]) => key), outside, `${outside.slice(1)}/../../../escape`];
    for (const key of attempts) {
      expect(await rejection(store.put(key, Buffer.from('x'))), key).to.be.instanceOf(InvalidRequestError);
    }
    expect(await readdir(base)).to.deep.equal([]); // not even the root: nothing was written
    expect(existsSync(outside)).to.equal(false);
    expect(await rejection(store.get('/etc/passwd'))).to.be.instanceOf(InvalidRequestError);
  });

  it('refuses keys whose last segment looks like a temp file', async () => {
    const error = await rejection(store.put(`a/${TEMP_FILE_PREFIX}x`, Buffer.from('x')));
    expect(error).to.be.instanceOf(InvalidRequestError);
    expect((error as StreamHouseError).context.objectKey).to.equal(`a/${TEMP_FILE_PREFIX}x`);
  });

  it('leaves no temp file behind after puts and does not list leftover ones', async () => {
    await store.put('p/a', patternBytes(1000, 1));
    await store.put('p/a', patternBytes(2000, 2));
    expect(await readdir(join(root, 'p'))).to.deep.equal(['a']);
    // What a crash in the middle of a put leaves:
    await writeFile(join(root, 'p', `${TEMP_FILE_PREFIX}0123456789abcdef`), 'partial');
    await writeFile(join(root, `${TEMP_FILE_PREFIX}fedcba9876543210`), 'partial');
    expect((await store.list('')).map((o) => o.key)).to.deep.equal(['p/a']);
    expect((await store.list('p/')).map((o) => o.key)).to.deep.equal(['p/a']);
  });

  it('never shows a partial object under the final key while large puts run', async function () {
    this.timeout(60_000);
    const size = 8 * 1024 * 1024;
    const versions = [Buffer.alloc(size, 0xa1), Buffer.alloc(size, 0xb2), Buffer.alloc(size, 0xc3)];
    let writing = true;
    const seen = { missing: 0, whole: 0 };
    const reader = async (): Promise<void> => {
      while (writing) {
        const read = await store.get('atomic/object').catch((error: unknown) => error);
        if (read instanceof Buffer) {
          const whole = versions.some((v) => v.equals(read));
          expect(whole, `read ${read.length} bytes starting 0x${read[0]?.toString(16)}`).to.equal(true);
          seen.whole++;
        } else {
          expect(read).to.be.instanceOf(ObjectNotFoundError);
          seen.missing++;
        }
        const info = await store.head('atomic/object');
        expect(info === undefined || info.size === size).to.equal(true);
      }
    };
    const writer = async (): Promise<void> => {
      try {
        for (let round = 0; round < 6; round++) await store.put('atomic/object', versions[round % versions.length]!);
      } finally {
        writing = false;
      }
    };
    await Promise.all([writer(), reader(), reader()]);
    expect(seen.whole).to.be.greaterThan(0);
    expect(await readdir(join(root, 'atomic'))).to.deep.equal(['object']);
  });

  it('reports a put under a file as StorageFailureError (not retriable) with cause, a read as not found', async () => {
    await store.put('file', Buffer.from('x'));
    const error = await rejection(store.put('file/child', Buffer.from('y')));
    expect(error).to.be.instanceOf(StorageFailureError);
    expect((error as StreamHouseError).code).to.equal('STORAGE_FAILURE');
    expect((error as StreamHouseError).retriable).to.equal(false);
    expect((error as StreamHouseError).context.objectKey).to.equal('file/child');
    expect(['ENOTDIR', 'EEXIST']).to.include(((error as Error).cause as NodeJS.ErrnoException).code);
    expect(await rejection(store.get('file/child'))).to.be.instanceOf(ObjectNotFoundError);
    expect(await store.head('file/child')).to.equal(undefined);
    await store.delete('file/child');
  });

  it('reports a root that is a file as StorageFailureError, from put and from ping', async () => {
    await writeFile(join(base, 'plain-file'), 'x');
    const broken = new LocalDirectoryObjectStore({ root: join(base, 'plain-file') });
    expect(await rejection(broken.put('a', Buffer.from('x')))).to.be.instanceOf(StorageFailureError);
    const ping = await rejection(broken.ping());
    expect(ping).to.be.instanceOf(StorageFailureError);
    expect((ping as Error).message).to.contain(join(base, 'plain-file'));
    expect(await broken.list('')).to.deep.equal([]);
  });

  it('pings a usable root, creating it when missing', async () => {
    const fresh = new LocalDirectoryObjectStore({ root: join(base, 'fresh', 'objects') });
    await fresh.ping();
    expect(await readdir(join(base, 'fresh'))).to.deep.equal(['objects']);
  });

  it('treats a directory as no object', async () => {
    await mkdir(join(root, 'dir', 'sub'), { recursive: true });
    expect(await rejection(store.get('dir'))).to.be.instanceOf(ObjectNotFoundError);
    expect(await rejection(store.getRange('dir', 0, 1))).to.be.instanceOf(ObjectNotFoundError);
    await store.delete('dir');
    expect(existsSync(join(root, 'dir', 'sub'))).to.equal(true);
    expect(await store.list('')).to.deep.equal([]);
  });
});
