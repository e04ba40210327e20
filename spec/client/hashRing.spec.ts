import { expect } from 'chai';
import { HashRing } from '../../src/client/hashRing.js';
import { murmur2String } from '../../src/client/partitioners/murmur2.js';
import { AgentUnavailableError, InvalidConfigError } from '../../src/protocol/errors.js';

const agentsNamed = (n: number) => Array.from({ length: n }, (_, i) => `agent-${i + 1}`);
const partitions = (count: number) => Array.from({ length: count }, (_, p) => p);

/** Brute force: every point of every agent, the smallest one at or after the key (else the smallest overall). */
function referenceLookup(agents: string[], virtualNodes: number, topic: string, partition: number): string {
  const position = murmur2String(`${topic}/${partition}`) >>> 0;
  let best: { point: number; agent: string } | undefined;
  let lowest: { point: number; agent: string } | undefined;
  const before = (a: { point: number; agent: string }, b: { point: number; agent: string } | undefined) =>
    b === undefined || a.point < b.point || (a.point === b.point && a.agent < b.agent);
  for (const agent of agents) {
    for (let i = 0; i < virtualNodes; i++) {
      const candidate = { point: murmur2String(`${agent}#${i}`) >>> 0, agent };
      if (before(candidate, lowest)) lowest = candidate;
      if (candidate.point >= position && before(candidate, best)) best = candidate;
    }
  }
  return (best ?? lowest)!.agent;
}

describe('client/hashRing', () => {
  it('finds the same agent as a brute-force walk of the ring', () => {
    const agents = agentsNamed(4);
    const ring = new HashRing(agents, { virtualNodes: 16 });
    for (const topic of ['orders', 'users']) {
      for (const p of partitions(300)) {
        expect(ring.lookup(topic, p), `${topic}/${p}`).to.equal(referenceLookup(agents, 16, topic, p));
      }
    }
  });

  it('moves only the partitions of an agent that leaves', () => {
    const before = new HashRing(agentsNamed(5));
    const after = new HashRing(agentsNamed(5).filter((a) => a !== 'agent-3'));
    let moved = 0;
    let owned = 0;
    for (const p of partitions(5000)) {
      const was = before.lookup('orders', p);
      const now = after.lookup('orders', p);
      if (was === 'agent-3') {
        owned++;
        expect(now).to.not.equal('agent-3');
      } else {
        expect(now, `orders/${p}`).to.equal(was);
      }
      if (was !== now) moved++;
    }
    expect(moved).to.equal(owned);
    expect(owned).to.equal(1069);
  });

  it('moves partitions only to an agent that joins', () => {
    const before = new HashRing(agentsNamed(4));
    const after = new HashRing(agentsNamed(5));
    let taken = 0;
    for (const p of partitions(5000)) {
      const was = before.lookup('orders', p);
      const now = after.lookup('orders', p);
      if (now !== was) {
        expect(now, `orders/${p}`).to.equal('agent-5');
        taken++;
      }
    }
    // Everything the newcomer owns was taken from others, nothing else moved.
    expect(taken).to.equal(countOwnedBy(after, 'agent-5', 5000));
    expect(taken).to.equal(1042);
  });

  it('spreads partitions evenly enough, and the same way in every client version', () => {
    const ring = new HashRing(agentsNamed(5));
    const counts = new Map<string, number>();
    for (const p of partitions(10000)) {
      const agent = ring.lookup('orders', p);
      counts.set(agent, (counts.get(agent) ?? 0) + 1);
    }
    // Exact shares: clients of different versions must agree on the ring, so
    // any change to points or positions has to show up here.
    expect(Object.fromEntries([...counts].sort())).to.deep.equal({
      'agent-1': 2237,
      'agent-2': 1834,
      'agent-3': 2174,
      'agent-4': 1765,
      'agent-5': 1990,
    });
    for (const count of counts.values()) expect(Math.abs(count - 2000)).to.be.below(500);
  });

  it('does not depend on the order or repetition of agent ids', () => {
    const a = new HashRing(['agent-2', 'agent-1', 'agent-3']);
    const b = new HashRing(['agent-3', 'agent-1', 'agent-2', 'agent-1']);
    expect(b.agents).to.deep.equal(['agent-1', 'agent-2', 'agent-3']);
    expect(b.size).to.equal(3);
    expect(b.has('agent-2')).to.equal(true);
    expect(b.has('agent-4')).to.equal(false);
    for (const p of partitions(500)) expect(b.lookup('t', p)).to.equal(a.lookup('t', p));
  });

  it('sends everything to a lone agent', () => {
    const ring = new HashRing(['solo'], { virtualNodes: 1 });
    expect(partitions(50).every((p) => ring.lookup('t', p) === 'solo')).to.equal(true);
  });

  it('fails with AgentUnavailableError when no agent is live', () => {
    try {
      new HashRing([]).lookup('orders', 7);
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(AgentUnavailableError);
      expect((error as AgentUnavailableError).message).to.equal('no live agents to serve orders/7');
      expect((error as AgentUnavailableError).context).to.deep.equal({ topic: 'orders', partition: 7 });
      expect((error as AgentUnavailableError).retriable).to.equal(true);
    }
  });

  it('rejects a virtual node count that is not a positive integer', () => {
    for (const virtualNodes of [0, -1, 2.5]) {
      expect(() => new HashRing(['a'], { virtualNodes })).to.throw(
        InvalidConfigError,
        `virtualNodes must be a positive integer, got ${virtualNodes}`,
      );
    }
  });
});

function countOwnedBy(ring: HashRing, agent: string, count: number): number {
  return partitions(count).filter((p) => ring.lookup('orders', p) === agent).length;
}
