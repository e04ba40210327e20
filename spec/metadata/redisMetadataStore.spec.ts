/** Redis-specific behaviour: key prefixes, the Lua scripts, connections. */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { InvalidProducerEpochError, InvalidRequestError, MetadataError } from '../../src/protocol/errors.js';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { deleteKeysWithPrefix, escapeGlob } from '../../src/metadata/redis/redisKeys.js';
import { defaultRedisUrl } from '../../src/metadata/redis/redisOptions.js';
import { locateLuaDirectory } from '../../src/metadata/redis/scriptLoader.js';
import { ManualClock, rejection, segment } from './contract/harness.js';
import { isTopicId } from '../../src/metadata/topicIds.js';
import { redisHarness, uniquePrefix } from './support/storeHarnesses.js';

/** Every key matching `pattern` (SCAN, so other users of the Redis are not blocked). */
async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

/** Writes one of everything under a store. */
async function populate(store: MetadataStore, topic: string, group: string, partitions: number): Promise<void> {
  await store.createTopic(topic, partitions);
  const lease = await store.acquireLease(topic, 0, 'agent-1', 60_000);
  const producer = await store.allocateProducerId();
  await store.commitSegment({
    topic,
    partition: 0,
    epoch: lease.epoch,
    expectedHighWatermark: 0,
    segment: segment(topic, 0, 0, 10),
    producers: [
      { producerId: producer.producerId, producerEpoch: 0, lastSequence: 9, lastBaseOffset: 0, lastRecordCount: 10 },
    ],
  });
  await store.registerAgent({ agentId: 'agent-1', address: '127.0.0.1:1', startedAt: 1 });
  await store.updateGroup(
    {
      groupId: group,
      generation: 1,
      state: 'stable',
      protocolName: 'range',
      leaderId: 'm',
      members: [],
      stateChangedAt: 1,
      version: 0,
    },
    0,
  );
  await store.commitOffsets(group, -1, '', [{ topic, partition: 0, offset: 4, metadata: '' }]);
}

