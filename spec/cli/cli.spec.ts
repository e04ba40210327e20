/**
 * The `streamhouse` command as a user runs it: real processes, a temp data
 * directory, an agent on a free port. Outputs are compared exactly.
 */
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../../src/client/agentClient.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { deleteRedisPrefix, produce, records, REDIS_URL } from '../support/agentHarness.js';
import { uniquePrefix } from '../metadata/support/storeHarnesses.js';
import { runCli, ServeProcess, type Finished } from './cliSupport.js';

/** Fails with the process's output unless it exited with `code`. */
function expectExit(result: Finished, code: number): Finished {
  expect(result.code, `exit code; stdout: ${result.stdout}\nstderr: ${result.stderr}`).to.equal(code);
  return result;
}

/** The banner `serve` prints for an agent over a data directory's embedded stores. */
function banner(agentId: string, address: string, objects: string, metadata: string): string {
  return [
    `StreamHouse agent ${agentId} listening on ${address}`,
    `  objects:  ${objects}`,
    `  metadata: ${metadata}`,
    '',
    'Try it from another terminal:',
    `  npm run cli -- topics create demo --partitions 3 --agent ${address}`,
    `  printf 'hello\\nworld\\n' | npm run cli -- produce demo --agent ${address}`,
    `  npm run cli -- consume demo --from-beginning --agent ${address}`,
    '',
    'Ctrl-C stops the agent gracefully.',
    '',
  ].join('\n');
}

const DEFAULT_CONFIG = '(retention.ms -1, retention.bytes -1, segment.bytes 67108864, max.message.bytes 1048576)';

