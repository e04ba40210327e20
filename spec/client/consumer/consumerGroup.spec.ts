import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { rangeAssignor } from '../../../src/client/assignors/index.js';
import { createConsumer, type Consumer } from '../../../src/client/consumer/consumer.js';
import type { ConsumerOptions } from '../../../src/client/consumer/consumerOptions.js';
import type { RebalanceEvent } from '../../../src/client/consumer/consumerTypes.js';
import { createTopic, produceValues, startCluster, waitFor, type Cluster } from './consumerSupport.js';

type Member = { name: string; consumer: Consumer; events: RebalanceEvent[]; subscription: Subscription };

const PARTITIONS = 6;

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`client/consumer: consumer groups against real agents (${kind})`, function () {
    this.timeout(60_000);
    let cluster: Cluster;
    let members: Member[];
    /** Every record consumed by any member: `partition:offset` → times consumed. */
    let consumed: Map<string, number>;
    /** Every record produced: `partition:offset`. */
    let produced: string[];

    const join = (name: string, options: Partial<ConsumerOptions> = {}): Member => {
      const consumer = createConsumer({
        bootstrap: [cluster.address],
        clientId: name,
        groupId: 'g',
        topics: ['t'],
        resetStrategy: { type: 'earliest' },
        heartbeatIntervalMs: 100,
        sessionTimeoutMs: 6000,
        fetchMaxWaitMs: 100,
        ...options,
      });
      const events: RebalanceEvent[] = [];
      consumer.rebalances$.subscribe((event) => events.push(event));
      const subscription = consumer.records$.subscribe((record) => {
        const key = `${record.partition}:${record.offset}`;
        consumed.set(key, (consumed.get(key) ?? 0) + 1);
      });
      const member = { name, consumer, events, subscription };
      members.push(member);
      return member;
    };

    const produceRound = async (round: number) => {
      for (let p = 0; p < PARTITIONS; p++) {
        const bases = await produceValues(cluster, 't', p, 10, `r${round}`);
        for (let i = 0; i < 10; i++) produced.push(`${p}:${bases[0]! + i}`);
      }
    };
    const held = (member: Member) => member.consumer.assignment().map((tp) => tp.partition);
    const everythingConsumed = () => produced.every((key) => consumed.has(key));
    const settled = (expected: Member[], counts: number[]) => () =>
      expected.every((m, i) => held(m).length === counts[i]) &&
      expected.flatMap(held).length === PARTITIONS &&
      everythingConsumed();

    beforeEach(async () => {
      cluster = await startCluster(kind);
      await createTopic(cluster, 't', PARTITIONS);
      members = [];
      consumed = new Map();
      produced = [];
    });
    afterEach(async () => {
      await Promise.all(members.map((m) => m.consumer.close()));
      await cluster.stop();
    });

    it('spreads partitions as members join and leave, consuming every record exactly once', async () => {
      await produceRound(0);
      const a = join('a');
      await waitFor(settled([a], [6]), 'a to hold everything');
      await produceRound(1);
      const b = join('b');
      await produceRound(2);
      await waitFor(settled([a, b], [3, 3]), 'a and b to share', 20_000);
      const c = join('c');
      await produceRound(3);
      await waitFor(settled([a, b, c], [2, 2, 2]), 'three members to share', 20_000);
      await a.consumer.close();
      await produceRound(4);
      await waitFor(settled([b, c], [3, 3]), 'b and c after a left', 20_000);
      await b.consumer.close();
      await produceRound(5);
      await waitFor(settled([c], [6]), 'c alone', 20_000);
      // every record consumed, none twice: commits on revocation hand over exact positions
      expect([...consumed.keys()].sort()).to.deep.equal([...produced].sort());
      expect([...consumed.values()].every((n) => n === 1)).to.equal(true);
      expect(produced).to.have.length(360);
      // cooperative-sticky: a kept partitions until it left, and never lost any
      expect(a.events.filter((e) => e.type === 'lost')).to.deep.equal([]);
      expect(a.events[0]).to.deep.include({ type: 'assigned', generation: 1 });
      expect(a.events[0]!.partitions.map((tp) => tp.partition)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(a.events.at(-1)!.type).to.equal('revoked');
      // b's partitions came over from a, one rebalance after a revoked them (cooperative two-phase handover)
      expect(b.events[0]).to.deep.include({ type: 'assigned' });
      expect(b.events[0]!.generation).to.be.greaterThan(a.events[0]!.generation + 1);
      await c.consumer.close();
      const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({ groupId: 'g', partitions: [] });
      expect(offsets.map((o) => [o.partition, o.offset])).to.deep.equal(
        Array.from({ length: PARTITIONS }, (_, p) => [p, 60]),
      );
    });

    if (kind === 'sqlite') {
      it('resumes from the group offsets after all members restart', async () => {
        await produceRound(0);
        const first = join('first');
        await waitFor(settled([first], [6]), 'first to read everything');
        await first.consumer.close();
        const { offsets } = await cluster.agents[0]!.connection.client.fetchOffsets({ groupId: 'g', partitions: [] });
        expect(offsets.map((o) => [o.partition, o.offset])).to.deep.equal(
          Array.from({ length: PARTITIONS }, (_, p) => [p, 10]),
        );
        await produceRound(1);
        const second = join('second', { resetStrategy: { type: 'latest' } });
        await waitFor(settled([second], [6]), 'second to read the new records');
        expect([...consumed.values()].every((n) => n === 1)).to.equal(true);
        expect(consumed.size).to.equal(120);
      });

      it('drops its partitions uncommitted when the group forgets it, then joins again as a new member', async () => {
        await produceRound(0);
        const a = join('a', { commitStrategy: { type: 'manual' } });
        await waitFor(settled([a], [6]), 'a to read everything');
        const memberId = a.events[0]!.memberId;
        // another process removes a from the group: a's next heartbeat answers UNKNOWN_MEMBER_ID
        await cluster.agents[0]!.connection.client.leaveGroup({ groupId: 'g', memberId });
        await waitFor(() => a.events.length >= 3, 'a to lose and regain its partitions');
        expect(a.events.map((e) => [e.type, e.partitions.length, e.memberId === memberId])).to.deep.equal([
          ['assigned', 6, true],
          ['lost', 6, true],
          ['assigned', 6, false],
        ]);
        // nothing was committed (manual strategy): at-least-once means everything comes again
        await waitFor(() => [...consumed.values()].every((n) => n === 2), 'the redelivery');
        expect(consumed.size).to.equal(60);
      });

      it('splits by range with the eager protocol, revoking everything before a rejoin', async () => {
        await produceRound(0);
        const a = join('a', { assignors: [rangeAssignor] });
        await waitFor(settled([a], [6]), 'a alone');
        const b = join('b', { assignors: [rangeAssignor] });
        await waitFor(settled([a, b], [3, 3]), 'a and b');
        expect(held(a)).to.deep.equal([0, 1, 2]);
        expect(held(b)).to.deep.equal([3, 4, 5]);
        expect(a.events.map((e) => [e.type, e.partitions.length])).to.deep.equal([
          ['assigned', 6],
          ['revoked', 6],
          ['assigned', 3],
        ]);
        await produceRound(1);
        await waitFor(everythingConsumed, 'round 1');
        expect([...consumed.values()].every((n) => n === 1)).to.equal(true);
      });
    }
  });
}
