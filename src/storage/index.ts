/** `streamhouse/storage`: object stores (local directory, S3) and segment objects (batches + sparse index footer). */
export type { ObjectInfo, ObjectStore } from './objectStore.js';
export {
  assertValidObjectKey,
  assertValidObjectPrefix,
  compareObjectKeys,
  isValidObjectKey,
  MAX_OBJECT_KEY_BYTES,
} from './objectKey.js';
export { LocalDirectoryObjectStore, type LocalDirectoryObjectStoreOptions } from './localDirectoryObjectStore.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3ObjectStore.js';
export { errnoCode, fileSystemFaultKind, s3FaultKind, storageFault, type StorageFaultKind } from './storageErrors.js';
export {
  createObjectStore,
  parseObjectStoreUrl,
  type ObjectStoreConfig,
  type S3UrlOptions,
} from './createObjectStore.js';
export {
  parseSegmentKey,
  partitionSegmentPrefix,
  segmentKey,
  segmentObjectKey,
  SEGMENT_OFFSET_DIGITS,
  type SegmentKeyParts,
} from './segmentKey.js';
export {
  buildSegment,
  DEFAULT_INDEX_INTERVAL_BYTES,
  type BuildSegmentOptions,
  type BuiltSegment,
} from './segmentWriter.js';
export {
  decodeSegmentFooter,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_SIZE,
  SEGMENT_VERSION,
  type SegmentFooter,
} from './segmentFooter.js';
export {
  SegmentReader,
  type SegmentObjectHint,
  type SegmentReaderOptions,
  type SegmentReaderStats,
  type SegmentReadResult,
} from './segmentReader.js';
