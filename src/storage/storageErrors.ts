/**
 * Classifies what an object store's backend threw, in one place, so every
 * store answers the same typed error for the same kind of fault:
 *
 * | fault | error | retriable |
 * | --- | --- | --- |
 * | refused for good: ENOTDIR, EISDIR, EEXIST (a file where a directory must be), EACCES, EPERM, EROFS, ENAMETOOLONG,
 * ELOOP; S3 AccessDenied, NoSuchBucket, bad credentials, HTTP 401/403 | StorageFailureError | no |
 * | no room: ENOSPC, EDQUOT; S3-compatible "storage full", HTTP 507 | StorageFullError | yes, once space is freed |
 * | out of file handles: EMFILE, ENFILE | StorageError | yes |
 * | anything else: EIO, network, timeouts, HTTP 5xx | StorageError | yes |
 *
 * "Retriable" means another attempt may succeed; callers still bound their
 * retries (the partition writer's `storageRetryTimeoutMs`).
 */
import { StorageError, StorageFailureError, StorageFullError, StreamHouseError } from '../protocol/errors.js';

/** errno codes of a file system that refuses the operation until an operator acts. */
const FAILURE_CODES: ReadonlySet<string> = new Set([
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENAMETOOLONG',
  'ELOOP',
]);
/** errno codes of a full disk or an exhausted quota. */
const FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** S3 error names that no retry fixes: permissions, credentials, a missing or misnamed bucket. */
const S3_FAILURE_NAMES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidAccessKeyId',
  'InvalidBucketName',
  'NoSuchBucket',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
]);
/** S3-compatible servers' names for a full disk or quota. */
const S3_FULL_NAMES: ReadonlySet<string> = new Set(['XMinioStorageFull', 'QuotaExceeded', 'InsufficientStorage']);

/** What kind of fault an error is; see the module comment. */
export type StorageFaultKind = 'failure' | 'full' | 'transient';

/** The errno code (`ENOSPC`, ...) of a Node error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The kind of a file-system error, by its errno code. */
export function fileSystemFaultKind(error: unknown): StorageFaultKind {
  const code = errnoCode(error);
  if (code !== undefined && FAILURE_CODES.has(code)) return 'failure';
  if (code !== undefined && FULL_CODES.has(code)) return 'full';
  return 'transient';
}

/** The kind of an @aws-sdk/client-s3 error, by its name and HTTP status. */
export function s3FaultKind(error: unknown): StorageFaultKind {
  const name = error instanceof Error ? error.name : undefined;
  const status = httpStatusOf(error);
  if ((name !== undefined && S3_FAILURE_NAMES.has(name)) || status === 401 || status === 403) return 'failure';
  if ((name !== undefined && S3_FULL_NAMES.has(name)) || status === 507) return 'full';
  return 'transient';
}

/** The HTTP status an SDK error carries in `$metadata`, if any. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/**
 * The typed error for a failed store operation: `message` says what failed
 * (operation, key, store), `kind` which class it becomes. A StreamHouseError
 * passes through unchanged.
 */
export function storageFault(
  kind: StorageFaultKind,
  message: string,
  error: unknown,
  objectKey?: string,
): StreamHouseError {
  if (error instanceof StreamHouseError) return error;
  const options = { cause: error, context: objectKey === undefined ? {} : { objectKey } };
  switch (kind) {
    case 'failure':
      return new StorageFailureError(`${message} (refused for good: an operator must fix the store)`, options);
    case 'full':
      return new StorageFullError(`${message} (the store is full: free space, e.g. delete a topic)`, options);
    default:
      return new StorageError(message, options);
  }
}
