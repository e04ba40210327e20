/**
 * `streamhouse users add|list|remove`: users who may authenticate to agents,
 * kept in the metadata store (`--metadata`, as `serve` takes it; every agent
 * on it sees them) or in an `--auth-file`. Only derived secrets are stored;
 * `list` prints no secret, and a minted token is printed once, by `add`.
 */
import { Command, Option } from 'commander';
import { withMetadataStore } from './openMetadataStore.js';
import {
  SCRAM_MECHANISMS,
  validateUserName,
  type ScramMechanism,
  type UserRecord,
  type UserStore,
} from '../metadata/users.js';
import { InvalidRequestError } from '../protocol/errors.js';
import { DEFAULT_SCRAM_ITERATIONS, mintToken, scramCredential, tokenSha256 } from '../auth/credentials.js';
import { AuthFileUsers } from '../auth/userTargets.js';
import { MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS } from '../metadata/users.js';
import { integerOption } from './integerOption.js';
import { printJson, printTable } from './output.js';

type StoreFlags = { authFile?: string; metadata?: string; dataDir: string; redisPrefix: string; json?: boolean };
type AddFlags = StoreFlags & {
  password?: string;
  mechanism: string;
  token?: boolean;
  iterations: number;
  replace?: boolean;
};

const MAX_PASSWORD_LENGTH = 1024;

function storeOptions(command: Command): Command {
  return command
    .addOption(new Option('--auth-file <file>', 'keep users in this JSON file (as `serve --auth-file` reads)'))
    .addOption(
      new Option('--metadata <url>', 'SQLite file path or redis://host:port/db (default <data-dir>/metadata.db)').env(
        'STREAMHOUSE_METADATA',
      ),
    )
    .addOption(
      new Option('--data-dir <dir>', 'data directory of the embedded metadata.db')
        .env('STREAMHOUSE_DATA_DIR')
        .default('./data'),
    )
    .addOption(
      new Option('--redis-prefix <prefix>', 'key prefix in Redis')
        .env('STREAMHOUSE_REDIS_PREFIX')
        .default('streamhouse:'),
    )
    .option('--json', 'machine-readable output (JSON)');
}

/** Runs `fn` on the users of the chosen store, closing it after. */
async function withUsers<T>(flags: StoreFlags, fn: (users: UserStore) => Promise<T>): Promise<T> {
  if (flags.authFile !== undefined) return fn(new AuthFileUsers(flags.authFile));
  return withMetadataStore(flags, fn);
}

/** The whole of standard input without its final line break ('' when it is a terminal). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY === true) return '';
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_PASSWORD_LENGTH * 4 + 2) throw new InvalidRequestError('password on stdin is too long');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function mechanisms(choice: string): ScramMechanism[] {
  return choice === 'all' ? [...SCRAM_MECHANISMS] : [choice as ScramMechanism];
}

async function addUser(name: string, flags: AddFlags): Promise<void> {
  validateUserName(name);
  const password = flags.password ?? (await readStdin());
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new InvalidRequestError(`password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (password === '' && flags.token !== true) {
    throw new InvalidRequestError('give a password (--password or on stdin), --token, or both');
  }
  const scram: UserRecord['scram'] = {};
  if (password !== '') {
    for (const mechanism of mechanisms(flags.mechanism)) {
      scram[mechanism] = await scramCredential(mechanism, password, flags.iterations);
    }
  }
  const token = flags.token === true ? mintToken(name) : undefined;
  const user: UserRecord = {
    name,
    scram,
    ...(token === undefined ? {} : { tokenSha256: tokenSha256(token) }),
    createdAt: Date.now(),
  };
  await withUsers(flags, async (users) => {
    if (flags.replace !== true && (await users.getUser(name)) !== undefined) {
      throw new InvalidRequestError(`user ${name} exists: pass --replace to set new credentials`);
    }
    await users.putUser(user);
  });
  const names = Object.keys(scram);
  if (flags.json === true) {
    printJson({ name, mechanisms: names, ...(token === undefined ? {} : { token }) });
    return;
  }
  console.log(`added user ${name}${names.length > 0 ? ` (${names.join(', ')}, PLAIN)` : ''}`);
  if (token !== undefined) console.log(`token (shown once, keep it secret): ${token}`);
}

function describe(user: UserRecord): { name: string; mechanisms: string[]; token: boolean; createdAt: number } {
  return {
    name: user.name,
    mechanisms: Object.keys(user.scram),
    token: user.tokenSha256 !== undefined,
    createdAt: user.createdAt,
  };
}

export function usersCommand(): Command {
  const users = new Command('users').description('users who may authenticate to agents (see docs/security.md)');
  storeOptions(
    users
      .command('add <name>')
      .description('add a user with a password (from --password or stdin) and/or a minted bearer token')
      .option('--password <password>', 'the password (prefer stdin: argv is visible to other local users)')
      .addOption(
        new Option('--mechanism <mechanism>', 'SCRAM credentials to store (PLAIN checks against them)')
          .choices([...SCRAM_MECHANISMS, 'all'])
          .default('all'),
      )
      .option('--token', 'mint a bearer token for gRPC clients (printed once)')
      .addOption(
        new Option('--iterations <n>', 'PBKDF2 iterations of the SCRAM credentials')
          .argParser(integerOption('--iterations', { min: MIN_SCRAM_ITERATIONS, max: MAX_SCRAM_ITERATIONS }))
          .default(DEFAULT_SCRAM_ITERATIONS),
      )
      .option('--replace', 'replace the credentials of an existing user'),
  ).action(addUser);
  storeOptions(users.command('list').description('list users (names, mechanisms, whether a token exists)')).action(
    async (flags: StoreFlags) => {
      const all = (await withUsers(flags, (u) => u.listUsers())).map(describe);
      if (flags.json === true) {
        printJson({ users: all });
        return;
      }
      printTable(
        ['NAME', 'MECHANISMS', 'TOKEN', 'CREATED'],
        all.map((u) => [
          u.name,
          u.mechanisms.join(',') || '-',
          u.token ? 'yes' : 'no',
          new Date(u.createdAt).toISOString(),
        ]),
      );
    },
  );
  storeOptions(
    users.command('remove <name>').description('remove a user (agents drop it within their user cache time)'),
  ).action(async (name: string, flags: StoreFlags) => {
    validateUserName(name);
    const removed = await withUsers(flags, (u) => u.deleteUser(name));
    if (!removed) throw new InvalidRequestError(`no user ${name}`);
    if (flags.json === true) printJson({ removed: name });
    else console.log(`removed user ${name}`);
  });
  return users;
}
