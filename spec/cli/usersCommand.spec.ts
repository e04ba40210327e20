/**
 * `streamhouse users add|list|remove` as a real process, against SQLite,
 * Redis and an auth file; then `serve --auth required` with those users and
 * client commands with `--token` / STREAMHOUSE_TOKEN. No secret is ever in
 * `list` output or in the stored records.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '../../src/auth/credentials.js';
import { RedisMetadataStore } from '../../src/metadata/redis/redisMetadataStore.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { deleteRedisPrefix, REDIS_URL } from '../support/agentHarness.js';
import { uniquePrefix } from '../metadata/support/storeHarnesses.js';
import { runCli, ServeProcess, type Finished } from './cliSupport.js';

function expectExit(result: Finished, code: number): Finished {
  expect(result.code, `exit code; stdout: ${result.stdout}\nstderr: ${result.stderr}`).to.equal(code);
  return result;
}

type Listed = { users: { name: string; mechanisms: string[]; token: boolean; createdAt: number }[] };

describe('cli: streamhouse users', function () {
  // Each command is a process started through tsx: seconds apiece on a loaded machine.
  this.timeout(240_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-users-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds, lists and removes users in the SQLite store, printing no secret but the minted token', async () => {
    const target = ['--data-dir', dir];
    const added = JSON.parse(
      expectExit(await runCli(['users', 'add', 'alice', '--token', '--json', ...target], { input: 'pa55 word\n' }), 0)
        .stdout,
    ) as { name: string; mechanisms: string[]; token: string };
    expect([added.name, added.mechanisms]).to.deep.equal(['alice', ['SCRAM-SHA-256', 'SCRAM-SHA-512']]);
    expect(added.token).to.match(/^YWxpY2U\.[A-Za-z0-9_-]{43}$/);
    const bob = expectExit(
      await runCli(['users', 'add', 'bob', '--password', 'pw', '--mechanism', 'SCRAM-SHA-512', ...target]),
      0,
    );
    expect(bob.stdout).to.equal('added user bob (SCRAM-SHA-512, PLAIN)\n');
    const listed = JSON.parse(expectExit(await runCli(['users', 'list', '--json', ...target]), 0).stdout) as Listed;
    expect(listed.users.map((u) => [u.name, u.mechanisms, u.token])).to.deep.equal([
      ['alice', ['SCRAM-SHA-256', 'SCRAM-SHA-512'], true],
      ['bob', ['SCRAM-SHA-512'], false],
    ]);
    const table = expectExit(await runCli(['users', 'list', ...target]), 0).stdout;
    expect(table.split('\n')[0]).to.equal('NAME   MECHANISMS                   TOKEN  CREATED');
    expect(table).to.not.include(added.token);
    const store = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
    try {
      const alice = (await store.getUser('alice'))!;
      expect(await verifyPassword(alice, 'pa55 word')).to.equal(true);
      expect(JSON.stringify(alice)).to.not.include('pa55');
      expect(JSON.stringify(alice)).to.not.include(added.token.split('.')[1]);
    } finally {
      await store.close();
    }
    expect(expectExit(await runCli(['users', 'remove', 'bob', '--json', ...target]), 0).stdout).to.equal(
      '{"removed":"bob"}\n',
    );
    const again = expectExit(await runCli(['users', 'remove', 'bob', ...target]), 1);
    expect(again.stderr).to.equal('error INVALID_REQUEST: no user bob\n');
  });

  it('refuses a duplicate without --replace, no credentials, bad names and bad flags, changing nothing', async () => {
    const target = ['--data-dir', dir];
    expectExit(await runCli(['users', 'add', 'alice', '--password', 'one', ...target]), 0);
    const dup = expectExit(await runCli(['users', 'add', 'alice', '--password', 'two', ...target]), 1);
    expect(dup.stderr).to.equal('error INVALID_REQUEST: user alice exists: pass --replace to set new credentials\n');
    const none = expectExit(await runCli(['users', 'add', 'carol', ...target]), 1);
    expect(none.stderr).to.equal('error INVALID_REQUEST: give a password (--password or on stdin), --token, or both\n');
    const control = expectExit(await runCli(['users', 'add', 'a\tb', '--password', 'x', ...target]), 1);
    expect(control.stderr).to.equal('error INVALID_REQUEST: user name must not contain control characters\n');
    const iterations = expectExit(
      await runCli(['users', 'add', 'd', '--password', 'x', '--iterations', '10', ...target]),
      1,
    );
    expect(iterations.stderr).to.match(/--iterations must be a decimal integer from 4096 to 1000000/);
    const mechanism = expectExit(
      await runCli(['users', 'add', 'e', '--password', 'x', '--mechanism', 'MD5', ...target]),
      1,
    );
    expect(mechanism.stderr).to.match(/argument 'MD5' is invalid/);
    const long = expectExit(await runCli(['users', 'add', 'f', ...target], { input: 'x'.repeat(5000) }), 1);
    expect(long.stderr).to.equal('error INVALID_REQUEST: password on stdin is too long\n');
    const listed = JSON.parse(expectExit(await runCli(['users', 'list', '--json', ...target]), 0).stdout) as Listed;
    expect(listed.users.map((u) => u.name)).to.deep.equal(['alice']);
    const store = new SqliteMetadataStore({ path: join(dir, 'metadata.db') });
    try {
      expect(await verifyPassword(await store.getUser('alice'), 'one')).to.equal(true);
    } finally {
      await store.close();
    }
    expectExit(await runCli(['users', 'add', 'alice', '--password', 'two', '--replace', ...target]), 0);
  });

  it('keeps users in Redis under the key prefix, shared by every process on it', async () => {
    const prefix = uniquePrefix();
    const target = ['--metadata', REDIS_URL, '--redis-prefix', prefix];
    try {
      expectExit(await runCli(['users', 'add', 'r1', '--password', 'pw', ...target]), 0);
      const store = new RedisMetadataStore({ url: REDIS_URL, keyPrefix: prefix });
      try {
        expect(await verifyPassword(await store.getUser('r1'), 'pw')).to.equal(true);
      } finally {
        await store.close();
      }
      const listed = JSON.parse(expectExit(await runCli(['users', 'list', '--json', ...target]), 0).stdout) as Listed;
      expect(listed.users.map((u) => u.name)).to.deep.equal(['r1']);
      expectExit(await runCli(['users', 'remove', 'r1', ...target]), 0);
      expect(JSON.parse(expectExit(await runCli(['users', 'list', '--json', ...target]), 0).stdout)).to.deep.equal({
        users: [],
      });
    } finally {
      await deleteRedisPrefix(prefix);
    }
  });

  it('writes an auth file (mode 0600) serve --auth required accepts, with --token and STREAMHOUSE_TOKEN', async () => {
    const file = join(dir, 'users.json');
    const added = JSON.parse(
      expectExit(await runCli(['users', 'add', 'ops', '--token', '--json', '--auth-file', file]), 0).stdout,
    ) as { token: string };
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(await readFile(file, 'utf8')).to.not.include(added.token.split('.')[1]);
    const agent = await ServeProcess.start([
      '--data-dir',
      dir,
      '--port',
      '0',
      '--no-kafka',
      '--no-http',
      '--auth',
      'required',
      '--auth-file',
      file,
    ]);
    try {
      const refused = expectExit(await runCli(['topics', 'list', '--agent', agent.address]), 1);
      expect(refused.stderr).to.equal(
        'error UNAUTHENTICATED: this agent requires authentication: send a bearer token or client certificate\n',
      );
      const wrong = expectExit(await runCli(['topics', 'list', '--agent', agent.address, '--token', 'b3Bz.x']), 1);
      expect(wrong.stderr).to.equal('error UNAUTHENTICATED: authentication failed (bearer token)\n');
      expectExit(await runCli(['topics', 'create', 't', '--agent', agent.address, '--token', added.token]), 0);
      const listed = await runCli(['topics', 'list', '--agent', agent.address], {
        env: { STREAMHOUSE_TOKEN: added.token },
      });
      expect(expectExit(listed, 0).stdout).to.equal('t\n');
      expectExit(await agent.stop('SIGINT'), 0);
      expect(agent.stdout + agent.stderr).to.not.include(added.token.split('.')[1]);
    } finally {
      await agent.kill();
    }
  });

  it('refuses to serve with a malformed auth file, naming it', async () => {
    const file = join(dir, 'bad.json');
    await (await import('node:fs/promises')).writeFile(file, '{"users":[{"name":""}]}');
    const result = expectExit(
      await runCli(['serve', '--data-dir', dir, '--port', '0', '--no-kafka', '--no-http', '--auth-file', file]),
      1,
    );
    expect(result.stderr).to.include(
      `error INVALID_CONFIG: auth file ${file} is malformed: user name must be 1 to 255 characters`,
    );
  });
});
