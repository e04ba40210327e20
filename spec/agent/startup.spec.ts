/**
 * An agent starts whole or not at all: it checks its stores before it
 * listens, waits for a store that may come (logging each attempt) up to
 * startupTimeoutMs, fails at once on one that cannot, and leaves nothing
 * listening when it fails. Two agents cannot share a write-ahead log
 * directory; a lock left by a killed one is taken over.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import type { AgentOptions } from '../../src/agent/agentOptions.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import {
  InvalidConfigError,
  MetadataError,
  StorageError,
  StorageFailureError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';
import { deleteRedisPrefix, rejection } from '../support/agentHarness.js';
import {
  captureLogger,
  freePort,
  isListening,
  startPrivateRedis,
  within,
  type PrivateRedis,
} from '../support/faults.js';

const SLACK_MS = 5000;
const STARTUP_MS = 800;

describe('agent: start-up', function () {
  this.timeout(60_000);
  let dir: string;
  let sqlite: SqliteMetadataStore;
  let objects: LocalDirectoryObjectStore;
  const started: Agent[] = [];
  const closables: { close(): Promise<void> }[] = [];

  const start = async (options: Partial<AgentOptions>) => {
    const agent = await startAgent({
      objectStore: objects,
      metadataStore: sqlite,
      port: 0,
      maintenanceIntervalMs: 0,
      startupTimeoutMs: STARTUP_MS,
      ...options,
    });
    started.push(agent);
    return agent;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-startup-'));
    sqlite = new SqliteMetadataStore({ path: join(dir, 'metadata.db'), synchronous: 'normal' });
    objects = new LocalDirectoryObjectStore({ root: join(dir, 'objects') });
  });
  afterEach(async () => {
    await Promise.allSettled(started.splice(0).map((a) => a.stop()));
    await Promise.allSettled(closables.splice(0).map((c) => c.close()));
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('store checks', () => {
    let redis: PrivateRedis | undefined;
    afterEach(async () => {
      await redis?.stop();
      redis = undefined;
    });

    it('rejects with METADATA_ERROR naming a down Redis after startupTimeoutMs, logging tries, unbound', async () => {
      const redisPort = await freePort();
      const metadataStore = new RedisMetadataStore({ url: `redis://127.0.0.1:${redisPort}`, keyPrefix: 'sh-startup:' });
      closables.push(metadataStore);
      const { logger, lines } = captureLogger();
      const port = await freePort();
      const error = await within(
        STARTUP_MS + SLACK_MS,
        rejection(start({ metadataStore, port, logger })),
        'startAgent',
      );
      expect(error).to.be.instanceOf(MetadataError);
      expect((error as Error).message).to.match(
        new RegExp(
          `^agent cannot start: metadata store is not usable within ${STARTUP_MS} ms \\(startupTimeoutMs\\): Redis ` +
            `at 127\\.0\\.0\\.1:${redisPort} did not answer PING: .*ECONNREFUSED`,
        ),
      );
      expect(await isListening(port)).to.equal(false);
      const waits = lines.filter((l) => l.msg.startsWith('waiting for the metadata store: '));
      expect(waits.length).to.be.greaterThan(0);
      expect(waits.map((l) => l['attempt'])).to.deep.equal(waits.map((_, i) => i + 1));
      expect(lines.filter((l) => l.msg === 'agent failed to start').length).to.equal(1);
    });

    it('waits for a Redis that comes up within startupTimeoutMs, then starts', async () => {
      const redisPort = await freePort();
      const prefix = `sh-startup-${process.pid}:`;
      const metadataStore = new RedisMetadataStore({ url: `redis://127.0.0.1:${redisPort}`, keyPrefix: prefix });
      closables.push(metadataStore);
      const { logger, lines } = captureLogger();
      const starting = start({ metadataStore, logger, startupTimeoutMs: 30_000 });
      while (!lines.some((l) => l.msg.startsWith('waiting for the metadata store: ')))
        await new Promise((r) => setTimeout(r, 10));
      redis = await startPrivateRedis(redisPort);
      const agent = await within(SLACK_MS + 2000, starting, 'startAgent');
      expect((await metadataStore.listLiveAgents(60_000)).map((x) => x.agentId)).to.deep.equal([agent.agentId]);
      await agent.stop();
      await deleteRedisPrefix(prefix).catch(() => undefined);
    });

    it('fails at once with STORAGE_FAILURE when the object store root is a file, with nothing listening', async () => {
      await writeFile(join(dir, 'not-a-dir'), 'x');
      const port = await freePort();
      const objectStore = new LocalDirectoryObjectStore({ root: join(dir, 'not-a-dir') });
      // A failure no retry fixes does not wait for the start-up timeout.
      const error = await within(
        SLACK_MS,
        rejection(start({ objectStore, port, startupTimeoutMs: 600_000 })),
        'startAgent',
      );
      expect(error).to.be.instanceOf(StorageFailureError);
      expect((error as Error).message).to.match(
        new RegExp(
          `^agent cannot start: object store ${objectStore.url} is not usable: ping ${join(dir, 'not-a-dir')} ` +
            `failed: EEXIST`,
        ),
      );
      expect(await isListening(port)).to.equal(false);
    });

    it('rejects with STORAGE_ERROR naming the S3 endpoint when it is unreachable', async () => {
      const s3Port = await freePort();
      const objectStore = new S3ObjectStore({
        bucket: 'b',
        endpoint: `http://127.0.0.1:${s3Port}`,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      closables.push(objectStore);
      const port = await freePort();
      const error = await within(STARTUP_MS + SLACK_MS, rejection(start({ objectStore, port })), 'startAgent');
      expect(error).to.be.instanceOf(StorageError);
      expect((error as StreamHouseError).code).to.equal('STORAGE_ERROR');
      expect((error as Error).message).to.match(
        new RegExp(
          `^agent cannot start: object store s3://b/ is not usable within ${STARTUP_MS} ms \\(startupTimeoutMs\\): ` +
            `ping of s3://b/ failed: .*ECONNREFUSED`,
        ),
      );
      expect(await isListening(port)).to.equal(false);
    });
  });

  describe('write-ahead log directory lock', () => {
    const walOptions = (walDir: string, port = 0): Partial<AgentOptions> => ({ agentId: 'agent-l', walDir, port });

    it('refuses a second agent of one id on a directory, not listening; starts once the first stopped', async () => {
      const walDir = join(dir, 'wal');
      const first = await start(walOptions(walDir));
      const lock = JSON.parse(await readFile(join(walDir, 'agent-l.lock'), 'utf8')) as Record<string, unknown>;
      expect([lock['pid'], lock['hostname'], lock['agentId']]).to.deep.equal([process.pid, hostname(), 'agent-l']);
      const port = await freePort();
      const error = await rejection(start(walOptions(walDir, port)));
      expect(error).to.be.instanceOf(InvalidConfigError);
      expect((error as Error).message).to.equal(
        `directory ${join(walDir, 'agent-l')} is in use by agent agent-l (pid ${process.pid} on ${hostname()}): ` +
          `stop that agent or give this one another directory; if that agent is gone, delete ` +
          `${join(walDir, 'agent-l.lock')}`,
      );
      expect(await isListening(port)).to.equal(false);
      // Another id on the same root is another directory.
      await start({ ...walOptions(walDir), agentId: 'agent-m' });
      await first.stop();
      await start(walOptions(walDir));
    });

    it('takes over a lock left by a killed agent (its pid is gone), and one this process left by a crash', async () => {
      const walDir = join(dir, 'wal');
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      await start({ ...walOptions(walDir), agentId: 'agent-k' }).then((a) => a.kill());
      await writeFile(
        join(walDir, 'agent-l.lock'),
        JSON.stringify({ pid: dead, hostname: hostname(), agentId: 'agent-l', acquiredAt: 1, token: 'old' }),
      );
      const agent = await start(walOptions(walDir));
      const lock = JSON.parse(await readFile(join(walDir, 'agent-l.lock'), 'utf8')) as Record<string, unknown>;
      expect(lock['pid']).to.equal(process.pid);
      await start({ ...walOptions(walDir), agentId: 'agent-k' });
      await agent.stop();
    });

    it('refuses a lock held on another host, which it cannot check', async () => {
      const walDir = join(dir, 'wal');
      await start({ ...walOptions(walDir), agentId: 'agent-x' }).then((a) => a.stop());
      await writeFile(
        join(walDir, 'agent-l.lock'),
        JSON.stringify({ pid: 1, hostname: 'elsewhere', agentId: 'agent-l', acquiredAt: 1, token: 't' }),
      );
      const error = await rejection(start(walOptions(walDir)));
      expect(error).to.be.instanceOf(InvalidConfigError);
      expect((error as Error).message).to.contain('is in use by agent agent-l (pid 1 on elsewhere)');
    });
  });
});
