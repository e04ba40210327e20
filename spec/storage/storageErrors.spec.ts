/** The one classification of object-store faults: errno codes and S3 SDK errors to typed errors. */
import { expect } from 'chai';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';
import {
  StorageError,
  StorageFailureError,
  StorageFullError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';
import { fileSystemFaultKind, s3FaultKind, storageFault } from '../../src/storage/storageErrors.js';

/** An error as Node's fs raises it. */
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
/** An error as @aws-sdk/client-s3 raises it. */
const s3Error = (name: string, httpStatusCode: number) =>
  new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });

describe('storage/storageErrors', () => {
  it('classifies file-system errno codes', () => {
    const kinds = Object.fromEntries(
      [
        'ENOTDIR',
        'EISDIR',
        'EEXIST',
        'EACCES',
        'EPERM',
        'EROFS',
        'ENOSPC',
        'EDQUOT',
        'EMFILE',
        'ENFILE',
        'EIO',
        'EAGAIN',
      ].map((code) => [code, fileSystemFaultKind(errno(code))]),
    );
    expect(kinds).to.deep.equal({
      ENOTDIR: 'failure',
      EISDIR: 'failure',
      EEXIST: 'failure',
      EACCES: 'failure',
      EPERM: 'failure',
      EROFS: 'failure',
      ENOSPC: 'full',
      EDQUOT: 'full',
      EMFILE: 'transient',
      ENFILE: 'transient',
      EIO: 'transient',
      EAGAIN: 'transient',
    });
    expect([
      fileSystemFaultKind(new Error('no code')),
      fileSystemFaultKind('a string'),
      fileSystemFaultKind({ code: 5 }),
    ]).to.deep.equal(['transient', 'transient', 'transient']);
  });

  it('classifies S3 SDK errors by name and HTTP status', () => {
    const cases: [string, number][] = [
      ['AccessDenied', 403],
      ['NoSuchBucket', 404],
      ['InvalidAccessKeyId', 403],
      ['SignatureDoesNotMatch', 403],
      ['Forbidden', 403],
      ['Unauthorized', 401],
      ['XMinioStorageFull', 507],
      ['InsufficientStorage', 507],
      ['QuotaExceeded', 400],
      ['InternalError', 500],
      ['SlowDown', 503],
      ['ServiceUnavailable', 503],
      ['RequestTimeout', 400],
    ];
    expect(cases.map(([name, status]) => s3FaultKind(s3Error(name, status)))).to.deep.equal([
      'failure',
      'failure',
      'failure',
      'failure',
      'failure',
      'failure',
      'full',
      'full',
      'full',
      'transient',
      'transient',
      'transient',
      'transient',
    ]);
    // Network faults carry no HTTP status: retriable.
    expect(
      s3FaultKind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
    ).to.equal('transient');
    expect(s3FaultKind(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))).to.equal('transient');
  });

  it('builds the typed error for each kind, with the cause and the key, and passes our own errors through', () => {
    const cause = errno('ENOSPC');
    const full = storageFault('full', 'put k failed', cause, 'k');
    expect(full).to.be.instanceOf(StorageFullError);
    expect([full.code, full.retriable, full.context.objectKey, full.cause]).to.deep.equal([
      'STORAGE_FULL',
      true,
      'k',
      cause,
    ]);
    expect(full.message).to.equal('put k failed (the store is full: free space, e.g. delete a topic)');
    const failure = storageFault('failure', 'put k failed', errno('EACCES'), 'k');
    expect(failure).to.be.instanceOf(StorageFailureError);
    expect([failure.code, failure.retriable]).to.deep.equal(['STORAGE_FAILURE', false]);
    const transient = storageFault('transient', 'put k failed', errno('EMFILE'), 'k');
    expect(transient).to.be.instanceOf(StorageError);
    expect([transient.code, transient.retriable, transient.message]).to.deep.equal([
      'STORAGE_ERROR',
      true,
      'put k failed',
    ]);
    const own = new StorageFullError('already typed');
    expect(storageFault('failure', 'x', own, 'k')).to.equal(own);
  });

  it('classifies the errors real file operations raise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sh-errors-'));
    try {
      await writeFile(join(dir, 'file'), 'x');
      const notDir = await open(join(dir, 'file', 'child'), 'wx').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(fileSystemFaultKind(notDir)).to.equal('failure');
      const fault = storageFault(
        fileSystemFaultKind(notDir),
        'put file/child failed',
        notDir,
        'file/child',
      ) as StreamHouseError;
      expect([fault.code, (fault.cause as NodeJS.ErrnoException).code]).to.deep.equal(['STORAGE_FAILURE', 'ENOTDIR']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
