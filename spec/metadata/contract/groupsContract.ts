/** Contract: consumer groups (versioned compare-and-set) and committed offsets. */
import { expect } from 'chai';
import {
  GroupIdNotFoundError,
  IllegalGenerationError,
  InvalidRequestError,
  UnknownMemberIdError,
  UnknownTopicOrPartitionError,
} from '../../../src/protocol/errors.js';
import type { GroupMemberRecord, GroupRecord, MetadataStore } from '../../../src/metadata/metadataStore.js';
import { rejection, useStore, type StoreHarnessFactory } from './harness.js';

function member(memberId: string, seed: number): GroupMemberRecord {
  // Every byte value, so encoding bugs (UTF-8, sign, truncation) show.
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + seed) & 0xff);
  return {
    memberId,
    clientId: `client-${memberId}`,
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 300_000,
    protocols: [
      { name: 'range', metadata: bytes.subarray(0, 17) },
      { name: 'roundrobin', metadata: new Uint8Array(0) },
    ],
    assignment: bytes,
    lastHeartbeat: 1_700_000_000_123 + seed,
    joinedGeneration: seed,
  };
}

function group(groupId: string, generation: number, members: GroupMemberRecord[]): GroupRecord {
  return {
    groupId,
    generation,
    state: 'stable',
    protocolName: 'range',
    leaderId: members[0]?.memberId ?? '',
    members,
    stateChangedAt: 1_700_000_000_000,
    version: 0,
  };
}

/** One coordinator's step: reload, bump the generation, store with CAS; retries on a lost race. */
async function bumpGeneration(store: MetadataStore, groupId: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = (await store.getGroup(groupId))!;
    const stored = await store.updateGroup({ ...current, generation: current.generation + 1 }, current.version);
    if (stored !== undefined) return attempt;
  }
  throw new Error('too many CAS retries');
}

