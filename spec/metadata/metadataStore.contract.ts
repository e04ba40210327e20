/**
 * The conformance suite every MetadataStore backend must pass, run by
 * metadataStore.spec.ts against SQLite and Redis. Each test gets a fresh
 * harness (an empty file or key prefix), a manual clock and a store; tests
 * that need a second agent open another store over the same data.
 */
import { aclsContract } from './contract/aclsContract.js';
import { groupsContract } from './contract/groupsContract.js';
import type { StoreHarnessFactory } from './contract/harness.js';
import { leasesContract } from './contract/leasesContract.js';
import { producersAgentsContract } from './contract/producersAgentsContract.js';
import { producerStatesContract } from './contract/producerStatesContract.js';
import { segmentsContract } from './contract/segmentsContract.js';
import { topicsContract } from './contract/topicsContract.js';
import { usersContract } from './contract/usersContract.js';

export type { StoreHarness, StoreHarnessFactory } from './contract/harness.js';

/** Registers the contract suite for one backend under `describe(name)`. */
export function metadataStoreContract(name: string, factory: StoreHarnessFactory): void {
  describe(`MetadataStore contract: ${name}`, () => {
    topicsContract(factory);
    leasesContract(factory);
    segmentsContract(factory);
    groupsContract(factory);
    producersAgentsContract(factory);
    producerStatesContract(factory);
    aclsContract(factory);
    usersContract(factory);
  });
}
