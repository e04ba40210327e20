/** Topic ids between the wire's 16 bytes and the store's text, and the listener's id → name lookup. */
import { expect } from 'chai';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { TopicIdResolver, isZeroTopicId, topicIdBytes, topicIdText } from '../../src/kafka/topicIds.js';
import { ZERO_UUID } from '../../src/kafka/wire/fieldHelpers.js';

describe('kafka/topicIds', () => {
  it('turns stored ids into 16 bytes and back; empty is the zero id; anything else is refused', () => {
    const id = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
    const bytes = topicIdBytes(id);
    expect(bytes.toString('hex')).to.equal('0f1e2d3c4b5a49688776a5b4c3d2e1f0');
    expect(topicIdText(bytes)).to.equal(id);
    expect(topicIdText(new Uint8Array(bytes))).to.equal(id);
    expect(topicIdBytes('').equals(ZERO_UUID)).to.equal(true);
    expect([isZeroTopicId(ZERO_UUID), isZeroTopicId(bytes)]).to.deep.equal([true, false]);
    for (const bad of ['0f1e', 'zz', `${id}00`]) expect(() => topicIdBytes(bad), bad).to.throw(RangeError);
  });

  describe('TopicIdResolver', () => {
    let store: SqliteMetadataStore;
    let reads: number;
    let now: number;
    let resolver: TopicIdResolver;
    const counting = () => ({
      getTopicById: (id: string) => {
        reads++;
        return store.getTopicById(id);
      },
    });

    beforeEach(() => {
      store = new SqliteMetadataStore({ path: ':memory:' });
      reads = 0;
      now = 1000;
      resolver = new TopicIdResolver(counting(), { ttlMs: 500, maxEntries: 2, clock: () => now });
    });
    afterEach(() => store.close());

    it('reads the store once per id within the time to live, again after it', async () => {
      const a = topicIdBytes((await store.createTopic('a', 1)).id);
      expect(await resolver.name(a)).to.equal('a');
      now += 499;
      expect(await resolver.name(a)).to.equal('a');
      expect(reads).to.equal(1);
      now += 1;
      await store.deleteTopic('a');
      expect(await resolver.name(a)).to.equal(undefined);
      expect(reads).to.equal(2);
    });

    it('remembers an unknown id for the time to live too; never asks about a zero or short id', async () => {
      const unknown = topicIdBytes('11111111-2222-4333-8444-555555555555');
      expect(await resolver.name(unknown)).to.equal(undefined);
      expect(await resolver.name(unknown)).to.equal(undefined);
      expect(await resolver.name(ZERO_UUID)).to.equal(undefined);
      expect(await resolver.name(new Uint8Array(15))).to.equal(undefined);
      expect(reads).to.equal(1);
      now += 500;
      expect(await resolver.name(unknown)).to.equal(undefined);
      expect(reads).to.equal(2);
      const created = await store.createTopic('late', 1);
      expect(await resolver.name(topicIdBytes(created.id))).to.equal('late');
      expect(reads).to.equal(3);
    });

    it('looks each distinct id up once per call and keeps at most maxEntries', async () => {
      const [a, b, c] = await Promise.all(
        ['a', 'b', 'c'].map(async (n) => topicIdBytes((await store.createTopic(n, 1)).id)),
      );
      expect(await resolver.names([a!, b!, a!, b!])).to.deep.equal(['a', 'b', 'a', 'b']);
      expect(reads).to.equal(2);
      // A third id starts the cache over: a and b are read again.
      expect(await resolver.name(c!)).to.equal('c');
      expect(await resolver.names([a!, b!])).to.deep.equal(['a', 'b']);
      expect(reads).to.equal(5);
    });
  });
});