describe('RedisMetadataStore', () => {
  let admin: Redis;
  before(() => {
    admin = new Redis(defaultRedisUrl());
  });
  after(async () => {
    await admin.quit();
  });

  it('keeps two prefixes apart: same names, independent state, every key under its prefix', async () => {
    const token = uniquePrefix().split(':')[2]!;
    const left = await redisHarness(`sh-test:${process.pid}:${token}:left:`);
    const right = await redisHarness(`sh-test:${process.pid}:${token}:right:`);
    try {
      const clock = new ManualClock();
      const a = await left.open(clock.read);
      const b = await right.open(clock.read);
      const topic = `orders-${token}`;
      const group = `group-${token}`;
      await populate(a, topic, group, 3);
      await b.createTopic(topic, 1);

      expect((await b.getPartition(topic, 0)).highWatermark).to.equal(0);
      expect((await b.getTopic(topic))?.partitions).to.equal(1);
      expect(await b.listSegments(topic, 0)).to.deep.equal([]);
      expect(await b.listGroups()).to.deep.equal([]);
      expect(await b.listLiveAgents(60_000)).to.deep.equal([]);
      expect(await b.allocateProducerId()).to.deep.equal({ producerId: 1, producerEpoch: 0 });
      expect((await a.getPartition(topic, 0)).highWatermark).to.equal(10);

      // Every key anywhere that mentions this run's token lives under one of the two prefixes...
      const all = await scanKeys(admin, `*${escapeGlob(token)}*`);
      expect(
        all.every((key) => key.startsWith(left.prefix) || key.startsWith(right.prefix)),
        all.join('\n'),
      ).to.equal(true);
      // ...and exactly these keys were written (nothing stray, nothing shared).
      const suffixes = (prefix: string) => all.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
      expect(suffixes(left.prefix)).to.deep.equal(
        [
          'agent-heartbeats',
          'agents',
          `group:${group}`,
          'groups',
          `offset-groups:${topic}`,
          `offsets:${group}`,
          `partition:${topic}:0`,
          `partition:${topic}:1`,
          `partition:${topic}:2`,
          'producer-epochs',
          'producer-id-seq',
          `producer-state-times:${topic}:0`,
          `producer-states:${topic}:0`,
          `segment-info:${topic}:0`,
          `segments:${topic}:0`,
          `topic:${topic}`,
          'topic-ids',
          'topics',
        ].sort(),
      );
      // Keys whose names hold no topic or group must not have been written without the prefix either.
      const fixed = suffixes(left.prefix).filter((suffix) => !suffix.includes(token));
      expect(await admin.exists(...fixed)).to.equal(0);
      expect(suffixes(right.prefix)).to.deep.equal(
        [`partition:${topic}:0`, 'producer-epochs', 'producer-id-seq', `topic:${topic}`, 'topic-ids', 'topics'].sort(),
      );

      await a.deleteTopic(topic);
      expect((await b.getTopic(topic))?.partitions).to.equal(1);
      // Nothing of the topic is left behind under its name.
      expect((await scanKeys(admin, `${escapeGlob(left.prefix)}*`)).filter((key) => key.includes(topic))).to.deep.equal(
        [],
      );
    } finally {
      await left.cleanup();
      await right.cleanup();
    }
    expect(await scanKeys(admin, `*${escapeGlob(left.prefix)}*`)).to.deep.equal([]);
  });

  it('stops bumping a producer epoch at the int16 limit', async () => {
    const harness = await redisHarness();
    try {
      const store = await harness.open(Date.now);
      const { producerId } = await store.allocateProducerId();
      await admin.hset(`${harness.prefix}producer-epochs`, String(producerId), '32766');
      expect(await store.bumpProducerEpoch(producerId)).to.deep.equal({ producerId, producerEpoch: 32767 });
      const error = await rejection(
        store.bumpProducerEpoch(producerId),
        InvalidProducerEpochError,
        'INVALID_PRODUCER_EPOCH',
      );
      expect(error.message).to.equal(
        `producer id ${producerId} is at the last epoch (32767); allocate a new producer id`,
      );
    } finally {
      await harness.cleanup();
    }
  });

  it('reads producer states stored without earlier batches; expires them a period after first commit', async () => {
    const harness = await redisHarness();
    try {
      const clock = new ManualClock();
      const store = await harness.open(clock.read);
      await store.createTopic('t', 1);
      const { epoch } = await store.acquireLease('t', 0, 'agent-a', 600_000);
      const old = { producerId: 7, producerEpoch: 1, lastSequence: 9, lastBaseOffset: 10, lastRecordCount: 2 };
      // As the first version stored it: JSON of the last batch, no update time.
      await admin.hset(`${harness.prefix}producer-states:t:0`, '7', JSON.stringify(old));
      expect(await store.getProducerState('t', 0, 7)).to.deep.equal(old);
      let hwm = 0;
      const commit = async (producerIdExpirationMs: number) => {
        hwm = await store.commitSegment({
          topic: 't',
          partition: 0,
          epoch,
          expectedHighWatermark: hwm,
          segment: segment('t', 0, hwm, hwm + 1),
          producerIdExpirationMs,
        });
      };
      await commit(1000); // gives it a time: now
      expect(await admin.zscore(`${harness.prefix}producer-state-times:t:0`, '7')).to.equal(String(clock.now));
      clock.advance(1000);
      await commit(1000);
      expect(await store.getProducerState('t', 0, 7)).to.deep.equal(old);
      clock.advance(1);
      await commit(1000);
      expect(await store.getProducerState('t', 0, 7)).to.equal(undefined);
      expect(await admin.exists(`${harness.prefix}producer-state-times:t:0`)).to.equal(0);
      // A stored state that is not what a store writes is a MetadataError, not a guess.
      await admin.hset(
        `${harness.prefix}producer-states:t:0`,
        '8',
        JSON.stringify({ ...old, earlierBatches: [[1, 2]] }),
      );
      const error = await rejection(store.getProducerState('t', 0, 8), MetadataError, 'METADATA_ERROR');
      expect(error.message).to.equal(
        'stored producer batches [[1,2]] are not [lastSequence, baseOffset, recordCount] triples',
      );
    } finally {
      await harness.cleanup();
    }
  });

  it('turns an unreachable Redis into a retriable MetadataError with the cause', async () => {
    const store = new RedisMetadataStore({
      url: 'redis://127.0.0.1:1',
      keyPrefix: uniquePrefix(),
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    try {
      const error = await rejection(store.createTopic('t', 1), MetadataError, 'METADATA_ERROR');
      expect(error.retriable).to.equal(true);
      expect(error.cause).to.be.instanceOf(Error);
      expect(error.message).to.match(/^Redis metadata operation failed: /);
    } finally {
      await store.close();
    }
  });

  it('uses a client passed in and leaves it open on close', async () => {
    const client = new Redis(defaultRedisUrl());
    const prefix = uniquePrefix();
    try {
      const store = new RedisMetadataStore({ client, keyPrefix: prefix });
      await store.createTopic('t', 1);
      expect(await client.exists(`${prefix}topic:t`)).to.equal(1);
      await store.close();
      expect(await client.ping()).to.equal('PONG');
      expect(() => new RedisMetadataStore({ client, keyPrefix: '' })).to.throw(
        InvalidRequestError,
        'keyPrefix is empty',
      );
    } finally {
      await deleteKeysWithPrefix(client, prefix);
      await client.quit();
    }
    const prefixed = new Redis(defaultRedisUrl(), { keyPrefix: 'x:', lazyConnect: true });
    expect(() => new RedisMetadataStore(prefixed)).to.throw(InvalidRequestError, 'has its own keyPrefix');
    prefixed.disconnect();
  });

  it('gives a topic stored without an id (an older agent) one id, the same to every reader', async () => {
    const harness = await redisHarness();
    try {
      const store = (await harness.open(() => 1000)) as RedisMetadataStore;
      const other = await harness.open(() => 1000);
      const first = (await store.createTopic('legacy', 1)).id;
      const current = (await store.createTopic('current', 1)).id;
      // What an agent before topic ids leaves: no id field, no index entry.
      await admin.hdel(`${harness.prefix}topic:legacy`, 'id');
      await admin.hdel(`${harness.prefix}topic-ids`, first);
      const [viaGet, viaList] = await Promise.all([store.getTopic('legacy'), other.listTopics()]);
      expect(isTopicId(viaGet!.id)).to.equal(true);
      expect([first, current]).to.not.include(viaGet!.id);
      expect(await other.getTopicById(first)).to.equal(undefined);
      expect(viaList.map((t) => [t.name, t.id])).to.deep.equal([
        ['current', current],
        ['legacy', viaGet!.id],
      ]);
      expect((await other.getTopicById(viaGet!.id))?.name).to.equal('legacy');
      expect(await admin.hget(`${harness.prefix}topic:legacy`, 'id')).to.equal(viaGet!.id);
      expect(await admin.hlen(`${harness.prefix}topic-ids`)).to.equal(2);
    } finally {
      await harness.cleanup();
    }
  });

  it('ships scripts that document KEYS, ARGV and result and declare their key count', () => {
    const dir = locateLuaDirectory();
    const files = readdirSync(dir).filter((f) => f.endsWith('.lua'));
    expect(files.length).to.equal(19);
    for (const file of files) {
      const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
      const text = readFileSync(join(dir, file), 'utf8');
      const header = text.slice(0, text.search(/^[^-]/m));
      expect(header, file).to.match(/^-- /);
      expect(header, file).to.include('Result:');
      const documented = new Set([...header.matchAll(/^-- KEYS\[(\d+)\]/gm)].map((m) => Number(m[1])));
      const used = new Set([...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
      expect([...documented].sort(), file).to.deep.equal(Array.from({ length: numberOfKeys }, (_, i) => i + 1));
      expect(Math.max(0, ...used), file).to.equal(numberOfKeys);
    }
  });
});
