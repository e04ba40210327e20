/**
 * `streamhouse acls add|list|remove` spawned against a SQLite file and a
 * Redis prefix, an agent enforcing what it wrote, refusals of bad input,
 * and the `serve` authorisation flags.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { aclsCommand } from '../../src/cli/acls.js';
import { authorizerOptions } from '../../src/cli/authorizerFlags.js';
import { serveCommand, type ServeFlags } from '../../src/cli/serve.js';
import { createMetadataStore } from '../../src/metadata/createMetadataStore.js';
import { deleteRedisPrefix, REDIS_URL } from '../support/agentHarness.js';
import { runCli } from '../support/cli.js';
import { createTestStores, produce, records, rejection, startTestAgent } from '../support/agentHarness.js';
import { TopicAuthorizationFailedError } from '../../src/protocol/errors.js';

type Backend = { name: string; args: () => string[]; setUp(): Promise<void>; tearDown(): Promise<void> };

const sqlite = (): Backend => {
  let dir = '';
  return {
    name: 'SQLite',
    args: () => ['--metadata', join(dir, 'metadata.db')],
    setUp: async () => {
      dir = await mkdtemp(join(tmpdir(), 'sh-acls-'));
    },
    tearDown: () => rm(dir, { recursive: true, force: true }),
  };
};
const redis = (): Backend => {
  let prefix = '';
  return {
    name: 'Redis',
    args: () => ['--metadata', REDIS_URL, '--redis-prefix', prefix],
    setUp: async () => {
      prefix = `sh-test:acls:${randomUUID().slice(0, 8)}:`;
    },
    tearDown: () => deleteRedisPrefix(prefix),
  };
};

/** Runs `streamhouse acls ...` in this process: its output, or the error it fails with. */
async function acls(args: string[]): Promise<{ stdout: string; error?: Error }> {
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    const command = aclsCommand();
    // Commander errors throw instead of exiting, in the subcommands too.
    for (const c of [command, ...command.commands]) c.exitOverride().configureOutput({ writeErr: () => undefined });
    await command.parseAsync(args, { from: 'user' });
    return { stdout };
  } catch (error) {
    return { stdout, error: error as Error };
  } finally {
    process.stdout.write = write;
  }
}

for (const backend of [sqlite(), redis()]) {
  describe(`cli: acls against ${backend.name}`, function () {
    this.timeout(60_000);
    beforeEach(() => backend.setUp());
    afterEach(() => backend.tearDown());
    const run = async (...args: string[]) => {
      const [command, ...rest] = args;
      const result = await acls([command!, ...rest, ...backend.args()]);
      if (result.error !== undefined) throw result.error;
      return result.stdout;
    };

    it('adds, lists (table and JSON, filtered) and removes entries', async () => {
      expect(
        await run('add', '--principal', 'alice', '--allow', '--operation', 'produce', '--topic', 'orders.'),
      ).to.equal('added: alice allow produce topic literal orders.\n');
      expect(
        await run('add', '--principal', 'alice', '--allow', '--operation', 'produce', '--topic', 'o', '--prefix'),
      ).to.equal('added: alice allow produce topic prefix o\n');
      expect(
        JSON.parse(await run('add', '--principal', '*', '--deny', '--operation', 'read', '--group', 'g', '--json')),
      ).to.deep.equal({
        added: true,
        acl: {
          principal: '*',
          permission: 'deny',
          operation: 'read',
          resourceType: 'group',
          patternType: 'literal',
          resourceName: 'g',
        },
      });
      await run('add', '--principal', 'ops', '--allow', '--operation', 'admin', '--cluster');
      expect(await run('add', '--principal', 'ops', '--allow', '--operation', 'admin', '--cluster')).to.equal(
        'already present: ops allow admin cluster literal cluster\n',
      );
      expect(await run('list')).to.equal(
        [
          'PRINCIPAL  PERMISSION  OPERATION  RESOURCE  PATTERN  NAME',
          'ops        allow       admin      cluster   literal  cluster',
          '*          deny        read       group     literal  g',
          'alice      allow       produce    topic     prefix   o',
          'alice      allow       produce    topic     literal  orders.',
          '',
        ].join('\n'),
      );
      expect(JSON.parse(await run('list', '--principal', 'alice', '--topic', 'o', '--json'))).to.deep.equal([
        {
          principal: 'alice',
          permission: 'allow',
          operation: 'produce',
          resourceType: 'topic',
          patternType: 'prefix',
          resourceName: 'o',
        },
      ]);
      expect(
        await run('remove', '--principal', 'alice', '--allow', '--operation', 'produce', '--topic', 'o', '--prefix'),
      ).to.equal('removed: alice allow produce topic prefix o\n');
      expect(
        JSON.parse(
          await run('remove', '--principal', 'alice', '--allow', '--operation', 'produce', '--topic', 'o', '--json'),
        ),
      ).to.deep.equal({ removed: false });
      const left = JSON.parse(await run('list', '--json')) as { principal: string }[];
      expect(left.map((e) => e.principal)).to.deep.equal(['ops', '*', 'alice']);
    });

    it('refuses bad input with a message naming what to change, storing nothing', async () => {
      const cases: [string[], string][] = [
        [['--principal', 'a', '--operation', 'produce', '--topic', 't'], 'give one of --allow or --deny'],
        [['--principal', 'a', '--allow', '--deny', '--operation', 'produce', '--topic', 't'], 'give one of --allow'],
        [['--principal', 'a', '--allow', '--operation', 'produce'], 'name exactly one resource'],
        [['--principal', 'a', '--allow', '--operation', 'produce', '--topic', 't', '--group', 'g'], 'exactly one'],
        [['--principal', 'a', '--allow', '--operation', 'admin', '--cluster', '--prefix'], 'not --cluster'],
        [['--principal', 'a', '--allow', '--operation', 'write', '--topic', 't'], "got 'write'"],
        [['--principal', 'a', '--allow', '--operation', 'produce', '--group', 'g'], 'on a group must be one of'],
        [['--principal', '', '--allow', '--operation', 'produce', '--topic', 't'], 'principal must be 1 to 1024'],
        [['--allow', '--operation', 'produce', '--topic', 't'], "required option '--principal <name>'"],
      ];
      for (const [args, message] of cases) {
        const result = await acls(['add', ...args, ...backend.args()]);
        expect(result.error?.message, args.join(' ')).to.contain(message);
        expect(result.stdout).to.equal('');
      }
      expect(await run('list', '--json')).to.equal('[]\n');
    });

    it('runs as a command of its own: exit code 0 and 1, the typed error on stderr', async () => {
      const add = ['acls', 'add', '--principal', 'p', '--allow', '--operation', 'consume', '--topic', 't'];
      const ok = await runCli([...add, '--json', ...backend.args()]);
      expect([ok.code, JSON.parse(ok.stdout).added]).to.deep.equal([0, true]);
      const bad = await runCli([
        'acls',
        'add',
        '--principal',
        'p',
        '--allow',
        '--operation',
        'produce',
        '--group',
        'g',
        ...backend.args(),
      ]);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.equal(
        "error INVALID_REQUEST: ACL operation on a group must be one of read, describe, delete, got 'produce'\n",
      );
    });
  });
}

