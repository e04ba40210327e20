/**
 * Multipart upload of one in-memory object: CreateMultipartUpload, the parts
 * with bounded concurrency, CompleteMultipartUpload; on any failure the upload
 * is aborted (so S3 drops the stored parts) and the first error is rethrown.
 *
 * @internal used by S3ObjectStore.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageError } from '../protocol/errors.js';

/** What to upload and how. */
export type MultipartUpload = {
  bucket: string;
  /** Full key in the bucket (prefix included). */
  key: string;
  data: Uint8Array;
  /** Bytes per part, the last excepted. */
  partSize: number;
  /** Parts in flight at once. */
  concurrency: number;
};

export async function putMultipart(client: S3Client, upload: MultipartUpload): Promise<void> {
  const { bucket, key, data, partSize, concurrency } = upload;
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new StorageError(`CreateMultipartUpload for ${key} returned no UploadId`);
  try {
    const partCount = Math.max(1, Math.ceil(data.length / partSize));
    const parts: CompletedPart[] = new Array(partCount);
    let next = 0;
    let failure: { error: unknown } | undefined;
    // Workers stop taking parts after the first failure, and all have settled before the abort below.
    const worker = async (): Promise<void> => {
      while (next < partCount && failure === undefined) {
        const index = next++;
        const body = data.subarray(index * partSize, Math.min(data.length, (index + 1) * partSize));
        try {
          const response = await client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: index + 1,
              Body: body,
              ContentLength: body.length,
            }),
          );
          parts[index] = { PartNumber: index + 1, ETag: response.ETag };
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, partCount) }, worker));
    if (failure !== undefined) throw failure.error;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    // Best effort: the original failure matters more than a failed abort (some servers lack abort).
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}
