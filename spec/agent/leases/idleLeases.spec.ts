import { expect } from 'chai';
import type { Lease } from '../../../src/metadata/metadataStore.js';
import { IdleLeases } from '../../../src/agent/leases/idleLeases.js';

const lease = (topic: string, partition: number): Lease => ({ topic, partition, agentId: 'a', epoch: 1, expiresAt: 0 });

describe('agent/IdleLeases', () => {
  let now: number;
  let held: Lease[];
  let released: string[];
  let kept: Set<string>;
  let refuse: Set<string>;
  let idle: IdleLeases;

  beforeEach(() => {
    now = 1_000_000;
    held = [lease('t', 0), lease('t', 1), lease('r', 0)];
    released = [];
    kept = new Set(['r/0']);
    refuse = new Set();
    idle = new IdleLeases({
      idleMs: 100,
      held: () => held,
      keep: async (l) => kept.has(`${l.topic}/${l.partition}`),
      release: async (l) => {
        const key = `${l.topic}/${l.partition}`;
        if (refuse.has(key)) return false;
        released.push(key);
        held = held.filter((h) => h !== l);
        return true;
      },
      clock: () => now,
    });
  });

  it('releases a lease once unused for idleMs, sparing kept ones', async () => {
    idle.used('t', 0);
    idle.used('t', 1);
    idle.used('r', 0);
    now += 99;
    expect(await idle.sweep()).to.equal(0);
    now += 1;
    expect(await idle.sweep()).to.equal(2);
    expect(released).to.deep.equal(['t/0', 't/1']);
    expect(held.map((l) => `${l.topic}/${l.partition}`)).to.deep.equal(['r/0']);
  });

  it('counts from the last use', async () => {
    idle.used('t', 0);
    idle.used('t', 1);
    now += 60;
    idle.used('t', 1);
    now += 40;
    expect(await idle.sweep()).to.equal(1);
    expect(released).to.deep.equal(['t/0']);
    now += 59;
    expect(await idle.sweep()).to.equal(0);
    now += 1;
    expect(await idle.sweep()).to.equal(1);
    expect(released).to.deep.equal(['t/0', 't/1']);
  });

  it('counts a lease it never saw used from the first sweep that finds it', async () => {
    expect(await idle.sweep()).to.equal(0);
    now += 100;
    expect(await idle.sweep()).to.equal(2);
  });

  it('keeps counting a lease whose release was refused (used again meanwhile)', async () => {
    idle.used('t', 0);
    idle.used('t', 1);
    refuse.add('t/0');
    now += 100;
    expect(await idle.sweep()).to.equal(1);
    refuse.clear();
    expect(await idle.sweep()).to.equal(1);
    expect(released).to.deep.equal(['t/1', 't/0']);
  });

  it('never releases with idleMs 0', async () => {
    const never = new IdleLeases({
      idleMs: 0,
      held: () => held,
      keep: async () => false,
      release: async () => true,
      clock: () => now,
    });
    never.start();
    never.stop();
    expect(await never.sweep()).to.equal(0);
    now += 1e12;
    expect(await never.sweep()).to.equal(0);
  });
});
