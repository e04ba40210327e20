/**
 * An ObjectStore in an S3 bucket (AWS or any S3-compatible server), through
 * @aws-sdk/client-s3.
 *
 * Objects live at `<prefix><key>`. A put larger than `multipartThresholdBytes`
 * goes up as a multipart upload (parts sent with bounded concurrency, the
 * upload aborted on failure); S3 makes an object visible only once its PUT or
 * CompleteMultipartUpload succeeds, so readers never see a part of one.
 *
 * Errors: NoSuchKey/NotFound become ObjectNotFoundError, a range starting past
 * the end InvalidRequestError, anything else the error storageErrors.ts
 * classifies it as (StorageFailureError for AccessDenied or NoSuchBucket,
 * StorageError for network faults and 5xx), with the SDK error as `cause`. The SDK retries throttling and transient
 * failures itself
 * (`maxAttempts`, `retryMode`) before any of that surfaces.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { InvalidConfigError, InvalidRequestError, ObjectNotFoundError, StreamHouseError } from '../protocol/errors.js';
import { httpStatusOf, s3FaultKind, storageFault } from './storageErrors.js';
import { assertValidObjectKey, assertValidObjectPrefix, compareObjectKeys } from './objectKey.js';
import { objectDataBytes, type ObjectData, type ObjectInfo, type ObjectStore } from './objectStore.js';
import { assertValidRange } from './objectRange.js';
import { putMultipart } from './s3Multipart.js';

/** Options of {@link S3ObjectStore}. */
export type S3ObjectStoreOptions = {
  /** Bucket name. Required. */
  bucket: string;
  /** Key prefix inside the bucket, e.g. `cluster-a`; a trailing `/` is added when missing. Default: none. */
  prefix?: string;
  /** AWS region. Default `AWS_REGION` from the environment, else `us-east-1`. */
  region?: string;
  /** Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`. Default: AWS. */
  endpoint?: string;
  /**
   * Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>`. Default false (true is usual for local
   * servers).
   */
  forcePathStyle?: boolean;
  /** Static credentials or a provider. Default: the SDK's standard chain (env, profile, SSO, IMDS, ...). */
  credentials?: S3ClientConfig['credentials'];
  /** Attempts per request, the first included, for throttling and transient errors. Default 5. */
  maxAttempts?: number;
  /** `standard` retries with backoff; `adaptive` also rate-limits the client when throttled. Default `standard`. */
  retryMode?: 'standard' | 'adaptive';
  /** Objects larger than this many bytes go up as multipart uploads. Default 16 MiB. */
  multipartThresholdBytes?: number;
  /** Size of each multipart part in bytes, the last excepted; at least 5 MiB (S3's minimum). Default 8 MiB. */
  partSizeBytes?: number;
  /** Parts of one upload sent at the same time. Default 4. */
  partConcurrency?: number;
  /** Keys per ListObjectsV2 page (S3 caps it at 1000). Default 1000. */
  listPageSize?: number;
  /** Abort a request with no response after this many ms. Default 30 000. */
  requestTimeoutMs?: number;
  /**
   * When the SDK adds checksums to uploads. Default `WHEN_SUPPORTED` (the SDK's);
   * `WHEN_REQUIRED` for S3-compatible servers that reject the newer checksum headers.
   */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** When the SDK validates checksums of downloads. Default `WHEN_SUPPORTED` (the SDK's). */
  responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
};

const MIB = 1024 * 1024;
/** S3 refuses parts below 5 MiB (the last one excepted). */
const MIN_PART_SIZE = 5 * MIB;
/** S3 allows at most 10 000 parts per upload. */
const MAX_PARTS = 10_000;

/** Options with every default applied. */
type ResolvedOptions = Required<
  Pick<S3ObjectStoreOptions, 'multipartThresholdBytes' | 'partSizeBytes' | 'partConcurrency' | 'listPageSize'>
>;

export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, '' or ending with '/'. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly options: ResolvedOptions;

  constructor(options: S3ObjectStoreOptions) {
    const {
      bucket,
      prefix = '',
      region = process.env['AWS_REGION'] ?? 'us-east-1',
      endpoint,
      forcePathStyle = false,
      credentials,
      maxAttempts = 5,
      retryMode = 'standard',
      multipartThresholdBytes = 16 * MIB,
      partSizeBytes = 8 * MIB,
      partConcurrency = 4,
      listPageSize = 1000,
      requestTimeoutMs = 30_000,
      requestChecksumCalculation,
      responseChecksumValidation,
    } = options;
    if (typeof bucket !== 'string' || bucket.length === 0) {
      throw new InvalidConfigError('S3ObjectStore needs a bucket name');
    }
    if (!Number.isSafeInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE) {
      throw new InvalidConfigError(
        `partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB), got ${partSizeBytes}`,
      );
    }
    if (!Number.isSafeInteger(multipartThresholdBytes) || multipartThresholdBytes < 0) {
      throw new InvalidConfigError(
        `multipartThresholdBytes must be a non-negative integer, got ${multipartThresholdBytes}`,
      );
    }
    if (!Number.isSafeInteger(partConcurrency) || partConcurrency < 1) {
      throw new InvalidConfigError(`partConcurrency must be a positive integer, got ${partConcurrency}`);
    }
    if (!Number.isSafeInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
      throw new InvalidConfigError(`listPageSize must be an integer from 1 to 1000, got ${listPageSize}`);
    }
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
      throw new InvalidConfigError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    const normalizedPrefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (normalizedPrefix !== '') assertValidObjectPrefix(normalizedPrefix);
    this.bucket = bucket;
    this.prefix = normalizedPrefix;
    this.url = `s3://${bucket}/${normalizedPrefix}`;
    this.options = { multipartThresholdBytes, partSizeBytes, partConcurrency, listPageSize };
    const config: S3ClientConfig = {
      region,
      forcePathStyle,
      maxAttempts,
      retryMode,
      requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 10_000) },
    };
    if (endpoint !== undefined) config.endpoint = endpoint;
    if (credentials !== undefined) config.credentials = credentials;
    if (requestChecksumCalculation !== undefined) config.requestChecksumCalculation = requestChecksumCalculation;
    if (responseChecksumValidation !== undefined) config.responseChecksumValidation = responseChecksumValidation;
    this.client = new S3Client(config);
  }

  async put(key: string, object: ObjectData): Promise<void> {
    const Key = this.fullKey(key);
    // The SDK takes one body; the network, not this copy, is what a PUT costs.
    const data = objectDataBytes(object);
    try {
      if (data.length > this.options.multipartThresholdBytes) {
        const partSize = Math.max(this.options.partSizeBytes, Math.ceil(data.length / MAX_PARTS));
        await putMultipart(this.client, {
          bucket: this.bucket,
          key: Key,
          data,
          partSize,
          concurrency: this.options.partConcurrency,
        });
      } else {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.length }),
        );
      }
    } catch (error) {
      throw this.mapError('put', key, error);
    }
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.fullKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return await bodyBytes(response.Body);
    } catch (error) {
      throw this.mapError('get', key, error);
    }
  }

  async getRange(key: string, start: number, length: number): Promise<Buffer> {
    assertValidRange(key, start, length);
    const Key = this.fullKey(key);
    if (length === 0) return this.emptyRange(key, start);
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${start}-${start + length - 1}` }),
      );
      const bytes = await bodyBytes(response.Body);
      // A server may answer 200 with the whole object when it ignores Range.
      return response.ContentRange === undefined && bytes.length > length
        ? bytes.subarray(start, start + length)
        : bytes;
    } catch (error) {
      // S3 answers 416 for any range starting at or past the end, even at exactly the end.
      if (errorName(error) === 'InvalidRange') return this.emptyRange(key, start);
      throw this.mapError('getRange', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.fullKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: response.ContentLength ?? 0, lastModified: response.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.mapError('head', key, error);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    assertValidObjectPrefix(prefix);
    const found: ObjectInfo[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const response = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.options.listPageSize,
            ContinuationToken,
          }),
        );
        for (const object of response.Contents ?? []) {
          if (object.Key === undefined) continue;
          found.push({
            key: object.Key.slice(this.prefix.length),
            size: object.Size ?? 0,
            lastModified: object.LastModified?.getTime() ?? 0,
          });
        }
        ContinuationToken = response.IsTruncated === true ? response.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    } catch (error) {
      throw this.mapError('list', prefix, error);
    }
    return found.sort((a, b) => compareObjectKeys(a.key, b.key));
  }

  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw this.mapError('delete', key, error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }));
    } catch (error) {
      if (error instanceof StreamHouseError) throw error;
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw storageFault(s3FaultKind(error), `ping of ${this.url} failed: ${detail}`, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** A zero-length read at `start`: empty when `start` is within or at the end of the object. */
  private async emptyRange(key: string, start: number): Promise<Buffer> {
    const info = await this.head(key);
    if (info === undefined) throw new ObjectNotFoundError(`no object ${key}`, { context: { objectKey: key } });
    if (start > info.size) {
      throw new InvalidRequestError(`range start ${start} is beyond the end of ${key} (${info.size} bytes)`, {
        context: { objectKey: key },
      });
    }
    return Buffer.alloc(0);
  }

  private fullKey(key: string): string {
    assertValidObjectKey(key);
    return this.prefix + key;
  }

  private mapError(operation: string, key: string, error: unknown): StreamHouseError {
    if (error instanceof StreamHouseError) return error;
    if (isNotFound(error)) {
      return new ObjectNotFoundError(`no object ${key} in ${this.url}`, { cause: error, context: { objectKey: key } });
    }
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return storageFault(s3FaultKind(error), `${operation} ${key} in ${this.url} failed: ${detail}`, error, key);
  }
}

/** Reads an SDK response body into one Buffer without copying it again. */
async function bodyBytes(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** NoSuchKey for GET, NotFound (no body) for HEAD; a missing bucket is a configuration fault, not a missing object. */
function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return httpStatusOf(error) === 404 && name !== 'NoSuchBucket';
}
