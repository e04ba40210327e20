import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCoordinator, type GroupCoordinatorOptions } from '../../../src/agent/groups/groupCoordinator.js';
import type { GroupRecord, MetadataStore } from '../../../src/metadata/metadataStore.js';
import { Redis } from 'ioredis';
import { RedisMetadataStore } from '../../../src/metadata/redis/redisMetadataStore.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';
import {
  ErrorCode,
  GroupMaxSizeReachedError,
  IllegalGenerationError,
  InconsistentGroupProtocolError,
  InvalidConfigError,
  InvalidRequestError,
  InvalidSessionTimeoutError,
  RebalanceInProgressError,
  StreamHouseError,
  UnknownMemberIdError,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '../../../src/protocol/index.js';

/**
 * A clock the test moves by hand; integer ms, as the stores require. Counts its reads: every poll of a waiting call
 * reads it.
 */
class ManualClock {
  now = 1_700_000_000_000;
  reads = 0;
  readonly read = (): number => {
    this.reads++;
    return this.now;
  };
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Two store handles on the same data, as two agents would have. */
type StorePair = { stores: [MetadataStore, MetadataStore]; close(): Promise<void> };

type Backend = { name: string; open(clock: () => number): Promise<StorePair> };

const sqliteBackend: Backend = {
  name: 'SQLite',
  async open(clock) {
    const dir = await mkdtemp(join(tmpdir(), 'sh-groups-'));
    const path = join(dir, 'metadata.db');
    const first = new SqliteMetadataStore({ path, clock, synchronous: 'normal' });
    const second = new SqliteMetadataStore({ path, clock, synchronous: 'normal' });
    return {
      stores: [first, second],
      async close() {
        await first.close();
        await second.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

const redisBackend: Backend = {
  name: 'Redis',
  async open(clock) {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const keyPrefix = `sh-test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
    const first = new RedisMetadataStore({ url, keyPrefix, clock });
    const second = new RedisMetadataStore({ url, keyPrefix, clock });
    return {
      stores: [first, second],
      async close() {
        await first.close();
        await second.close();
        const redis = new Redis(url);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
            if (keys.length > 0) await redis.del(...keys);
            cursor = next;
          } while (cursor !== '0');
        } finally {
          redis.disconnect();
        }
      },
    };
  },
};

const SESSION_MS = 10_000;
const REBALANCE_MS = 30_000;
const INITIAL_DELAY_MS = 3000;

function joinRequest(
  groupId: string,
  clientId: string,
  options: { memberId?: string; protocols?: [name: string, metadata: string][]; sessionTimeoutMs?: number } = {},
): JoinGroupRequest {
  const { memberId = '', protocols = [['range', `meta-${clientId}`]], sessionTimeoutMs = SESSION_MS } = options;
  return {
    groupId,
    memberId,
    clientId,
    sessionTimeoutMs,
    rebalanceTimeoutMs: REBALANCE_MS,
    protocols: protocols.map(([name, metadata]) => ({ name, metadata: Buffer.from(metadata) })),
  };
}

async function rejection(promise: Promise<unknown>): Promise<StreamHouseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StreamHouseError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}

/**
 * True when the promise is still unsettled after the waiting calls have
 * polled the group several more times (each poll reads the clock): an answer
 * due with the group as it is would have come with one of those polls.
 */
async function isPending(promise: Promise<unknown>, clock: ManualClock): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const target = clock.reads + 20;
  for (let waited = 0; clock.reads < target; waited++) {
    if (waited > 5000) throw new Error('the waiting calls stopped polling');
    await sleep(1);
  }
  return !settled;
}

async function waitForGroup(
  store: MetadataStore,
  groupId: string,
  ready: (group: GroupRecord) => boolean,
): Promise<GroupRecord> {
  for (let waited = 0; waited < 5000; waited += 5) {
    const group = await store.getGroup(groupId);
    if (group !== undefined && ready(group)) return group;
    await sleep(5);
  }
  throw new Error(`group ${groupId} never reached the expected state`);
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

for (const backend of [sqliteBackend, redisBackend]) {
  describe(`agent/GroupCoordinator on ${backend.name}`, function () {
    this.timeout(20_000);
    let clock: ManualClock;
    let pair: StorePair;
    let store: MetadataStore;
    let coordinator: GroupCoordinator;
    let groupSeq = 0;
    let groupId: string;

    const makeCoordinator = (overrides: Partial<GroupCoordinatorOptions> = {}): GroupCoordinator =>
      new GroupCoordinator({
        store,
        clock: clock.read,
        pollIntervalMs: 5,
        minSessionTimeoutMs: 1000,
        maxSessionTimeoutMs: 60_000,
        initialRebalanceDelayMs: INITIAL_DELAY_MS,
        ...overrides,
      });

    beforeEach(async () => {
      clock = new ManualClock();
      pair = await backend.open(clock.read);
      store = pair.stores[0];
      coordinator = makeCoordinator();
      groupId = `group-${++groupSeq}`;
    });

    afterEach(async () => {
      await pair.close();
    });

    /** Starts first joins of `clientIds` at once, lets the initial delay pass and returns the answers by client id. */
    async function joinAll(
      clientIds: string[],
      via: GroupCoordinator[] = [coordinator],
    ): Promise<Map<string, JoinGroupResponse>> {
      const joins = clientIds.map((clientId, index) => via[index % via.length]!.join(joinRequest(groupId, clientId)));
      await waitForGroup(store, groupId, (group) => group.members.length === clientIds.length);
      for (const pending of joins) expect(await isPending(pending, clock)).to.equal(true);
      clock.advance(INITIAL_DELAY_MS);
      const answers = await Promise.all(joins);
      return new Map(clientIds.map((clientId, index) => [clientId, answers[index]!]));
    }

    /** Syncs every member (followers first, so they wait) with assignment `assigned-<clientId>-g<generation>`. */
    async function syncAll(answers: Map<string, JoinGroupResponse>): Promise<Map<string, string>> {
      const all = [...answers.entries()];
      const leader = all.find(([, answer]) => answer.memberId === answer.leaderId)!;
      const generationId = leader[1].generationId;
      const clientOf = new Map(all.map(([clientId, answer]) => [answer.memberId, clientId]));
      const followers = all
        .filter(([clientId]) => clientId !== leader[0])
        .map(async ([clientId, answer]) => {
          const reply = await coordinator.sync({ groupId, generationId, memberId: answer.memberId, assignments: [] });
          return [clientId, text(reply.assignment)] as const;
        });
      const assignments = leader[1].members.map((member) => ({
        memberId: member.memberId,
        assignment: Buffer.from(`assigned-${clientOf.get(member.memberId)}-g${generationId}`),
      }));
      const leaderReply = await coordinator.sync({ groupId, generationId, memberId: leader[1].memberId, assignments });
      const results = new Map(await Promise.all(followers));
      results.set(leader[0], text(leaderReply.assignment));
      return results;
    }

    it('gives a single member generation 1, leadership and its own assignment', async () => {
      coordinator = makeCoordinator({ initialRebalanceDelayMs: 0 });
      const joined = await coordinator.join(joinRequest(groupId, 'client-a'));
      expect(joined.memberId).to.match(/^client-a-[0-9a-f-]{36}$/);
      expect(joined).to.deep.include({ generationId: 1, protocolName: 'range', leaderId: joined.memberId });
      expect(joined.members.map((m) => [m.memberId, m.clientId, text(m.metadata)])).to.deep.equal([
        [joined.memberId, 'client-a', 'meta-client-a'],
      ]);
      const synced = await coordinator.sync({
        groupId,
        generationId: 1,
        memberId: joined.memberId,
        assignments: [{ memberId: joined.memberId, assignment: Buffer.from([1, 2, 3]) }],
      });
      expect([...synced.assignment]).to.deep.equal([1, 2, 3]);
      expect(await coordinator.heartbeat({ groupId, generationId: 1, memberId: joined.memberId })).to.deep.equal({});
      const group = (await store.getGroup(groupId))!;
      expect({ state: group.state, generation: group.generation, leaderId: group.leaderId }).to.deep.equal({
        state: 'stable',
        generation: 1,
        leaderId: joined.memberId,
      });
    });

    it('gives three concurrent joiners one generation and one leader who alone sees all metadata', async () => {
      const answers = await joinAll(['a', 'b', 'c']);
      const group = (await store.getGroup(groupId))!;
      const leaderId = group.members[0]!.memberId;
      for (const answer of answers.values()) {
        expect(answer.generationId).to.equal(1);
        expect(answer.leaderId).to.equal(leaderId);
        expect(answer.protocolName).to.equal('range');
      }
      const withMembers = [...answers.values()].filter((answer) => answer.members.length > 0);
      expect(withMembers.map((answer) => answer.memberId)).to.deep.equal([leaderId]);
      const seen = withMembers[0]!.members.map((m) => `${m.clientId}:${text(m.metadata)}`).sort();
      expect(seen).to.deep.equal(['a:meta-a', 'b:meta-b', 'c:meta-c']);
      expect(new Set([...answers.values()].map((answer) => answer.memberId)).size).to.equal(3);

      const assigned = await syncAll(answers);
      expect(Object.fromEntries(assigned)).to.deep.equal({
        a: 'assigned-a-g1',
        b: 'assigned-b-g1',
        c: 'assigned-c-g1',
      });
      expect((await store.getGroup(groupId))!.state).to.equal('stable');
    });

    it('rebalances all on a fourth join: heartbeats say REBALANCE_IN_PROGRESS, all reach generation 2', async () => {
      const first = await joinAll(['a', 'b', 'c']);
      await syncAll(first);
      const leaderId = first.get('a')!.leaderId;

      const fourth = coordinator.join(joinRequest(groupId, 'd'));
      await waitForGroup(store, groupId, (group) => group.state === 'preparing-rebalance');
      expect(await isPending(fourth, clock)).to.equal(true);
      for (const answer of first.values()) {
        const refused = await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: answer.memberId }));
        expect(refused).to.be.instanceOf(RebalanceInProgressError);
        expect(refused.code).to.equal('REBALANCE_IN_PROGRESS');
      }
      const rejoins = [...first.entries()].map(([clientId, answer]) =>
        coordinator.join(joinRequest(groupId, clientId, { memberId: answer.memberId })),
      );
      const answers = await Promise.all([...rejoins, fourth]);
      const second = new Map([...first.keys(), 'd'].map((clientId, i) => [clientId, answers[i]!]));

      for (const [clientId, answer] of second) {
        expect(answer.generationId, clientId).to.equal(2);
        expect(answer.leaderId, clientId).to.equal(leaderId);
        if (clientId !== 'd') expect(answer.memberId).to.equal(first.get(clientId)!.memberId);
      }
      const leaderAnswer = answers.find((answer) => answer.memberId === leaderId)!;
      expect(leaderAnswer.members.map((m) => m.clientId).sort()).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(answers.filter((answer) => answer.members.length > 0)).to.have.length(1);

      const assigned = await syncAll(second);
      expect(Object.fromEntries(assigned)).to.deep.equal({
        a: 'assigned-a-g2',
        b: 'assigned-b-g2',
        c: 'assigned-c-g2',
        d: 'assigned-d-g2',
      });
      await coordinator.heartbeat({ groupId, generationId: 2, memberId: leaderId });
      const stale = await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: leaderId }));
      expect(stale).to.be.instanceOf(IllegalGenerationError);
      expect(stale.code).to.equal('ILLEGAL_GENERATION');
    });

    it('rebalances when a member leaves and empties the group when the last one leaves', async () => {
      const first = await joinAll(['a', 'b']);
      await syncAll(first);
      const [a, b] = [first.get('a')!, first.get('b')!];
      expect(await coordinator.leave({ groupId, memberId: b.memberId })).to.deep.equal({});
      expect(
        await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId })),
      ).to.be.instanceOf(RebalanceInProgressError);
      const rejoined = await coordinator.join(joinRequest(groupId, 'a', { memberId: a.memberId }));
      expect(rejoined).to.deep.include({ generationId: 2, leaderId: a.memberId, memberId: a.memberId });
      expect(rejoined.members.map((m) => m.memberId)).to.deep.equal([a.memberId]);

      const gone = await rejection(coordinator.heartbeat({ groupId, generationId: 2, memberId: b.memberId }));
      expect(gone).to.be.instanceOf(UnknownMemberIdError);
      expect(await rejection(coordinator.leave({ groupId, memberId: b.memberId }))).to.be.instanceOf(
        UnknownMemberIdError,
      );

      await coordinator.leave({ groupId, memberId: a.memberId });
      const group = (await store.getGroup(groupId))!;
      expect({
        state: group.state,
        generation: group.generation,
        members: group.members,
        leaderId: group.leaderId,
      }).to.deep.equal({
        state: 'empty',
        generation: 3,
        members: [],
        leaderId: '',
      });
    });

    it('removes a member whose session expired (background sweep) and rebalances the rest', async () => {
      const first = await joinAll(['a', 'b']);
      await syncAll(first);
      const [a, b] = [first.get('a')!, first.get('b')!];
      clock.advance(6000);
      await coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId });
      clock.advance(SESSION_MS - 6000 - 1);
      expect(await coordinator.expireMembers()).to.equal(0);
      clock.advance(1); // b silent exactly one session timeout, a for 4000 ms
      expect(await coordinator.expireMembers()).to.equal(1);
      const group = (await store.getGroup(groupId))!;
      expect(group.state).to.equal('preparing-rebalance');
      expect(group.members.map((m) => m.memberId)).to.deep.equal([a.memberId]);

      expect(
        await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId })),
      ).to.be.instanceOf(RebalanceInProgressError);
      const rejoined = await coordinator.join(joinRequest(groupId, 'a', { memberId: a.memberId }));
      expect(rejoined).to.deep.include({ generationId: 2, leaderId: a.memberId });
      expect(
        await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: b.memberId })),
      ).to.be.instanceOf(UnknownMemberIdError);
    });

    it('admits at most maxGroupMembers new members across two agents; an expired member frees a slot', async () => {
      const options = { maxGroupMembers: 2 };
      coordinator = makeCoordinator(options);
      const other = new GroupCoordinator({ ...options, store: pair.stores[1], clock: clock.read, pollIntervalMs: 5 });
      const via = [coordinator, other];
      const settled = ['a', 'b', 'c', 'd'].map((clientId, index) =>
        via[index % 2]!.join(joinRequest(groupId, clientId)).then(
          (answer) => ({ answer, error: undefined }),
          (error: unknown) => ({ answer: undefined, error }),
        ),
      );
      await waitForGroup(store, groupId, (group) => group.members.length === 2);
      clock.advance(INITIAL_DELAY_MS);
      const results = await Promise.all(settled);
      const admitted = results.flatMap(({ answer }) => (answer === undefined ? [] : [answer]));
      const refused = results.flatMap(({ error }) => (error === undefined ? [] : [error]));
      expect(admitted.map((answer) => answer.generationId)).to.deep.equal([1, 1]);
      expect(refused.map((error) => (error as StreamHouseError).code)).to.deep.equal([
        'GROUP_MAX_SIZE_REACHED',
        'GROUP_MAX_SIZE_REACHED',
      ]);
      expect(refused.every((error) => error instanceof GroupMaxSizeReachedError)).to.equal(true);
      expect((await store.getGroup(groupId))!.members.length).to.equal(2);

      const [kept, silent] = admitted as [JoinGroupResponse, JoinGroupResponse];
      await syncAll(
        new Map([
          ['kept', kept],
          ['silent', silent],
        ]),
      );
      clock.advance(SESSION_MS - 1);
      await coordinator.heartbeat({ groupId, generationId: 1, memberId: kept.memberId });
      clock.advance(1);
      expect(await other.expireMembers()).to.equal(1);
      const newcomer = other.join(joinRequest(groupId, 'e'));
      // the newcomer is in the round before the kept member rejoins, so one round takes both
      await waitForGroup(store, groupId, (group) => group.members.length === 2);
      const rejoined = await coordinator.join(joinRequest(groupId, 'a', { memberId: kept.memberId }));
      const joined = await newcomer;
      expect([rejoined.generationId, joined.generationId]).to.deep.equal([2, 2]);
      const members = (await store.getGroup(groupId))!.members.map((member) => member.memberId);
      expect(members).to.have.members([kept.memberId, joined.memberId]);
      expect(members).to.not.include(silent.memberId);
    });

    it('refuses the late heartbeat of a member whose own session ran out', async () => {
      const first = await joinAll(['a', 'b']);
      await syncAll(first);
      const a = first.get('a')!;
      clock.advance(SESSION_MS);
      const refused = await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId }));
      expect(refused).to.be.instanceOf(UnknownMemberIdError);
      const group = (await store.getGroup(groupId))!;
      expect({ state: group.state, generation: group.generation, members: group.members.length }).to.deep.equal({
        state: 'empty',
        generation: 2,
        members: 0,
      });
    });

    it('keeps a heartbeating member and drops the silent one on the heartbeat path', async () => {
      const first = await joinAll(['a', 'b']);
      await syncAll(first);
      const [a, b] = [first.get('a')!, first.get('b')!];
      clock.advance(SESSION_MS - 1);
      await coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId });
      clock.advance(1);
      const refused = await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: a.memberId }));
      expect(refused).to.be.instanceOf(RebalanceInProgressError);
      expect((await store.getGroup(groupId))!.members.map((m) => m.memberId)).to.deep.equal([a.memberId]);
      expect(
        await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: b.memberId })),
      ).to.be.instanceOf(UnknownMemberIdError);
    });

    it('ends a join round at the rebalance timeout without the member that never rejoined', async () => {
      const first = await joinAll(['a', 'b']);
      await syncAll(first);
      const [a, b] = [first.get('a')!, first.get('b')!];
      const rejoin = coordinator.join(joinRequest(groupId, 'a', { memberId: a.memberId }));
      await waitForGroup(store, groupId, (group) => group.state === 'preparing-rebalance');
      // b stays alive by heartbeating but never rejoins.
      for (let elapsed = 0; elapsed < REBALANCE_MS - 9000; elapsed += 9000) {
        clock.advance(9000);
        expect(
          await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: b.memberId })),
        ).to.be.instanceOf(RebalanceInProgressError);
        expect(await isPending(rejoin, clock)).to.equal(true);
      }
      clock.advance(REBALANCE_MS - 27_000);
      const answer = await rejoin;
      expect(answer).to.deep.include({ generationId: 2, leaderId: a.memberId });
      expect(answer.members.map((m) => m.memberId)).to.deep.equal([a.memberId]);
      expect(
        await rejection(coordinator.heartbeat({ groupId, generationId: 1, memberId: b.memberId })),
      ).to.be.instanceOf(UnknownMemberIdError);
    });

    it('makes a waiting follower rejoin when a new round starts, and drops a leader that never syncs', async () => {
      const joined = await joinAll(['a', 'b']);
      const leader = [...joined.values()].find((answer) => answer.memberId === answer.leaderId)!;
      const follower = [...joined.values()].find((answer) => answer.memberId !== answer.leaderId)!;
      const waiting = coordinator.sync({ groupId, generationId: 1, memberId: follower.memberId, assignments: [] });
      expect(await isPending(waiting, clock)).to.equal(true);
      clock.advance(SESSION_MS);
      const refused = await rejection(waiting);
      expect(refused).to.be.instanceOf(RebalanceInProgressError);
      const group = (await store.getGroup(groupId))!;
      expect(group.members.map((m) => m.memberId)).to.deep.equal([follower.memberId]);
      const rejoined = await coordinator.join(joinRequest(groupId, 'x', { memberId: follower.memberId }));
      expect(rejoined).to.deep.include({ generationId: 2, leaderId: follower.memberId });
      expect(leader.memberId).to.not.equal(follower.memberId);
    });

    it('refuses SyncGroup for a stale generation or an unknown member', async () => {
      const answers = await joinAll(['a']);
      const a = answers.get('a')!;
      const stale = await rejection(
        coordinator.sync({ groupId, generationId: 0, memberId: a.memberId, assignments: [] }),
      );
      expect(stale).to.be.instanceOf(IllegalGenerationError);
      const unknown = await rejection(
        coordinator.sync({ groupId, generationId: 1, memberId: 'nobody', assignments: [] }),
      );
      expect(unknown).to.be.instanceOf(UnknownMemberIdError);
      expect(unknown.code).to.equal('UNKNOWN_MEMBER_ID');
    });

    it('validates joins: session timeout range, protocols, member id, group id', async () => {
      const low = await rejection(coordinator.join(joinRequest(groupId, 'a', { sessionTimeoutMs: 999 })));
      expect(low).to.be.instanceOf(InvalidSessionTimeoutError);
      expect(low.code).to.equal('INVALID_SESSION_TIMEOUT');
      expect(
        await rejection(coordinator.join(joinRequest(groupId, 'a', { sessionTimeoutMs: 60_001 }))),
      ).to.be.instanceOf(InvalidSessionTimeoutError);
      expect(await rejection(coordinator.join(joinRequest(groupId, 'a', { protocols: [] })))).to.be.instanceOf(
        InconsistentGroupProtocolError,
      );
      expect(await rejection(coordinator.join(joinRequest(groupId, 'a', { memberId: 'made-up' })))).to.be.instanceOf(
        UnknownMemberIdError,
      );
      expect(await rejection(coordinator.join(joinRequest('', 'a')))).to.be.instanceOf(InvalidRequestError);
      expect(await store.getGroup(groupId)).to.equal(undefined);

      const first = coordinator.join(joinRequest(groupId, 'a', { protocols: [['range', 'x']] }));
      await waitForGroup(store, groupId, (group) => group.members.length === 1);
      const mismatch = await rejection(coordinator.join(joinRequest(groupId, 'b', { protocols: [['sticky', 'y']] })));
      expect(mismatch).to.be.instanceOf(InconsistentGroupProtocolError);
      expect(mismatch.code).to.equal('INCONSISTENT_GROUP_PROTOCOL');
      clock.advance(INITIAL_DELAY_MS);
      expect((await first).generationId).to.equal(1);
    });

    it("chooses the first protocol in the leader's preference that every member supports", async () => {
      const a = coordinator.join(
        joinRequest(groupId, 'a', {
          protocols: [
            ['sticky', 'sa'],
            ['roundrobin', 'ra'],
            ['range', 'ga'],
          ],
        }),
      );
      await waitForGroup(store, groupId, (group) => group.members.length === 1);
      const b = coordinator.join(
        joinRequest(groupId, 'b', {
          protocols: [
            ['range', 'gb'],
            ['roundrobin', 'rb'],
          ],
        }),
      );
      await waitForGroup(store, groupId, (group) => group.members.length === 2);
      clock.advance(INITIAL_DELAY_MS);
      const [answerA, answerB] = await Promise.all([a, b]);
      expect(answerA.leaderId).to.equal(answerA.memberId);
      expect(answerA.protocolName).to.equal('roundrobin');
      expect(answerB.protocolName).to.equal('roundrobin');
      expect(answerA.members.map((m) => text(m.metadata))).to.deep.equal(['ra', 'rb']);
      expect(answerB.members).to.deep.equal([]);
    });

    it('rejects a waiting join with AbortError when its signal aborts', async () => {
      const controller = new AbortController();
      const waiting = coordinator.join(joinRequest(groupId, 'a'), controller.signal);
      await waitForGroup(store, groupId, (group) => group.members.length === 1);
      controller.abort();
      let caught: unknown;
      await waiting.catch((error: unknown) => (caught = error));
      expect((caught as Error).name).to.equal('AbortError');
    });

    it('fences commits per partition by generation and membership', async () => {
      await store.createTopic('orders', 2);
      const answers = await joinAll(['a']);
      const a = answers.get('a')!;
      await syncAll(answers);
      const commit = (generationId: number, memberId: string, offset: number, partitions = [0, 1]) =>
        coordinator.commitOffsets({
          groupId,
          generationId,
          memberId,
          partitions: partitions.map((partition) => ({
            topic: 'orders',
            partition,
            offset: offset + partition,
            metadata: `m${partition}`,
          })),
        });
      expect(await commit(1, a.memberId, 10)).to.deep.equal({
        results: [
          { topic: 'orders', partition: 0, error: undefined },
          { topic: 'orders', partition: 1, error: undefined },
        ],
      });

      // A new round is being prepared: the old generation may still commit (what it processed before rejoining).
      const rejoin = coordinator.join(joinRequest(groupId, 'a', { memberId: a.memberId }));
      expect((await rejoin).generationId).to.equal(2);
      const stale = await commit(1, a.memberId, 20);
      expect(stale.results.map((r) => [r.partition, r.error?.code])).to.deep.equal([
        [0, ErrorCode.ILLEGAL_GENERATION],
        [1, ErrorCode.ILLEGAL_GENERATION],
      ]);
      const stranger = await commit(2, 'stranger', 30, [1]);
      expect(stranger.results.map((r) => r.error?.code)).to.deep.equal([ErrorCode.UNKNOWN_MEMBER_ID]);

      const mixed = await coordinator.commitOffsets({
        groupId,
        generationId: 2,
        memberId: a.memberId,
        partitions: [
          { topic: 'orders', partition: 1, offset: 41, metadata: '' },
          { topic: 'orders', partition: 2, offset: 5, metadata: '' },
          { topic: 'missing', partition: 0, offset: 5, metadata: '' },
          { topic: 'orders', partition: 0, offset: -1, metadata: '' },
          { topic: 'orders', partition: 1, offset: 42, metadata: '' },
        ],
      });
      expect(mixed.results.map((r) => r.error?.code ?? ErrorCode.NONE)).to.deep.equal([
        ErrorCode.NONE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
      ]);
      const fetched = await coordinator.fetchOffsets({ groupId, partitions: [] });
      expect(fetched.offsets.map((o) => [o.partition, o.offset, o.metadata])).to.deep.equal([
        [0, 10, 'm0'],
        [1, 41, ''],
      ]);
    });

    it('fetches exactly what was committed, and -1 for partitions with no commit', async () => {
      await store.createTopic('orders', 3);
      const committedAt = clock.now;
      const result = await coordinator.commitOffsets({
        groupId,
        generationId: -1,
        memberId: '',
        partitions: [{ topic: 'orders', partition: 2, offset: 42, metadata: 'checkpoint' }],
      });
      expect(result.results[0]!.error).to.equal(undefined);
      const fetched = await coordinator.fetchOffsets({
        groupId,
        partitions: [
          { topic: 'orders', partition: 0 },
          { topic: 'orders', partition: 2 },
        ],
      });
      expect(fetched.offsets).to.deep.equal([
        { topic: 'orders', partition: 0, offset: -1, metadata: '', commitTimeMs: -1 },
        { topic: 'orders', partition: 2, offset: 42, metadata: 'checkpoint', commitTimeMs: committedAt },
      ]);
      clock.advance(5);
      await coordinator.commitOffsets({
        groupId,
        generationId: -1,
        memberId: '',
        partitions: [{ topic: 'orders', partition: 2, offset: 50, metadata: '' }],
      });
      expect((await coordinator.fetchOffsets({ groupId, partitions: [] })).offsets).to.deep.equal([
        { topic: 'orders', partition: 2, offset: 50, metadata: '', commitTimeMs: committedAt + 5 },
      ]);
      expect((await coordinator.fetchOffsets({ groupId: 'never-used', partitions: [] })).offsets).to.deep.equal([]);
    });

    it('lets members served by two agents (two store handles) converge on one generation', async () => {
      const other = new GroupCoordinator({
        store: pair.stores[1],
        clock: clock.read,
        pollIntervalMs: 5,
        minSessionTimeoutMs: 1000,
        initialRebalanceDelayMs: INITIAL_DELAY_MS,
      });
      const answers = await joinAll(['a', 'b', 'c', 'd'], [coordinator, other]);
      const generations = new Set([...answers.values()].map((answer) => answer.generationId));
      const leaders = new Set([...answers.values()].map((answer) => answer.leaderId));
      expect([...generations]).to.deep.equal([1]);
      expect(leaders.size).to.equal(1);
      const assigned = await syncAll(answers);
      expect(assigned.get('d')).to.equal('assigned-d-g1');
      // A rejoin through the other agent rebalances everyone.
      const b = answers.get('b')!;
      const rejoin = other.join(joinRequest(groupId, 'b', { memberId: b.memberId }));
      const others = ['a', 'c', 'd'].map((clientId, i) =>
        (i % 2 === 0 ? coordinator : other).join(
          joinRequest(groupId, clientId, { memberId: answers.get(clientId)!.memberId }),
        ),
      );
      const second = await Promise.all([rejoin, ...others]);
      expect(second.map((answer) => answer.generationId)).to.deep.equal([2, 2, 2, 2]);
    });

    it('lands every one of many simultaneous heartbeats through two agents (compare-and-set retries)', async () => {
      const other = new GroupCoordinator({
        store: pair.stores[1],
        clock: clock.read,
        pollIntervalMs: 5,
        minSessionTimeoutMs: 1000,
      });
      const clientIds = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      const answers = await joinAll(clientIds);
      await syncAll(answers);
      clock.advance(1000);
      await Promise.all(
        [...answers.values()].map((answer, i) =>
          (i % 2 === 0 ? coordinator : other).heartbeat({ groupId, generationId: 1, memberId: answer.memberId }),
        ),
      );
      const group = (await store.getGroup(groupId))!;
      expect(group.members.map((m) => m.lastHeartbeat)).to.deep.equal(clientIds.map(() => clock.now));
      expect(group).to.deep.include({ state: 'stable', generation: 1 });
    });

    it('only ever increases generations, whatever the sequence of joins, rejoins, leaves and expiries', async () => {
      type Op = { kind: 'join' | 'rejoin' | 'leave' | 'expire'; pick: number };
      const op = fc.record({
        kind: fc.constantFrom<Op['kind']>('join', 'rejoin', 'leave', 'expire'),
        pick: fc.nat(10),
      });
      coordinator = makeCoordinator({ initialRebalanceDelayMs: 0 });

      /**
       * Brings the group back to stable: everyone not yet rejoined rejoins, then all sync. Returns the generation
       * reached.
       */
      const settle = async (joins: Promise<JoinGroupResponse>[]): Promise<number | undefined> => {
        const group = (await store.getGroup(groupId))!;
        if (group.state === 'empty') return group.generation;
        if (group.state === 'preparing-rebalance') {
          for (const member of group.members.filter((m) => m.joinedGeneration !== group.generation + 1)) {
            joins.push(coordinator.join(joinRequest(groupId, member.clientId, { memberId: member.memberId })));
          }
        }
        const answers = await Promise.all(joins);
        if (answers.length === 0) return undefined;
        const generation = answers[0]!.generationId;
        expect(answers.map((answer) => answer.generationId)).to.deep.equal(answers.map(() => generation));
        await syncAll(new Map(answers.map((answer) => [answer.memberId, answer])));
        expect((await store.getGroup(groupId))!).to.deep.include({ state: 'stable', generation });
        return generation;
      };

      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
          groupId = `prop-${groupSeq}-${++run}`;
          const generations: number[] = [];
          let clients = 0;
          for (const step of ops) {
            const before = await store.getGroup(groupId);
            const members = before?.members ?? [];
            const victim = members[step.pick % Math.max(1, members.length)];
            const joins: Promise<JoinGroupResponse>[] = [];
            if (step.kind === 'join') {
              joins.push(coordinator.join(joinRequest(groupId, `c${++clients}`)));
            } else if (victim === undefined) {
              continue;
            } else if (step.kind === 'rejoin') {
              joins.push(coordinator.join(joinRequest(groupId, victim.clientId, { memberId: victim.memberId })));
            } else if (step.kind === 'leave') {
              await coordinator.leave({ groupId, memberId: victim.memberId });
            } else {
              clock.advance(SESSION_MS - 1);
              for (const member of members.filter((m) => m !== victim)) {
                await coordinator.heartbeat({ groupId, generationId: before!.generation, memberId: member.memberId });
              }
              clock.advance(1);
              // Members of groups from earlier runs expire too: the sweep covers every group.
              expect(await coordinator.expireMembers()).to.be.at.least(1);
              const after = (await store.getGroup(groupId))!;
              expect(after.members.map((m) => m.memberId)).to.deep.equal(
                members.filter((m) => m !== victim).map((m) => m.memberId),
              );
            }
            await waitForGroup(store, groupId, (group) => group.version > (before?.version ?? 0));
            const generation = await settle(joins);
            if (generation !== undefined) generations.push(generation);
          }
          generations.forEach((generation, i) => {
            if (i > 0) expect(generation).to.be.greaterThan(generations[i - 1]!);
          });
        }),
        { numRuns: 12 },
      );
    });

    it('rejects invalid options with InvalidConfigError', () => {
      expect(() => makeCoordinator({ pollIntervalMs: 0 })).to.throw(InvalidConfigError);
      expect(() => makeCoordinator({ maxGroupMembers: 0 })).to.throw(
        InvalidConfigError,
        'group option maxGroupMembers must be a positive integer, got 0',
      );
      expect(() => makeCoordinator({ minSessionTimeoutMs: 70_000 })).to.throw(
        InvalidConfigError,
        /minSessionTimeoutMs/,
      );
    });
  });
}
