/** Runs the MetadataStore contract against both real backends. */
import { metadataStoreContract } from './metadataStore.contract.js';
import { redisHarness, sqliteHarness } from './support/storeHarnesses.js';

metadataStoreContract('SQLite (temp file)', sqliteHarness);
metadataStoreContract('Redis (unique key prefix)', () => redisHarness());
