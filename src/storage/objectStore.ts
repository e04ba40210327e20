/**
 * The object store holding segment objects: a local directory (the embedded
 * default) or an S3 bucket. Keys are `/`-separated relative paths such as
 * `topics/orders/0/00000000000000000000.seg`.
 *
 * Errors: a missing key raises ObjectNotFoundError; any other failure is
 * classified by storageErrors.ts: StorageFailureError when the store refuses
 * for good (permission, not a directory, no such bucket), StorageFullError
 * when it has no room, StorageError (retriable) otherwise, each with the
 * cause; a key that is empty,
 * absolute, contains `..` segments or NUL raises InvalidRequestError.
 * (The full key rules, shared by every backend, are in objectKey.ts: also no
 * backslash, no `.` or empty segments, at most 1024 UTF-8 bytes.)
 *
 * Implementations: LocalDirectoryObjectStore, S3ObjectStore; the conformance
 * suite every one must pass is spec/storage/objectStore.contract.ts.
 */

/** What `head` and `list` tell about one object. */
export type ObjectInfo = {
  /** The object's key. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification, ms since the epoch. */
  lastModified: number;
};

/** The bytes of an object: one buffer, or parts written one after the other. */
export type ObjectData = Uint8Array | readonly Uint8Array[];

/** Object data as one buffer (parts are concatenated; one buffer is returned as it is). */
export function objectDataBytes(data: ObjectData): Uint8Array {
  return data instanceof Uint8Array ? data : Buffer.concat(data);
}

export interface ObjectStore {
  /** Human-readable location, e.g. `file:///data/objects` or `s3://bucket/prefix`. */
  readonly url: string;
  /**
   * True when the operating system already keeps recently read objects in
   * this machine's memory (a local directory: the page cache), so a cache of
   * object data in the process would only hold a second copy. Absent: false.
   */
  readonly cachedByOs?: boolean;
  /**
   * Writes a whole object atomically: readers see all of it or none of it.
   * Resolves once the object is durable (fsync + rename, or S3 PUT complete).
   * Overwrites an existing object with the same key. `data` may come in
   * parts, written one after the other as one object: a segment is its
   * batches plus a footer, and need not be copied into one buffer first.
   */
  put(key: string, data: ObjectData): Promise<void>;
  /** Reads a whole object. */
  get(key: string): Promise<Buffer>;
  /**
   * Reads `length` bytes starting at `start`. A range running past the end is
   * cut at the end of the object; a start beyond the end raises InvalidRequestError.
   * A start exactly at the end (or a zero length) gives an empty buffer;
   * `start` and `length` must be non-negative integers (InvalidRequestError).
   * `allocate(size)`, when given, may provide the buffer the bytes are read
   * into (exactly `size` bytes long); a store that reads otherwise ignores it.
   */
  getRange(key: string, start: number, length: number, allocate?: (size: number) => Buffer): Promise<Buffer>;
  /** Size and mtime of an object, or undefined when there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Every object whose key starts with `prefix` ('' for all), sorted by the
   * keys' UTF-8 bytes as S3 sorts them. The prefix may end mid-segment.
   */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Checks, without writing, that the store is there and usable: the
   * directory exists (created if missing) and is writable, or the bucket
   * answers a one-key list. Throws as the other methods do. Stores without
   * it are checked with a `list`.
   */
  ping?(): Promise<void>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}