describe('cli: streamhouse serve', function () {
  this.timeout(90_000);
  let dataDir: string;
  const running: ServeProcess[] = [];
  const serve = async (args: string[] = [], env: Record<string, string> = {}) => {
    const process = await ServeProcess.start(
      ['--port', '0', '--no-kafka', '--no-http', '--data-dir', dataDir, '--log-level', 'warn', ...args],
      env,
    );
    running.push(process);
    return process;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sh-cli-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints what it serves, keeps its id in <data-dir>/agent-id on restarts, stops gracefully on Ctrl-C', async () => {
    const first = await serve();
    const id = await readFile(join(dataDir, 'agent-id'), 'utf8');
    expect(id).to.equal(`${first.agentId}\n`);
    expect(first.agentId).to.match(
      new RegExp(
        `^${hostname()
          .replace(/[^A-Za-z0-9._-]/g, '-')
          .replace(/\./g, '\\.')}-[0-9a-f]{8}$`,
      ),
    );
    expect(first.address).to.match(/^127\.0\.0\.1:\d+$/);
    expect(first.stdout).to.equal(
      banner(
        first.agentId,
        first.address,
        `file://${join(dataDir, 'objects')}`,
        `sqlite:${join(dataDir, 'metadata.db')}`,
      ),
    );
    expect(await readdir(dataDir)).to.include.members(['agent-id', 'metadata.db', 'wal']);

    const stopped = await first.stop('SIGINT');
    expectExit(stopped, 0);
    expect(stopped.signal).to.equal(null);
    const objects = `file://${join(dataDir, 'objects')}`;
    const metadata = `sqlite:${join(dataDir, 'metadata.db')}`;
    expect(stopped.stdout).to.equal(
      `${banner(first.agentId, first.address, objects, metadata)}StreamHouse agent stopped.\n`,
    );

    const second = await serve();
    expect(second.agentId).to.equal(first.agentId);
    expect(await readFile(join(dataDir, 'agent-id'), 'utf8')).to.equal(id);
    expectExit(await second.stop('SIGTERM'), 0);

    // An explicit id wins and leaves the kept one alone.
    const named = await serve(['--agent-id', 'agent-named']);
    expect(named.agentId).to.equal('agent-named');
    expect(await readFile(join(dataDir, 'agent-id'), 'utf8')).to.equal(id);
  });

  it('flushes on Ctrl-C what it acked as buffered: a restart without the write-ahead log reads it back', async () => {
    // Batches would wait a minute for their object: only the graceful stop flushes them.
    const first = await serve(['--flush-interval-ms', '60000']);
    expectExit(await runCli(['topics', 'create', 'kept', '--agent', first.address]), 0);
    const produced = expectExit(
      await runCli(['produce', 'kept', '--acks', 'buffered', '--agent', first.address], { input: 'one\ntwo\nthree\n' }),
      0,
    );
    expect(produced.stderr).to.equal('kept/0: 3 records at offset 0\nsent 3 records to kept\n');
    expectExit(await first.stop('SIGINT'), 0);

    const noLog = await serve(['--no-wal']);
    const read = expectExit(
      await runCli(['consume', 'kept', '--from-beginning', '--print-offsets', '-n', '3', '--agent', noLog.address]),
      0,
    );
    expect(read.stdout).to.equal('0@0\tone\n0@1\ttwo\n0@2\tthree\n');
    // Durable records survive a restart too, and a restart with the log replays nothing twice.
    expectExit(await runCli(['produce', 'kept', '--agent', noLog.address], { input: 'four\n' }), 0);
    expectExit(await noLog.stop('SIGINT'), 0);
    const again = await serve();
    const all = expectExit(
      await runCli([
        'consume',
        'kept',
        '--from-beginning',
        '--print-offsets',
        '--idle-exit-ms',
        '1000',
        '--agent',
        again.address,
      ]),
      0,
    );
    expect(all.stdout).to.equal('0@0\tone\n0@1\ttwo\n0@2\tthree\n0@3\tfour\n');
  });

  it('refuses a bad flag with a message and exit code 1, serving nothing', async () => {
    const badBoolean = expectExit(
      await runCli(['serve', '--port', '0', '--data-dir', dataDir], { env: { STREAMHOUSE_S3_PATH_STYLE: 'yes' } }),
      1,
    );
    expect(badBoolean.stderr).to.equal("--s3-path-style must be true, false, 1 or 0, got 'yes'\n");
    const badPort = expectExit(
      await runCli(['serve', '--port', '70000', '--data-dir', dataDir, '--log-level', 'silent']),
      1,
    );
    expect(badPort.stderr).to.equal(
      "error: option '--port <port>' argument '70000' is invalid. --port must be a decimal integer from 0 to 65535, " +
        "got '70000'.\n",
    );
    const notANumber = expectExit(await runCli(['serve', '--lease-ttl-ms', 'soon', '--data-dir', dataDir]), 1);
    expect(notANumber.stderr).to.equal(
      "error: option '--lease-ttl-ms <ms>' argument 'soon' is invalid. --lease-ttl-ms must be a decimal integer " +
        "from 1 to 9007199254740991, got 'soon'.\n",
    );
  });

  it('passes --metadata, --redis-prefix and --lease-ttl-ms to the agent', async () => {
    const prefix = uniquePrefix();
    const store = new RedisMetadataStore({ url: REDIS_URL, keyPrefix: prefix });
    let agent: ServeProcess | undefined;
    try {
      agent = await serve(['--metadata', REDIS_URL, '--redis-prefix', prefix, '--lease-ttl-ms', '3000']);
      expect(agent.stdout.split('\n')[2]).to.equal(`  metadata: redis:${REDIS_URL} prefix ${prefix}`);
      expectExit(await runCli(['topics', 'create', 'leased', '--agent', agent.address]), 0);
      expectExit(await runCli(['produce', 'leased', '--agent', agent.address], { input: 'x\n' }), 0);
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['leased']);
      const before = Date.now();
      const lease = await store.getPartition('leased', 0);
      expect([lease.leaseHolder, lease.leaseEpoch]).to.deep.equal([agent.agentId, 1]);
      // A 3 s lease (renewed every second), not the default 10 s one.
      expect(lease.leaseExpiresAt).to.be.within(before, Date.now() + 3000);
      expectExit(await agent.stop('SIGINT'), 0);
    } finally {
      // Stopped first, so that no heartbeat writes the prefix again after it is deleted.
      await agent?.kill();
      await store.close();
      await deleteRedisPrefix(prefix);
    }
  });

  it('passes --maintenance-interval-ms to the agent: small objects are merged in the background', async () => {
    const agent = await serve(['--maintenance-interval-ms', '200']);
    expectExit(await runCli(['topics', 'create', 'merged', '--agent', agent.address]), 0);
    const connection = connectAgent(agent.address);
    try {
      for (let i = 0; i < 4; i++) await produce(connection, 'merged', 0, records(2, `m${i}`));
    } finally {
      connection.close();
    }
    const objects = () => readdir(join(dataDir, 'objects', 'topics', 'merged', '0'));
    const deadline = Date.now() + 20_000;
    while ((await objects()).length !== 1) {
      if (Date.now() > deadline) throw new Error(`objects never merged: ${(await objects()).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const read = expectExit(
      await runCli(['consume', 'merged', '--from-beginning', '-n', '8', '--agent', agent.address]),
      0,
    );
    expect(read.stdout).to.equal('m0-0\nm0-1\nm1-0\nm1-1\nm2-0\nm2-1\nm3-0\nm3-1\n');
  });
});

describe('cli: topics, produce, consume, groups', function () {
  this.timeout(90_000);
  let dataDir: string;
  let agent: ServeProcess;
  const cli = (args: string[], options: { input?: string } = {}) =>
    runCli([...args, '--agent', agent.address], options);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sh-cli-'));
    agent = await ServeProcess.start([
      '--port',
      '0',
      '--no-kafka',
      '--no-http',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ]);
  });
  after(async () => {
    await agent.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('topics: create, list, describe and delete, with exact output', async () => {
    // No leader yet: no agent id, no address.
    const leader = (p: number) => `  partition ${p}: offsets [0, 0)  leader -   epoch 0`;
    const created = expectExit(await cli(['topics', 'create', 'demo', '--partitions', '3']), 0);
    expect(created.stdout).to.equal(
      [`topic demo: 3 partitions ${DEFAULT_CONFIG}`, leader(0), leader(1), leader(2), ''].join('\n'),
    );
    expectExit(
      await cli([
        'topics',
        'create',
        'tuned',
        '--retention-ms',
        '60000',
        '--retention-bytes',
        '1000000',
        '--max-message-bytes',
        '2048',
      ]),
      0,
    );
    expect(expectExit(await cli(['topics', 'list']), 0).stdout).to.equal('demo\ntuned\n');
    const described = expectExit(await cli(['topics', 'describe', 'tuned']), 0);
    expect(described.stdout).to.equal(
      'topic tuned: 1 partitions (retention.ms 60000, retention.bytes 1000000, segment.bytes 67108864, ' +
        'max.message.bytes 2048)\n' +
        `${leader(0)}\n`,
    );
    expect(expectExit(await cli(['topics', 'delete', 'tuned']), 0).stdout).to.equal('deleted topic tuned\n');
    expect(expectExit(await cli(['topics', 'list']), 0).stdout).to.equal('demo\n');

    expect(expectExit(await cli(['topics', 'create', 'demo']), 1).stderr).to.equal(
      "error TOPIC_ALREADY_EXISTS: topic 'demo' already exists\n",
    );
    expect(expectExit(await cli(['topics', 'describe', 'nope']), 1).stderr).to.equal(
      'error UNKNOWN_TOPIC_OR_PARTITION: no topic nope\n',
    );
    expect(expectExit(await cli(['topics', 'create', 'bad', '--partitions', 'many']), 1).stderr).to.equal(
      "error: option '-p, --partitions <n>' argument 'many' is invalid. --partitions must be a decimal integer from " +
        "1 to 10000, got 'many'.\n",
    );
  });

  it('produce: a record a line, round robin, by key hash (--key-separator), to a partition (--partition)', async () => {
    expectExit(await cli(['topics', 'create', 'lines', '--partitions', '3']), 0);
    const roundRobin = expectExit(await cli(['produce', 'lines'], { input: 'l0\nl1\nl2\nl3\n' }), 0);
    expect(roundRobin.stdout).to.equal('');
    expect(roundRobin.stderr).to.equal(
      'lines/0: 2 records at offset 0\nlines/1: 1 records at offset 0\nlines/2: 1 records at offset 0\nsent 4 ' +
        'records to lines\n',
    );
    // murmur2 over 3 partitions, as a Kafka client: a and c on partition 1, b on 2.
    const keyed = expectExit(
      await cli(['produce', 'lines', '--key-separator', ':'], { input: 'a:1\nb:2\nc:3\na:4\n' }),
      0,
    );
    expect(keyed.stderr).to.equal(
      'lines/1: 3 records at offset 1\nlines/2: 1 records at offset 1\nsent 4 records to lines\n',
    );
    const pinned = expectExit(
      await cli(['produce', 'lines', '--partition', '2', '--batch-size', '2'], { input: 'p0\np1\np2\n' }),
      0,
    );
    expect(pinned.stderr).to.equal(
      'lines/2: 2 records at offset 2\nlines/2: 1 records at offset 4\nsent 3 records to lines\n',
    );

    const read = expectExit(
      await cli(['consume', 'lines', '--from-beginning', '--print-offsets', '--print-keys', '-n', '11']),
      0,
    );
    expect(read.stdout).to.equal(
      [
        '0@0\t\tl0',
        '0@1\t\tl3',
        '1@0\t\tl1',
        '1@1\ta\t1',
        '1@2\tc\t3',
        '1@3\ta\t4',
        '2@0\t\tl2',
        '2@1\tb\t2',
        '2@2\t\tp0',
        '2@3\t\tp1',
        '2@4\t\tp2',
        '',
      ].join('\n'),
    );

    expect(expectExit(await cli(['produce', 'lines', '--partition', '5'], { input: 'x\n' }), 1).stderr).to.equal(
      'error UNKNOWN_TOPIC_OR_PARTITION: topic lines has 3 partitions; there is no partition 5\n',
    );
    expect(expectExit(await cli(['produce', 'nope'], { input: 'x\n' }), 1).stderr).to.match(
      /^error UNKNOWN_TOPIC_OR_PARTITION: /,
    );
    expect(expectExit(await cli(['produce', 'lines', '--acks', 'maybe'], { input: 'x\n' }), 1).stderr).to.equal(
      "error: option '--acks <mode>' argument 'maybe' is invalid. Allowed choices are durable, buffered, none.\n",
    );
  });

  it('consume: from the beginning, from an offset of one partition, up to -n records or until idle', async () => {
    expectExit(await cli(['topics', 'create', 'feed', '--partitions', '2']), 0);
    expectExit(await cli(['produce', 'feed', '--partition', '1'], { input: 'f0\nf1\nf2\nf3\n' }), 0);
    expect(expectExit(await cli(['consume', 'feed', '--from-beginning', '-n', '2']), 0).stdout).to.equal('f0\nf1\n');
    expect(
      expectExit(
        await cli(['consume', 'feed', '--partition', '1', '--offset', '2', '--print-offsets', '--idle-exit-ms', '500']),
        0,
      ).stdout,
    ).to.equal('1@2\tf2\n1@3\tf3\n');
    // From the latest offset, nothing old is printed.
    expect(expectExit(await cli(['consume', 'feed', '--idle-exit-ms', '500']), 0).stdout).to.equal('');
    expect(expectExit(await cli(['consume', 'nope', '--idle-exit-ms', '500']), 1).stderr).to.match(
      /^error UNKNOWN_TOPIC_OR_PARTITION: /,
    );
  });

  it('groups offsets: committed offsets, high watermarks and lag per partition', async () => {
    expectExit(await cli(['topics', 'create', 'billing', '--partitions', '2']), 0);
    expectExit(await cli(['produce', 'billing'], { input: 'b0\nb1\nb2\nb3\nb4\n' }), 0);
    const connection = connectAgent(agent.address);
    try {
      const { results } = await connection.client.commitOffsets({
        groupId: 'payments',
        generationId: -1,
        memberId: '',
        partitions: [
          { topic: 'billing', partition: 0, offset: 1, metadata: '' },
          { topic: 'billing', partition: 1, offset: 2, metadata: 'done' },
        ],
      });
      expect(results.map((r) => r.error)).to.deep.equal([undefined, undefined]);
    } finally {
      connection.close();
    }
    expect(expectExit(await cli(['groups', 'offsets', 'payments']), 0).stdout).to.equal(
      'billing/0\tcommitted 1\thigh watermark 3\tlag 2\nbilling/1\tcommitted 2\thigh watermark 2\tlag ' +
        '0\tdone\ntotal lag 2\n',
    );
    expect(expectExit(await cli(['groups', 'offsets', 'nobody']), 0).stdout).to.equal(
      'group nobody has no committed offsets\n',
    );
  });
});
