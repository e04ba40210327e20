/** Store locations: file URLs, plain paths and s3:// URLs. */
import { expect } from 'chai';
import { resolve } from 'node:path';
import { InvalidConfigError } from '../../src/protocol/errors.js';
import { createObjectStore, parseObjectStoreUrl } from '../../src/storage/createObjectStore.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';

describe('storage/createObjectStore', () => {
  it('parses file URLs and plain paths into directory stores', () => {
    expect(parseObjectStoreUrl('file:///var/lib/sh/objects')).to.deep.equal({
      kind: 'local',
      root: '/var/lib/sh/objects',
    });
    expect(parseObjectStoreUrl('file:///data/with%20space')).to.deep.equal({ kind: 'local', root: '/data/with space' });
    expect(parseObjectStoreUrl('/abs/dir')).to.deep.equal({ kind: 'local', root: '/abs/dir' });
    expect(parseObjectStoreUrl('./data/objects')).to.deep.equal({ kind: 'local', root: resolve('data/objects') });
    expect(parseObjectStoreUrl('relative')).to.deep.equal({ kind: 'local', root: resolve('relative') });
  });

  it('parses s3 URLs with bucket, prefix and query options', () => {
    expect(parseObjectStoreUrl('s3://bucket')).to.deep.equal({ kind: 's3', bucket: 'bucket' });
    expect(parseObjectStoreUrl('s3://bucket/')).to.deep.equal({ kind: 's3', bucket: 'bucket' });
    expect(parseObjectStoreUrl('s3://my-bucket/some/prefix')).to.deep.equal({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'some/prefix',
    });
    expect(
      parseObjectStoreUrl('s3://b/p?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true'),
    ).to.deep.equal({
      kind: 's3',
      bucket: 'b',
      prefix: 'p',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
  });

  it('refuses unknown schemes, missing buckets and unknown parameters with InvalidConfigError', () => {
    for (const bad of [
      'http://example/x',
      'gs://bucket',
      's3://',
      's3:///prefix',
      's3://b?color=red',
      's3://b?forcePathStyle=maybe',
      '',
      'file://host/dir',
    ]) {
      expect(() => parseObjectStoreUrl(bad), bad).to.throw(InvalidConfigError);
    }
  });

  it('creates the backend a location names, extra S3 options winning', async () => {
    const local = createObjectStore('file:///tmp/sh-never-written');
    expect(local).to.be.instanceOf(LocalDirectoryObjectStore);
    expect(local.url).to.equal('file:///tmp/sh-never-written');
    const s3 = createObjectStore('s3://bkt/pre?region=eu-west-1', {
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
    });
    expect(s3).to.be.instanceOf(S3ObjectStore);
    expect(s3.url).to.equal('s3://bkt/pre/');
    const fromConfig = createObjectStore({ kind: 's3', bucket: 'other', prefix: 'x/' });
    expect(fromConfig.url).to.equal('s3://other/x/');
    await Promise.all([local.close(), s3.close(), fromConfig.close()]);
  });
});
