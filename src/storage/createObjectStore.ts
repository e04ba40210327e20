/**
 * Builds an ObjectStore from a location string or options, for the CLI and
 * the agent's configuration:
 *
 * - `file:///var/lib/streamhouse/objects` or a plain path (`./data/objects`,
 *   resolved against the cwd): a {@link LocalDirectoryObjectStore};
 * - `s3://bucket` or `s3://bucket/some/prefix`: an {@link S3ObjectStore}; the
 *   query parameters `endpoint`, `region` and `forcePathStyle` are accepted
 *   (`s3://b/p?endpoint=http://127.0.0.1:9000&forcePathStyle=true`), and the
 *   `s3` argument of {@link createObjectStore} adds or overrides options.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError } from '../protocol/errors.js';
import { LocalDirectoryObjectStore, type LocalDirectoryObjectStoreOptions } from './localDirectoryObjectStore.js';
import type { ObjectStore } from './objectStore.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3ObjectStore.js';

/** A parsed store location: which backend, with its options. */
export type ObjectStoreConfig =
  | ({ kind: 'local' } & LocalDirectoryObjectStoreOptions)
  | ({ kind: 's3' } & S3ObjectStoreOptions);

/** S3 options that may accompany an `s3://` URL. */
export type S3UrlOptions = Omit<S3ObjectStoreOptions, 'bucket' | 'prefix'>;

/**
 * Parses a store location. Throws InvalidConfigError for an unknown scheme,
 * an `s3://` URL without a bucket, or a `file:` URL that is not absolute.
 */
export function parseObjectStoreUrl(location: string): ObjectStoreConfig {
  if (typeof location !== 'string' || location.trim() === '') {
    throw new InvalidConfigError('object store location is empty: give a directory, file:///dir or s3://bucket/prefix');
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase();
  // A one-letter "scheme" is a Windows drive (C:\data), i.e. a plain path.
  if (scheme === undefined || (scheme.length === 1 && isAbsolute(location))) {
    return { kind: 'local', root: resolve(location) };
  }
  if (scheme === 'file') {
    try {
      return { kind: 'local', root: fileURLToPath(location) };
    } catch (error) {
      throw new InvalidConfigError(`bad file URL ${location}: use file:///absolute/dir`, { cause: error });
    }
  }
  if (scheme === 's3') return parseS3Url(location);
  throw new InvalidConfigError(
    `unsupported object store scheme "${scheme}:" in ${location}: use a path, file:///dir or s3://bucket/prefix`,
  );
}

/**
 * Creates a store from a location string (see {@link parseObjectStoreUrl}) or
 * from a config. `s3` options apply to `s3://` locations and win over the
 * URL's query parameters.
 */
export function createObjectStore(target: string | ObjectStoreConfig, s3: S3UrlOptions = {}): ObjectStore {
  const config = typeof target === 'string' ? parseObjectStoreUrl(target) : target;
  if (config.kind === 'local') {
    const { kind: _kind, ...options } = config;
    return new LocalDirectoryObjectStore(options);
  }
  if (config.kind === 's3') {
    const { kind: _kind, ...options } = config;
    return new S3ObjectStore({ ...options, ...s3 });
  }
  throw new InvalidConfigError(`unknown object store kind ${JSON.stringify((config as { kind: unknown }).kind)}`);
}

function parseS3Url(location: string): ObjectStoreConfig {
  let url: URL;
  try {
    url = new URL(location);
  } catch (error) {
    throw new InvalidConfigError(`bad S3 URL ${location}: use s3://bucket/prefix`, { cause: error });
  }
  const bucket = url.hostname;
  if (bucket === '') throw new InvalidConfigError(`S3 URL ${location} names no bucket: use s3://bucket/prefix`);
  const prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  const config: ObjectStoreConfig = { kind: 's3', bucket };
  if (prefix !== '') config.prefix = prefix;
  for (const [name, value] of url.searchParams) {
    if (name === 'endpoint') config.endpoint = value;
    else if (name === 'region') config.region = value;
    else if (name === 'forcePathStyle') config.forcePathStyle = parseBoolean(name, value, location);
    else
      throw new InvalidConfigError(
        `unknown S3 URL parameter "${name}" in ${location}: use endpoint, region or forcePathStyle`,
      );
  }
  return config;
}

function parseBoolean(name: string, value: string, location: string): boolean {
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidConfigError(`S3 URL parameter ${name}=${value} in ${location} is not true or false`);
}
