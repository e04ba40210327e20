import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RedisOffsetStore } from '../../../src/client/offsets/index.js';
import { CorruptMessageError, MetadataError } from '../../../src/protocol/errors.js';
import { describeOffsetStoreContract } from './offsetStoreContract.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('client/offsets/RedisOffsetStore', () => {
  const prefix = `sh-test:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  let redis: Redis;
  let run = 0;

  before(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    expect(await redis.keys(`${prefix}*`)).to.deep.equal([]);
    await redis.quit();
  });

  // A fresh prefix per test keeps the contract's "fresh, empty store" promise.
  describeOffsetStoreContract(
    'RedisOffsetStore',
    async (now) => new RedisOffsetStore({ redis, keyPrefix: `${prefix}${++run}:`, now }),
  );

  it('keeps one hash per group, one JSON value per partition', async () => {
    const store = new RedisOffsetStore({ redis, keyPrefix: `${prefix}layout:`, now: () => 1234 });
    await store.save('payments', [
      { topic: 'orders', partition: 3, offset: 42, metadata: 'm' },
      { topic: 'orders', partition: 4, offset: 7, metadata: '' },
    ]);
    expect(store.keyOf('payments')).to.equal(`${prefix}layout:offsets:payments`);
    expect(await redis.hgetall(`${prefix}layout:offsets:payments`)).to.deep.equal({
      'orders/3': '{"offset":42,"metadata":"m","commitTime":1234}',
      'orders/4': '{"offset":7,"metadata":"","commitTime":1234}',
    });
  });

  it('uses streamhouse: as the default key prefix', () => {
    expect(new RedisOffsetStore({ redis }).keyOf('g')).to.equal('streamhouse:offsets:g');
  });

  it('reports values it did not write as CorruptMessageError naming the key', async () => {
    const store = new RedisOffsetStore({ redis, keyPrefix: `${prefix}corrupt:` });
    const key = store.keyOf('g');
    await redis.hset(key, 't/0', 'not json');
    await expectRejection(store.load('g'), CorruptMessageError, `offset ${key} t/0: value is not JSON`);
    await redis.hset(key, 't/0', '{"offset":-3,"metadata":"","commitTime":1}');
    await expectRejection(store.load('g', [{ topic: 't', partition: 0 }]), CorruptMessageError, 'bad offset -3');
    await redis.del(key);
    await redis.hset(key, 'no-partition', '{"offset":1,"metadata":"","commitTime":1}');
    await expectRejection(store.load('g'), CorruptMessageError, 'field is not <topic>/<partition>');
  });

  it('turns connection failures into retriable MetadataError', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const store = new RedisOffsetStore({ redis: down, keyPrefix: prefix });
      const error = await expectRejection(store.load('g'), MetadataError, 'redis offset store:');
      expect(error.retriable).to.equal(true);
      expect(error.cause).to.be.instanceOf(Error);
    } finally {
      down.disconnect();
    }
  });
});

async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  fragment: string,
): Promise<E> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).to.be.instanceOf(type);
  expect((thrown as Error).message).to.contain(fragment);
  return thrown as E;
}
