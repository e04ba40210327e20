import { expect } from 'chai';
import {
  ErrorCode,
  IllegalGenerationError,
  LimitExceededError,
  type JoinGroupRequest,
} from '../../../src/protocol/index.js';
import {
  createTestStores,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

const MEMBER_LIMIT = 1024;
const OFFSET_LIMIT = 16;

function joinRequest(groupId: string, overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId,
    memberId: '',
    clientId: 'c',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocols: [{ name: 'range', metadata: Buffer.alloc(10, 1) }],
    ...overrides,
  };
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`agent: consumer-group limits and simple commits against a real agent (${kind})`, function () {
    this.timeout(20_000);
    let stores: TestStores;
    let agent: TestAgent;

    beforeEach(async () => {
      stores = await createTestStores(kind);
      agent = await startTestAgent(stores, {
        groupInitialRebalanceDelayMs: 0,
        maxGroupMemberMetadataBytes: MEMBER_LIMIT,
        maxOffsetMetadataBytes: OFFSET_LIMIT,
      });
      await agent.connection.client.createTopic({ name: 't', partitions: 3 });
    });
    afterEach(async () => {
      await agent.stop();
      await stores.cleanup();
    });

    /** A member of group `g` at generation 1, synced with an assignment of `bytes` bytes. */
    async function stableMember(groupId: string): Promise<{ memberId: string; generationId: number }> {
      const { client } = agent.connection;
      const joined = await client.joinGroup(joinRequest(groupId));
      await client.syncGroup({
        groupId,
        generationId: joined.generationId,
        memberId: joined.memberId,
        assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(MEMBER_LIMIT, 2) }],
      });
      return { memberId: joined.memberId, generationId: joined.generationId };
    }

    it('refuses member metadata beyond the limit with LIMIT_EXCEEDED, storing no member', async () => {
      const { client } = agent.connection;
      // client id 1 byte + 'range' 5 bytes + metadata: 1018 bytes fit exactly, 1019 do not.
      const over = await rejection(
        client.joinGroup(joinRequest('g', { protocols: [{ name: 'range', metadata: Buffer.alloc(1019) }] })),
      );
      expect(over).to.be.instanceOf(LimitExceededError);
      expect((over as Error).message).to.equal(
        'join of group g carries 1025 bytes of member metadata (client id, protocol names and metadata); ' +
          'this agent accepts at most 1024 (--max-group-member-metadata-bytes)',
      );
      const protocols = [
        { name: 'range', metadata: Buffer.alloc(510) },
        { name: 'roundrobin', metadata: Buffer.alloc(510) },
      ];
      expect(await rejection(client.joinGroup(joinRequest('g', { protocols })))).to.be.instanceOf(LimitExceededError);
      expect(await rejection(client.joinGroup(joinRequest('g', { clientId: 'x'.repeat(2000) })))).to.be.instanceOf(
        LimitExceededError,
      );
      expect(await agent.metadataStore.getGroup('g')).to.equal(undefined);
      const fits = await client.joinGroup(
        joinRequest('g', { protocols: [{ name: 'range', metadata: Buffer.alloc(1018) }] }),
      );
      expect(fits.generationId).to.equal(1);
      expect(fits.members.map((m) => m.metadata.length)).to.deep.equal([1018]);
    });

    it('refuses an assignment beyond the limit with LIMIT_EXCEEDED, leaving the round open', async () => {
      const { client } = agent.connection;
      const joined = await client.joinGroup(joinRequest('g'));
      const sync = (bytes: number) =>
        client.syncGroup({
          groupId: 'g',
          generationId: joined.generationId,
          memberId: joined.memberId,
          assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(bytes, 3) }],
        });
      const over = await rejection(sync(MEMBER_LIMIT + 1));
      expect(over).to.be.instanceOf(LimitExceededError);
      expect((over as Error).message).to.equal(
        `assignment of member ${joined.memberId} in group g is 1025 bytes; ` +
          `this agent accepts at most 1024 (--max-group-member-metadata-bytes)`,
      );
      expect((await agent.metadataStore.getGroup('g'))!.state).to.equal('completing-rebalance');
      expect((await sync(MEMBER_LIMIT)).assignment.length).to.equal(MEMBER_LIMIT);
      expect((await agent.metadataStore.getGroup('g'))!.state).to.equal('stable');
    });

    it('answers OFFSET_METADATA_TOO_LARGE for too long commit metadata, committing the other partitions', async () => {
      const { client } = agent.connection;
      const { memberId, generationId } = await stableMember('g');
      const { results } = await client.commitOffsets({
        groupId: 'g',
        generationId,
        memberId,
        partitions: [
          { topic: 't', partition: 0, offset: 5, metadata: 'x'.repeat(OFFSET_LIMIT) },
          // 9 characters but 18 UTF-8 bytes.
          { topic: 't', partition: 1, offset: 6, metadata: 'é'.repeat(9) },
          { topic: 't', partition: 2, offset: 7, metadata: 'y'.repeat(OFFSET_LIMIT + 1) },
        ],
      });
      expect(results.map((r) => [r.partition, r.error?.code ?? ErrorCode.NONE])).to.deep.equal([
        [0, ErrorCode.NONE],
        [1, ErrorCode.OFFSET_METADATA_TOO_LARGE],
        [2, ErrorCode.OFFSET_METADATA_TOO_LARGE],
      ]);
      expect(results[1]!.error!.message).to.equal(
        'offset metadata of t/1 is 18 bytes; this agent accepts at most 16 (--max-offset-metadata-bytes)',
      );
      const { offsets } = await client.fetchOffsets({ groupId: 'g', partitions: [] });
      expect(offsets.map((o) => [o.partition, o.offset, o.metadata])).to.deep.equal([[0, 5, 'x'.repeat(OFFSET_LIMIT)]]);
    });

    it('refuses a generation -1 commit while the group has members, and takes it once the group is empty', async () => {
      const { client } = agent.connection;
      const { memberId, generationId } = await stableMember('g');
      const commit = (generation: number, member: string, offset: number) =>
        client.commitOffsets({
          groupId: 'g',
          generationId: generation,
          memberId: member,
          partitions: [{ topic: 't', partition: 0, offset, metadata: '' }],
        });
      expect((await commit(generationId, memberId, 10)).results[0]!.error).to.equal(undefined);
      const refused = (await commit(-1, '', 99)).results[0]!;
      expect(refused.error!.code).to.equal(ErrorCode.ILLEGAL_GENERATION);
      expect(refused.error!.message).to.equal(
        'offset commit for group g under generation -1 refused: the group has 1 member; ' +
          'commit as a member with its generation, or once the group is empty',
      );
      expect(new IllegalGenerationError(refused.error!.message).retriable).to.equal(false);
      expect((await client.fetchOffsets({ groupId: 'g', partitions: [] })).offsets.map((o) => o.offset)).to.deep.equal([
        10,
      ]);
      await client.leaveGroup({ groupId: 'g', memberId });
      expect((await commit(-1, '', 20)).results[0]!.error).to.equal(undefined);
      expect((await client.fetchOffsets({ groupId: 'g', partitions: [] })).offsets.map((o) => o.offset)).to.deep.equal([
        20,
      ]);
    });
  });
}
