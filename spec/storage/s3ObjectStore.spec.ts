/** What only the S3 store does: multipart uploads, prefixes, option checks and error mapping, on s3rver. */
import { expect } from 'chai';
import { createServer } from 'node:net';
import {
  InvalidConfigError,
  ObjectNotFoundError,
  StorageError,
  StorageFailureError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';
import { startS3Server, type S3TestServer } from '../support/s3Server.js';
import { patternBytes, rejection } from './objectStore.contract.js';

const MIB = 1024 * 1024;

describe('storage/S3ObjectStore', function () {
  this.timeout(60_000);
  let server: S3TestServer;
  const stores: S3ObjectStore[] = [];

  function open(prefix: string, extra: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {}): S3ObjectStore {
    const store = new S3ObjectStore({ ...server.storeOptions(prefix), ...extra });
    stores.push(store);
    return store;
  }

  before(async () => {
    server = await startS3Server();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) {
      for (const object of await store.list('').catch(() => [])) await store.delete(object.key);
      await store.close();
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('puts a 20 MiB object as a multipart upload and anything up to the threshold in one PUT', async () => {
    const store = open('mp');
    const big = patternBytes(20 * MIB, 1);
    const atThreshold = patternBytes(16 * MIB, 2);
    server.events.length = 0;
    await store.put('big', big);
    await store.put('threshold', atThreshold);
    await server.syncEvents();
    expect(server.events).to.deep.equal([
      { name: 'ObjectCreated:Post', key: 'mp/big' }, // CompleteMultipartUpload
      { name: 'ObjectCreated:Put', key: 'mp/threshold' },
    ]);
    expect((await store.get('big')).equals(big)).to.equal(true);
    expect((await store.get('threshold')).equals(atThreshold)).to.equal(true);
  });

  it('assembles parts in order with a smaller threshold and a short last part', async () => {
    const store = open('mp2', { multipartThresholdBytes: MIB, partSizeBytes: 5 * MIB, partConcurrency: 2 });
    const data = patternBytes(11 * MIB + 17, 3); // parts of 5, 5 and 1 MiB + 17 bytes
    await store.put('x', data);
    expect((await store.get('x')).equals(data)).to.equal(true);
    expect((await store.getRange('x', 5 * MIB - 3, 6)).equals(data.subarray(5 * MIB - 3, 5 * MIB + 3))).to.equal(true);
  });

  it('keeps prefixes apart and names itself by bucket and prefix', async () => {
    const a = open('tenant-a');
    const b = open('tenant-b/');
    expect(a.url).to.equal(`s3://${server.bucket}/tenant-a/`);
    expect(b.prefix).to.equal('tenant-b/');
    await a.put('k', Buffer.from('from a'));
    await b.put('k', Buffer.from('from b'));
    expect((await a.get('k')).toString()).to.equal('from a');
    expect((await a.list('')).map((o) => o.key)).to.deep.equal(['k']);
    await a.delete('k');
    expect((await b.get('k')).toString()).to.equal('from b');
    const unprefixed = open('');
    expect(unprefixed.url).to.equal(`s3://${server.bucket}/`);
    expect((await unprefixed.list('tenant-')).map((o) => o.key)).to.deep.equal(['tenant-b/k']);
  });

  it('lists past one page using continuation tokens', async () => {
    const store = open('many', { listPageSize: 7 });
    const keys = Array.from({ length: 30 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((key) => store.put(key, Buffer.from(key))));
    await store.put('l/outside', Buffer.from('x'));
    const listed = await store.list('k/');
    expect(listed.map((o) => o.key)).to.deep.equal(keys);
    expect(listed.map((o) => o.size)).to.deep.equal(keys.map(() => 5));
  });

  it('maps a missing bucket to StorageFailureError (not retriable), not ObjectNotFoundError, in ping too', async () => {
    const store = open('', { bucket: 'no-such-bucket' });
    const error = await rejection(store.get('k'));
    expect(error).to.be.instanceOf(StorageFailureError);
    expect((error as StreamHouseError).retriable).to.equal(false);
    expect((error as Error).message).to.contain('NoSuchBucket');
    expect(((error as Error).cause as Error).name).to.equal('NoSuchBucket');
    expect(await rejection(store.put('big', patternBytes(17 * MIB, 4)))).to.be.instanceOf(StorageFailureError);
    expect(await rejection(store.ping())).to.be.instanceOf(StorageFailureError);
    await open('').ping();
  });

  it('maps an unreachable endpoint to a retriable StorageError with the cause', async () => {
    const port = await closedPort();
    const store = open('', { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    const error = await rejection(store.get('k'));
    expect(error).to.be.instanceOf(StorageError);
    expect((error as StreamHouseError).retriable).to.equal(true);
    expect((error as StreamHouseError).context.objectKey).to.equal('k');
    expect((error as Error).cause).to.be.instanceOf(Error);
    expect(error).not.to.be.instanceOf(ObjectNotFoundError);
  });

  it('refuses bad options with InvalidConfigError', () => {
    const base = server.storeOptions();
    expect(() => new S3ObjectStore({ ...base, bucket: '' })).to.throw(InvalidConfigError);
    expect(() => new S3ObjectStore({ ...base, partSizeBytes: 5 * MIB - 1 })).to.throw(InvalidConfigError, /5 MiB/);
    expect(() => new S3ObjectStore({ ...base, multipartThresholdBytes: -1 })).to.throw(InvalidConfigError);
    expect(() => new S3ObjectStore({ ...base, partConcurrency: 0 })).to.throw(InvalidConfigError);
    expect(() => new S3ObjectStore({ ...base, maxAttempts: 0 })).to.throw(InvalidConfigError);
    expect(() => new S3ObjectStore({ ...base, listPageSize: 1001 })).to.throw(InvalidConfigError);
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
