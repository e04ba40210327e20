import { expect } from 'chai';
import { setImmediate } from 'node:timers/promises';
import { createConsumer } from '../../../src/client/consumer/consumer.js';
import {
  ErrorCode,
  GroupMaxSizeReachedError,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '../../../src/protocol/index.js';
import {
  createTestStores,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

const MAX_MEMBERS = 3;
/** The first round after `empty` stays open this long, so concurrent joins land in one generation. */
const INITIAL_DELAY_MS = 1000;

function joinRequest(groupId: string, memberId = ''): JoinGroupRequest {
  return {
    groupId,
    memberId,
    clientId: 'c',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocols: [{ name: 'range', metadata: Buffer.alloc(4, 1) }],
  };
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`agent: most members of a consumer group, over gRPC (${kind})`, function () {
    this.timeout(20_000);
    let stores: TestStores;
    let agent: TestAgent;

    beforeEach(async () => {
      stores = await createTestStores(kind);
      agent = await startTestAgent(stores, {
        groupInitialRebalanceDelayMs: INITIAL_DELAY_MS,
        maxGroupMembers: MAX_MEMBERS,
      });
    });
    afterEach(async () => {
      await agent.stop();
      await stores.cleanup();
    });

    /** `MAX_MEMBERS` new members joined together into generation 1 of `groupId`. */
    async function fullGroup(groupId: string): Promise<JoinGroupResponse[]> {
      const { client } = agent.connection;
      const joined = await Promise.all(
        Array.from({ length: MAX_MEMBERS }, () => client.joinGroup(joinRequest(groupId))),
      );
      expect(joined.map((answer) => answer.generationId)).to.deep.equal([1, 1, 1]);
      return joined;
    }

    it('refuses a new member past the limit with GROUP_MAX_SIZE_REACHED, leaving the group as it was', async () => {
      const { client } = agent.connection;
      const members = await fullGroup('g');
      const refused = await rejection(client.joinGroup(joinRequest('g')));
      expect(refused).to.be.instanceOf(GroupMaxSizeReachedError);
      expect((refused as GroupMaxSizeReachedError).code).to.equal('GROUP_MAX_SIZE_REACHED');
      expect((refused as GroupMaxSizeReachedError).retriable).to.equal(false);
      expect((refused as Error).message).to.equal(
        'group g has 3 members, the most this agent allows (--max-group-members)',
      );
      expect(ErrorCode.GROUP_MAX_SIZE_REACHED).to.equal(50);
      const described = await client.describeGroup({ groupId: 'g' });
      expect(described.generation).to.equal(1);
      expect(described.members.map((member) => member.memberId).sort()).to.deep.equal(
        members.map((member) => member.memberId).sort(),
      );
      // the members already in the group keep working: heartbeats answer, and they can rejoin together
      const leader = members.find((member) => member.memberId === member.leaderId)!;
      await Promise.all(
        members.map((member) =>
          client.syncGroup({
            groupId: 'g',
            generationId: 1,
            memberId: member.memberId,
            assignments:
              member === leader ? members.map((m) => ({ memberId: m.memberId, assignment: Buffer.from('a') })) : [],
          }),
        ),
      );
      for (const member of members)
        await client.heartbeat({ groupId: 'g', generationId: 1, memberId: member.memberId });
      const rejoined = await Promise.all(members.map((member) => client.joinGroup(joinRequest('g', member.memberId))));
      expect(rejoined.map((answer) => answer.generationId)).to.deep.equal([2, 2, 2]);
      // the agent keeps serving other groups
      const other = await client.joinGroup(joinRequest('other'));
      expect(other.generationId).to.equal(1);
    });

    it('fails an RxJS consumer joining a full group with GroupMaxSizeReachedError', async () => {
      await agent.connection.client.createTopic({ name: 't', partitions: 1 });
      await fullGroup('g');
      const consumer = createConsumer({ bootstrap: [agent.agent.address], groupId: 'g', topics: ['t'] });
      try {
        const error = await new Promise<unknown>((resolve) => consumer.records$.subscribe({ error: resolve }));
        expect(error).to.be.instanceOf(GroupMaxSizeReachedError);
        expect((await agent.connection.client.describeGroup({ groupId: 'g' })).members.length).to.equal(MAX_MEMBERS);
      } finally {
        await consumer.close();
      }
    });

    it('admits a new member once a member has left', async () => {
      const { client } = agent.connection;
      const [gone, ...staying] = await fullGroup('g');
      await client.leaveGroup({ groupId: 'g', memberId: gone!.memberId });
      // the newcomer's join starts a round the two staying members complete by rejoining
      const newcomer = client.joinGroup(joinRequest('g'));
      // the newcomer is in the round before the others rejoin, so one round takes all three
      while ((await client.describeGroup({ groupId: 'g' })).members.length < MAX_MEMBERS) await setImmediate();
      const rejoined = await Promise.all(staying.map((member) => client.joinGroup(joinRequest('g', member.memberId))));
      const admitted = await newcomer;
      expect([admitted, ...rejoined].map((answer) => answer.generationId)).to.deep.equal([2, 2, 2]);
      const described = await client.describeGroup({ groupId: 'g' });
      expect(described.members.map((member) => member.memberId).sort()).to.deep.equal(
        [admitted.memberId, ...staying.map((member) => member.memberId)].sort(),
      );
      // full again
      expect(await rejection(client.joinGroup(joinRequest('g')))).to.be.instanceOf(GroupMaxSizeReachedError);
    });
  });
}