describe('cli: an agent enforces what `acls add` stored', function () {
  this.timeout(60_000);

  it('refuses a produce, then allows it once the CLI added the ACL and the agent read it again', async () => {
    const stores = await createTestStores('sqlite');
    const path = join(stores.dir, 'shared.db');
    const { store } = await createMetadataStore(path);
    await store.createTopic('orders', 1);
    const agent = await startTestAgent(stores, { metadataStore: store, authorizer: { refreshMs: 60_000 } });
    try {
      expect(await rejection(produce(agent.connection, 'orders', 0, records(1)))).to.be.instanceOf(
        TopicAuthorizationFailedError,
      );
      const run = await runCli(
        ['acls', 'add', '--metadata', path, '--principal', 'ANONYMOUS', '--allow', '--operation', 'produce'].concat([
          '--topic',
          'orders',
        ]),
      );
      expect(run.code, run.stderr).to.equal(0);
      await agent.agent.refreshAcls();
      expect(await produce(agent.connection, 'orders', 0, records(1))).to.equal(0);
    } finally {
      await agent.stop();
      await store.close();
      await stores.cleanup();
    }
  });
});

describe('cli: serve authorisation flags', () => {
  const parse = async (args: string[]): Promise<ServeFlags> => {
    let flags: ServeFlags | undefined;
    await serveCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .action((f: ServeFlags) => {
        flags = f;
      })
      .parseAsync(args, { from: 'user' });
    return flags!;
  };
  const parseError = (args: string[]) =>
    parse(args).then(
      () => 'parsed',
      (e: Error) => e.message,
    );

  it('is off by default and turned on by --authorizer acl with superusers and a refresh period', async () => {
    expect(authorizerOptions(await parse([]))).to.equal(undefined);
    expect(authorizerOptions(await parse(['--authorizer', 'acl']))).to.deep.equal({ superUsers: [], refreshMs: 1000 });
    const flags = await parse(['--authorizer', 'acl', '--superusers', 'root, ops', '--acl-refresh-ms', '250']);
    expect(authorizerOptions(flags)).to.deep.equal({ superUsers: ['root', 'ops'], refreshMs: 250 });
  });

  it('refuses bad values with messages naming the flag', async () => {
    expect(await parseError(['--authorizer', 'rbac'])).to.contain(
      "error: option '--authorizer <kind>' argument 'rbac'",
    );
    expect(await parseError(['--authorizer', 'acl', '--superusers', 'a,,b'])).to.contain(
      "--superusers takes comma-separated principals of 1 to 1024 characters, got 'a,,b'.",
    );
    expect(await parseError(['--acl-refresh-ms', '0'])).to.contain('--acl-refresh-ms must be a decimal integer from 1');
    expect(() => authorizerOptions({ authorizer: 'none', superusers: ['root'], aclRefreshMs: 1000 })).to.throw(
      '--superusers needs --authorizer acl',
    );
  });
});