export function groupsContract(factory: StoreHarnessFactory): void {
  describe('consumer groups and offsets', () => {
    const ctx = useStore(factory);

    it('stores a group by compare-and-set on its version, bytes exactly', async () => {
      const { store } = ctx();
      const g = group('g1', 1, [member('m-1', 1), member('m-2', 2)]);
      const created = await store.updateGroup(g, 0);
      expect(created).to.deep.equal({ ...g, version: 1 });
      const loaded = (await store.getGroup('g1'))!;
      expect(loaded).to.deep.equal({ ...g, version: 1 });
      expect(loaded.members[1]!.assignment).to.be.instanceOf(Uint8Array);
      expect(Buffer.from(loaded.members[1]!.assignment).equals(Buffer.from(g.members[1]!.assignment))).to.equal(true);
      expect(await store.updateGroup({ ...g, generation: 2 }, 0)).to.equal(undefined);
      expect(await store.updateGroup({ ...g, generation: 2 }, 5)).to.equal(undefined);
      expect((await store.getGroup('g1'))!.generation).to.equal(1);
      const next = await store.updateGroup({ ...loaded, generation: 2, state: 'preparing-rebalance', members: [] }, 1);
      expect(next).to.deep.include({ version: 2, generation: 2, state: 'preparing-rebalance', members: [] });
      expect(await store.getGroup('missing')).to.equal(undefined);
      await rejection(store.updateGroup({ ...g, groupId: '' }, 0), InvalidRequestError, 'INVALID_REQUEST');
    });

    it('increases generations through concurrent CAS updates without losing one', async () => {
      const { store, harness, clock } = ctx();
      const other = await harness.open(clock.read);
      await store.updateGroup(group('g', 0, []), 0);
      const same = await Promise.allSettled([
        store.updateGroup(group('g', 1, []), 1),
        other.updateGroup(group('g', 1, []), 1),
      ]);
      expect(same.filter((r) => r.status === 'fulfilled' && r.value !== undefined)).to.have.length(1);
      await Promise.all([0, 1, 2, 3, 4].flatMap(() => [bumpGeneration(store, 'g'), bumpGeneration(other, 'g')]));
      expect(await other.getGroup('g')).to.deep.include({ generation: 11, version: 12 });
    });

    it('commits offsets and reads them back exactly, all or by partition', async () => {
      const { store, clock } = ctx();
      await store.createTopic('a', 2);
      await store.createTopic('b', 1);
      await store.commitOffsets('g', -1, '', [
        { topic: 'b', partition: 0, offset: 7, metadata: '' },
        { topic: 'a', partition: 1, offset: 9_007_199_254_740_991, metadata: 'ünïcode ✓ {"json":true}' },
        { topic: 'a', partition: 0, offset: 0, metadata: 'first' },
      ]);
      const at = clock.now;
      expect(await store.fetchOffsets('g')).to.deep.equal([
        { topic: 'a', partition: 0, offset: 0, metadata: 'first', commitTime: at },
        {
          topic: 'a',
          partition: 1,
          offset: 9_007_199_254_740_991,
          metadata: 'ünïcode ✓ {"json":true}',
          commitTime: at,
        },
        { topic: 'b', partition: 0, offset: 7, metadata: '', commitTime: at },
      ]);
      clock.advance(50);
      await store.commitOffsets('g', -1, '', [{ topic: 'a', partition: 0, offset: 12, metadata: 'second' }]);
      expect(
        await store.fetchOffsets('g', [
          { topic: 'a', partition: 0 },
          { topic: 'b', partition: 1 },
          { topic: 'b', partition: 0 },
        ]),
      ).to.deep.equal([
        { topic: 'a', partition: 0, offset: 12, metadata: 'second', commitTime: at + 50 },
        { topic: 'b', partition: 0, offset: 7, metadata: '', commitTime: at },
      ]);
      expect(await store.fetchOffsets('other')).to.deep.equal([]);
      expect(await store.fetchOffsets('g', [])).to.deep.equal([]);
    });

    it('fences commits by generation and member, writing nothing when refused', async () => {
      const { store } = ctx();
      await store.createTopic('t', 2);
      await store.updateGroup(group('g', 3, [member('m-1', 1)]), 0);
      const commit = [{ topic: 't', partition: 0, offset: 5, metadata: '' }];
      const stale = await rejection(
        store.commitOffsets('g', 2, 'm-1', commit),
        IllegalGenerationError,
        'ILLEGAL_GENERATION',
      );
      expect(stale.message).to.equal(
        'offset commit for group g under generation 2 refused: the group is at generation 3; rejoin the group',
      );
      const stranger = await rejection(
        store.commitOffsets('g', 3, 'm-9', commit),
        UnknownMemberIdError,
        'UNKNOWN_MEMBER_ID',
      );
      expect(stranger.message).to.equal("member 'm-9' is not in group g at generation 3; rejoin the group");
      const none = await rejection(
        store.commitOffsets('nobody', 0, 'm-1', commit),
        IllegalGenerationError,
        'ILLEGAL_GENERATION',
      );
      expect(none.message).to.equal(
        'offset commit for group nobody under generation 0 refused: the group does not exist; rejoin the group',
      );
      const partial = [...commit, { topic: 't', partition: 2, offset: 1, metadata: '' }];
      const unknown = await rejection(
        store.commitOffsets('g', 3, 'm-1', partial),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      expect(unknown.message).to.equal("partition 2 of topic 't' does not exist (the topic has partitions 0..1)");
      await rejection(
        store.commitOffsets('g', 3, 'm-1', [{ topic: 'u', partition: 0, offset: 1, metadata: '' }]),
        UnknownTopicOrPartitionError,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      await rejection(
        store.commitOffsets('g', 3, 'm-1', [{ topic: 't', partition: 0, offset: -1, metadata: '' }]),
        InvalidRequestError,
        'INVALID_REQUEST',
      );
      await rejection(store.commitOffsets('g', -2, 'm-1', commit), InvalidRequestError, 'INVALID_REQUEST');
      expect(await store.fetchOffsets('g')).to.deep.equal([]);
      await store.commitOffsets('g', 3, 'm-1', commit);
      expect((await store.fetchOffsets('g')).map((o) => o.offset)).to.deep.equal([5]);
    });

    it('allows a commit outside group management (generation -1) only while the group has no members', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      const commit = (offset: number) => [{ topic: 't', partition: 0, offset, metadata: '' }];
      await store.updateGroup(group('g', 4, [member('m-1', 1), member('m-2', 2)]), 0);
      await store.commitOffsets('g', 4, 'm-1', commit(10));
      for (const memberId of ['', 'm-1']) {
        const refused = await rejection(
          store.commitOffsets('g', -1, memberId, commit(99)),
          IllegalGenerationError,
          'ILLEGAL_GENERATION',
        );
        expect(refused.message).to.equal(
          'offset commit for group g under generation -1 refused: the group has 2 members; commit as a member with ' +
            'its generation, or once the group is empty',
        );
      }
      expect((await store.fetchOffsets('g')).map((o) => o.offset)).to.deep.equal([10]);
      const live = (await store.getGroup('g'))!;
      await store.updateGroup({ ...live, members: [member('m-2', 2)] }, live.version);
      const one = await rejection(
        store.commitOffsets('g', -1, '', commit(99)),
        IllegalGenerationError,
        'ILLEGAL_GENERATION',
      );
      expect(one.message).to.contain('the group has 1 member;');
      const left = (await store.getGroup('g'))!;
      await store.updateGroup({ ...left, state: 'empty', members: [] }, left.version);
      await store.commitOffsets('g', -1, '', commit(20));
      expect((await store.fetchOffsets('g')).map((o) => o.offset)).to.deep.equal([20]);
    });

    it('lists groups with a record or with committed offsets, sorted', async () => {
      const { store } = ctx();
      await store.createTopic('t', 1);
      await store.updateGroup(group('zeta', 0, []), 0);
      await store.commitOffsets('alpha', -1, '', [{ topic: 't', partition: 0, offset: 1, metadata: '' }]);
      await store.updateGroup(group('Mid', 0, []), 0);
      await store.commitOffsets('zeta', -1, '', [{ topic: 't', partition: 0, offset: 2, metadata: '' }]);
      expect(await store.listGroups()).to.deep.equal(['Mid', 'alpha', 'zeta']);
    });

    it('deletes an empty group with its offsets; refuses one with members or unknown, deleting nothing', async () => {
      const { store } = ctx();
      await store.createTopic('t', 2);
      await store.createTopic('u', 1);
      const offsets = [
        { topic: 't', partition: 0, offset: 1, metadata: '' },
        { topic: 't', partition: 1, offset: 2, metadata: '' },
        { topic: 'u', partition: 0, offset: 3, metadata: '' },
      ];
      await store.updateGroup(group('live', 1, [member('m-1', 1)]), 0);
      await store.commitOffsets('live', 1, 'm-1', offsets);
      await store.updateGroup({ ...group('idle', 2, []), state: 'empty' }, 0);
      await store.commitOffsets('idle', -1, '', offsets);
      await store.commitOffsets('offsets-only', -1, '', offsets);
      const busy = await rejection(store.deleteGroup('live'), IllegalGenerationError, 'ILLEGAL_GENERATION');
      expect(busy.message).to.equal(
        'group live has 1 member: only an empty group can be deleted (stop its consumers first)',
      );
      const unknown = await rejection(store.deleteGroup('nobody'), GroupIdNotFoundError, 'GROUP_ID_NOT_FOUND');
      expect(unknown.message).to.equal('group nobody does not exist');
      expect(await store.listGroups()).to.deep.equal(['idle', 'live', 'offsets-only']);
      await store.deleteGroup('idle');
      await store.deleteGroup('offsets-only');
      expect(await store.listGroups()).to.deep.equal(['live']);
      expect(await store.getGroup('idle')).to.equal(undefined);
      expect(await store.fetchOffsets('idle')).to.deep.equal([]);
      expect((await store.fetchOffsets('live')).map((o) => o.offset)).to.deep.equal([1, 2, 3]);
      // Deleting a topic afterwards still works and leaves the deleted groups gone.
      await store.deleteTopic('t');
      expect(await store.listGroups()).to.deep.equal(['live']);
      // A group of the same name starts afresh.
      await store.commitOffsets('idle', -1, '', [{ topic: 'u', partition: 0, offset: 7, metadata: '' }]);
      expect((await store.fetchOffsets('idle')).map((o) => [o.topic, o.offset])).to.deep.equal([['u', 7]]);
    });
  });
}
