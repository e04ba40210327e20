/**
 * Opens the metadata store a store-editing command (`users`, `acls`) names:
 * `--metadata`, else `<data-dir>/metadata.db`, whose directory is made when
 * missing (these commands may run before the first `serve`).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMetadataStore } from '../metadata/createMetadataStore.js';
import type { MetadataStore } from '../metadata/metadataStore.js';

export type MetadataStoreFlags = { metadata?: string; dataDir: string; redisPrefix: string };

/** Runs `work` on the store the flags name, closing it after. */
export async function withMetadataStore<T>(
  flags: MetadataStoreFlags,
  work: (store: MetadataStore) => Promise<T>,
): Promise<T> {
  if (flags.metadata === undefined) await mkdir(flags.dataDir, { recursive: true });
  const { store } = await createMetadataStore(flags.metadata ?? join(flags.dataDir, 'metadata.db'), {
    keyPrefix: flags.redisPrefix,
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
