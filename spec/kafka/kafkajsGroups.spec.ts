/**
 * KafkaJS consumer groups against an agent's Kafka port: two members split
 * the partitions after a rebalance, and the second member starts from the
 * offsets the first committed; a KafkaJS member and an RxJS member share a
 * group through a common assignor.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { kafkaJsRoundRobinAssignor } from '../../src/index.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';

/** Polls `condition` every 20 ms until true; fails with `what` after `ms`. */
async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Member = {
  consumer: Consumer;
  /** Partitions of each GROUP_JOIN, latest last. */
  assignments: number[][];
  /** `partition/offset value` of every message handled. */
  seen: string[];
};

describe('Kafka listener with KafkaJS consumer groups', function () {
  this.timeout(90_000);
  let stores: TestStores;
  let agent: TestAgent;
  let kafka: Kafka;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0 });
    kafka = new Kafka({
      clientId: 'kafkajs-groups-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: process.env['KAFKAJS_LOG'] ? logLevel.DEBUG : logLevel.NOTHING,
      retry: { retries: 5 },
    });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  async function produceRound(topic: string, round: string): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [0, 1, 2, 3].flatMap((partition) =>
          [0, 1].map((i) => ({ partition, value: `${round}-${partition}-${i}` })),
        ),
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function startMember(groupId: string, topic: string): Promise<Member> {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 200,
      maxWaitTimeInMs: 100,
    });
    const member: Member = { consumer, assignments: [], seen: [] };
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      member.assignments.push([...(payload.memberAssignment[topic] ?? [])].sort());
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        member.seen.push(`${partition}/${message.offset} ${message.value!.toString()}`);
      },
    });
    return member;
  }

  const last = (member: Member) => member.assignments[member.assignments.length - 1] ?? [];

  it('splits partitions between two members on a rebalance; the second starts at the committed offsets', async () => {
    await agent.connection.client.createTopic({ name: 'two-members', partitions: 4, config: undefined });
    await produceRound('two-members', 'first');
    const a = await startMember('two-members-group', 'two-members');
    let b: Member | undefined;
    try {
      await until(() => a.seen.length === 8, 'the first member to read the first round');
      expect(last(a)).to.deep.equal([0, 1, 2, 3]);
      expect([...a.seen].sort()).to.deep.equal(
        [0, 1, 2, 3].flatMap((p) => [0, 1].map((i) => `${p}/${i} first-${p}-${i}`)),
      );

      b = await startMember('two-members-group', 'two-members');
      const member = b;
      await until(
        () => last(a).length === 2 && last(member).length === 2,
        'the rebalance to give each member two partitions',
      );
      expect([...last(a), ...last(member)].sort()).to.deep.equal([0, 1, 2, 3]);

      await produceRound('two-members', 'second');
      await until(() => a.seen.length + member.seen.length === 16, 'the members to read the second round');
      const second = (m: Member) => m.seen.filter((s) => s.includes('second')).sort();
      expect(second(a)).to.deep.equal(last(a).flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)));
      expect(second(member)).to.deep.equal(
        last(member).flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)),
      );
      // the second member read nothing of the first round: it started at the first member's commits
      expect(member.seen.filter((s) => s.includes('first'))).to.deep.equal([]);

      const admin = kafka.admin();
      await admin.connect();
      try {
        const described = await admin.describeGroups(['two-members-group']);
        expect(described.groups[0]!.state).to.equal('Stable');
        expect(described.groups[0]!.members).to.have.length(2);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await b?.consumer.disconnect();
      await a.consumer.disconnect();
    }
    const { offsets } = await agent.connection.client.fetchOffsets({
      groupId: 'two-members-group',
      partitions: [0, 1, 2, 3].map((partition) => ({ topic: 'two-members', partition })),
    });
    expect(offsets.map((o) => [o.partition, o.offset])).to.deep.equal([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
  });

  it('shares a group between a KafkaJS member and an RxJS member offering the same assignor', async () => {
    await agent.connection.client.createTopic({ name: 'shared', partitions: 4, config: undefined });
    await produceRound('shared', 'first');
    const a = await startMember('shared-group', 'shared');
    try {
      await until(() => a.seen.length === 8, 'the KafkaJS member to read the first round');
    } catch (error) {
      await a.consumer.disconnect();
      throw error;
    }
    const rx = createConsumer({
      bootstrap: [agent.agent.address],
      groupId: 'shared-group',
      topics: ['shared'],
      // our round robin under KafkaJS's name for its own; KafkaJS writes Kafka's version 0 metadata
      assignors: [kafkaJsRoundRobinAssignor],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
    });
    const owned = new Set<number>();
    const seen: string[] = [];
    const subscriptions = [
      rx.rebalances$.subscribe((event) => {
        for (const { partition } of event.partitions) {
          if (event.type === 'assigned') owned.add(partition);
          else owned.delete(partition);
        }
      }),
      rx.records$.subscribe((r) => seen.push(`${r.partition}/${r.offset} ${Buffer.from(r.value!).toString()}`)),
    ];
    try {
      await until(() => last(a).length === 2 && owned.size === 2, 'the rebalance to give each member two partitions');
      const rxPartitions = [...owned].sort();
      expect([...last(a), ...rxPartitions].sort()).to.deep.equal([0, 1, 2, 3]);

      await produceRound('shared', 'second');
      await until(() => a.seen.length + seen.length === 16, 'the members to read the second round');
      expect(a.seen.filter((s) => s.includes('second')).sort()).to.deep.equal(
        last(a).flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)),
      );
      // nothing of the first round: the RxJS member started at the KafkaJS member's commits
      expect([...seen].sort()).to.deep.equal(
        rxPartitions.flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)),
      );
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe();
      await rx.close();
      await a.consumer.disconnect();
    }
  });

  it('lets the RxJS member lead a group that a KafkaJS member then joins', async () => {
    await agent.connection.client.createTopic({ name: 'shared-rx', partitions: 4, config: undefined });
    await produceRound('shared-rx', 'first');
    const rx = createConsumer({
      bootstrap: [agent.agent.address],
      groupId: 'shared-rx-group',
      topics: ['shared-rx'],
      assignors: [kafkaJsRoundRobinAssignor],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
    });
    const owned = new Set<number>();
    const seen: string[] = [];
    const subscriptions = [
      rx.rebalances$.subscribe((event) => {
        for (const { partition } of event.partitions) {
          if (event.type === 'assigned') owned.add(partition);
          else owned.delete(partition);
        }
      }),
      rx.records$.subscribe((r) => seen.push(`${r.partition}/${r.offset} ${Buffer.from(r.value!).toString()}`)),
    ];
    let a: Member | undefined;
    try {
      await until(() => seen.length === 8, 'the RxJS member to read the first round');
      const member = await startMember('shared-rx-group', 'shared-rx');
      a = member;
      await until(
        () => last(member).length === 2 && owned.size === 2,
        'the rebalance to give each member two partitions',
      );
      const rxPartitions = [...owned].sort();
      expect([...last(member), ...rxPartitions].sort()).to.deep.equal([0, 1, 2, 3]);

      await produceRound('shared-rx', 'second');
      await until(() => member.seen.length + seen.length === 16, 'the members to read the second round');
      // nothing of the first round: the KafkaJS member started at the RxJS member's commits
      expect([...member.seen].sort()).to.deep.equal(
        last(member).flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)),
      );
      expect(seen.filter((s) => s.includes('second')).sort()).to.deep.equal(
        rxPartitions.flatMap((p) => [0, 1].map((i) => `${p}/${i + 2} second-${p}-${i}`)),
      );
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe();
      await rx.close();
      await a?.consumer.disconnect();
    }
  });
});
