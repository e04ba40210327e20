/**
 * A frozen Redis (SIGSTOP: connections stay open, nothing answers) must not
 * freeze the store: every call fails with a retriable MetadataError within
 * the command timeout, and works again once Redis answers.
 */
import { expect } from 'chai';
import { MetadataError, type StreamHouseError, InvalidRequestError } from '../../src/protocol/errors.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { createMetadataStore } from '../../src/metadata/createMetadataStore.js';
import { RedisOffsetStore } from '../../src/client/offsets/redisOffsetStore.js';
import { Redis } from 'ioredis';
import { produce, records, rejection } from '../support/agentHarness.js';
import { startAgent } from '../../src/agent/agent.js';
import { connectAgent } from '../../src/client/agentClient.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis, within, type PrivateRedis } from '../support/faults.js';

const TIMEOUT_MS = 300;
/** How long a timed-out call may take at most here (the timeout, and slack for a loaded machine). */
const BOUND_MS = TIMEOUT_MS + 3000;

describe('metadata/Redis command timeout', function () {
  this.timeout(30_000);
  let redis: PrivateRedis;
  let store: RedisMetadataStore;

  beforeEach(async () => {
    redis = await startPrivateRedis();
    store = new RedisMetadataStore({ url: redis.url, keyPrefix: 'sh-timeout:', commandTimeoutMs: TIMEOUT_MS });
    await store.createTopic('t', 2);
  });
  afterEach(async () => {
    redis.thaw();
    await store.close();
    await redis.stop();
  });

  it('fails reads, scripts and PING on a frozen Redis with retriable MetadataError, then works again', async () => {
    redis.freeze();
    const read = await within(BOUND_MS, rejection(store.getTopic('t')), 'getTopic on a frozen Redis');
    expect(read).to.be.instanceOf(MetadataError);
    expect((read as StreamHouseError).retriable).to.equal(true);
    expect((read as Error).message).to.equal('Redis metadata operation failed: Command timed out');
    const script = await within(
      BOUND_MS,
      rejection(store.acquireLease('t', 0, 'agent-a', 10_000)),
      'acquireLease on a frozen Redis',
    );
    expect(script).to.be.instanceOf(MetadataError);
    const ping = await within(BOUND_MS, rejection(store.ping()), 'ping on a frozen Redis');
    expect(ping).to.be.instanceOf(MetadataError);
    expect((ping as Error).message).to.equal(`Redis at 127.0.0.1:${redis.port} did not answer PING: Command timed out`);

    redis.thaw();
    expect((await store.getTopic('t'))?.partitions).to.equal(2);
    expect((await store.acquireLease('t', 1, 'agent-a', 10_000)).agentId).to.equal('agent-a');
    await store.ping();
  });

  it('takes the timeout from createMetadataStore and refuses a bad one', async () => {
    const opened = await createMetadataStore(redis.url, { keyPrefix: 'sh-timeout:', redisCommandTimeoutMs: 250 });
    try {
      expect((opened.store as RedisMetadataStore).client.options.commandTimeout).to.equal(250);
      redis.freeze();
      expect(
        await within(BOUND_MS, rejection(opened.store.listTopics()), 'listTopics on a frozen Redis'),
      ).to.be.instanceOf(MetadataError);
      redis.thaw();
      expect((await opened.store.listTopics()).map((t) => t.name)).to.deep.equal(['t']);
    } finally {
      await opened.store.close();
    }
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new RedisMetadataStore({ url: redis.url, commandTimeoutMs: bad })).to.throw(
        InvalidRequestError,
        /commandTimeoutMs/,
      );
    }
    const byDefault = new RedisMetadataStore({ url: redis.url, keyPrefix: 'x:', redisOptions: { lazyConnect: true } });
    expect(byDefault.client.options.commandTimeout).to.equal(5000);
    await byDefault.close();
  });

  it('fails a RedisOffsetStore call on a frozen Redis when its client has a commandTimeout', async () => {
    const client = new Redis(redis.url, { commandTimeout: TIMEOUT_MS, maxRetriesPerRequest: 2 });
    try {
      const offsets = new RedisOffsetStore({ redis: client, keyPrefix: 'sh-timeout:' });
      await offsets.save('g', [{ topic: 't', partition: 0, offset: 5, metadata: '' }]);
      redis.freeze();
      const error = await within(BOUND_MS, rejection(offsets.load('g')), 'load on a frozen Redis');
      expect(error).to.be.instanceOf(MetadataError);
      expect((error as Error).message).to.equal('redis offset store: Command timed out');
      redis.thaw();
      expect((await offsets.load('g')).map((o) => o.offset)).to.deep.equal([5]);
    } finally {
      client.disconnect();
    }
  });

  it('keeps an agent on a frozen Redis answering: METADATA_ERROR within the timeout, and a bounded stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sh-frozen-'));
    const agent = await startAgent({
      objectStore: new LocalDirectoryObjectStore({ root: join(dir, 'objects') }),
      metadataStore: store,
      port: 0,
      maintenanceIntervalMs: 0,
      shutdownTimeoutMs: 1000,
    });
    const connection = connectAgent(agent.address);
    try {
      await produce(connection, 't', 0, records(1));
      redis.freeze();
      const error = await within(BOUND_MS, rejection(connection.client.listTopics({})), 'listTopics on a frozen Redis');
      expect(error).to.be.instanceOf(MetadataError);
      expect((error as Error).message).to.equal('Redis metadata operation failed: Command timed out');
      expect(
        await within(BOUND_MS, rejection(produce(connection, 't', 1, records(1))), 'produce on a frozen Redis'),
      ).to.be.instanceOf(MetadataError);
      await within(1000 + BOUND_MS, agent.stop(), 'stop with a frozen Redis');
    } finally {
      connection.close();
      redis.thaw();
      await agent.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the server and the connection failure when Redis is not there', async () => {
    await redis.stop();
    const ping = await within(BOUND_MS, rejection(store.ping()), 'ping of a stopped Redis');
    expect(ping).to.be.instanceOf(MetadataError);
    expect((ping as Error).message).to.match(
      new RegExp(`^Redis at 127\\.0\\.0\\.1:${redis.port} did not answer PING: .*ECONNREFUSED`),
    );
  });
});
