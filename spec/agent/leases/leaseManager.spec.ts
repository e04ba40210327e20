/**
 * LeaseManager over a real SQLite file: leases count as held only until
 * their TTL minus the safety margin, by this agent's clock, from when they
 * were asked for; one that may have expired is not renewed but dropped, and
 * leased again under a new epoch.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseManager } from '../../../src/agent/leases/leaseManager.js';
import type { Lease, MetadataStore } from '../../../src/metadata/metadataStore.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';
import { NotLeaderError } from '../../../src/protocol/errors.js';

const TTL = 3000;
const MARGIN = 600;

describe('lease manager', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  let now: number;
  let lost: { lease: Lease; error: Error }[];
  let leases: LeaseManager;

  const manager = (over: MetadataStore = store) =>
    new LeaseManager({
      store: over,
      agentId: 'agent-a',
      ttlMs: TTL,
      safetyMarginMs: MARGIN,
      clock: () => now,
      onLost: (lease, error) => lost.push({ lease, error }),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-leases-'));
    now = 1_700_000_000_000;
    // The store shares the agent's clock here; self-fencing must not depend on that.
    store = new SqliteMetadataStore({ path: join(dir, 'metadata.db'), synchronous: 'normal', clock: () => now });
    await store.createTopic('t', 2);
    lost = [];
    leases = manager();
  });
  afterEach(async () => {
    leases.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a lease until its TTL minus the margin after it was asked for, and a renewal extends that', async () => {
    const lease = await leases.ensure('t', 0);
    expect(lease).to.deep.equal({ topic: 't', partition: 0, agentId: 'agent-a', epoch: 1, expiresAt: now + TTL });
    now += TTL - MARGIN - 1;
    expect(leases.held('t', 0)).to.equal(lease);
    expect(leases.all()).to.deep.equal([lease]);
    await leases.renewAll();
    now += TTL - MARGIN - 1;
    expect(leases.held('t', 0)?.epoch).to.equal(1);
    now += 1;
    expect(leases.held('t', 0)).to.equal(undefined);
    expect(leases.all()).to.deep.equal([]);
    expect(lost).to.deep.equal([]);
  });

  it('after a pause past the lease, reports it lost without renewing, and leases it under a new epoch', async () => {
    const lease = await leases.ensure('t', 0);
    now += TTL - MARGIN; // paused: the store still shows the lease live, but this agent can no longer be sure
    expect(leases.held('t', 0)).to.equal(undefined);
    await leases.renewAll();
    expect(lost.map((l) => l.lease)).to.deep.equal([lease]);
    expect(lost[0]!.error).to.be.instanceOf(NotLeaderError);
    expect(lost[0]!.error.message).to.equal("lease of t/0 (epoch 1) may have expired by this agent's clock");
    expect((await store.getPartition('t', 0)).leaseExpiresAt).to.equal(lease.expiresAt); // not renewed
    const again = await leases.ensure('t', 0);
    expect([again.epoch, again.expiresAt]).to.deep.equal([2, now + TTL]);
    expect(leases.held('t', 0)).to.equal(again);
  });

  it('does not count a renewal whose answer came after the lease may have expired', async () => {
    let resume: (() => void) | undefined;
    // The store answers the renewal only after a pause of this agent.
    const slow = Object.create(store) as MetadataStore;
    slow.renewLease = async (lease, ttlMs) => {
      const renewed = await store.renewLease(lease, ttlMs);
      await new Promise<void>((resolve) => (resume = resolve));
      return renewed;
    };
    leases = manager(slow);
    await leases.ensure('t', 1);
    const renewing = leases.renewAll();
    while (resume === undefined) await new Promise((r) => setImmediate(r));
    now += TTL;
    resume();
    await renewing;
    expect(leases.held('t', 1)).to.equal(undefined);
  });
});
