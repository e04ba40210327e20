/**
 * Credentials never reach the logs: an agent logging at trace level is sent
 * failed and successful logins of every kind (SASL PLAIN and SCRAM on Kafka,
 * bearer tokens on gRPC, Bearer and Basic on the console API, a malformed
 * PLAIN frame), and no password, token or encoded credential appears in what
 * it wrote, while the failures themselves are logged.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { pino } from 'pino';
import { mintToken, scramCredential, tokenSha256 } from '../../src/auth/credentials.js';
import { connectAgent } from '../../src/client/agentClient.js';
import type { UserRecord } from '../../src/metadata/users.js';
import {
  createTestStores,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';
import { httpCall } from '../http/support.js';
import { connectRaw } from '../kafka/support/rawKafka.js';

const PASSWORD = 'Right-Pa55word-7f3a';
const WRONG_PASSWORD = 'Wrong-Pa55word-91c2';
const TOKEN = mintToken('alice');
const WRONG_TOKEN = mintToken('alice');

describe('secrets in agent logs', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let test: TestAgent;
  const logged: string[] = [];

  before(async () => {
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    const alice: UserRecord = {
      name: 'alice',
      scram: {
        'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', PASSWORD),
        'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', PASSWORD),
      },
      tokenSha256: tokenSha256(TOKEN),
      createdAt: 1,
    };
    await metadataStore.putUser(alice);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    test = await startTestAgent(stores, {
      metadataStore,
      kafkaPort: 0,
      httpPort: 0,
      auth: { mode: 'required' },
      logger: pino({ level: 'trace' }, sink),
    });
  });
  after(async () => {
    await test?.stop();
    await stores?.cleanup();
  });

  const kafka = (sasl: SASLOptions) =>
    new Kafka({
      clientId: 'secret-log-spec',
      brokers: [test.agent.kafkaAddress!],
      sasl,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });

  it('logs failed logins on every port without the credentials', async () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const wrong = kafka({ mechanism, username: 'alice', password: WRONG_PASSWORD } as SASLOptions).admin();
      expect(((await wrong.connect().catch((e: unknown) => e)) as Error).name).to.equal(
        'KafkaJSSASLAuthenticationError',
      );
      await wrong.disconnect();
      const right = kafka({ mechanism, username: 'alice', password: PASSWORD } as SASLOptions).admin();
      await right.connect();
      expect(await right.listTopics()).to.deep.equal([]);
      await right.disconnect();
    }
    // A PLAIN message of four parts (malformed), carrying the password.
    const raw = await connectRaw(test.agent.kafkaAddress!);
    raw.request(17, 1, 1, (w) => w.string('PLAIN', false));
    await raw.response();
    raw.request(36, 1, 2, (w) => w.bytes(Buffer.from(`\0alice\0${PASSWORD}\0${PASSWORD}`), false));
    await raw.response();
    await raw.closed;

    for (const token of [WRONG_TOKEN, TOKEN]) {
      const grpc = connectAgent(test.agent.address, { token });
      const listing = grpc.client.listTopics({});
      if (token === TOKEN) expect((await listing).names).to.deep.equal([]);
      else expect(await rejection(listing)).to.have.property('code', 'UNAUTHENTICATED');
      grpc.close();
    }

    const basic = (password: string) => `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`;
    const statuses: number[] = [];
    for (const authorization of [basic(WRONG_PASSWORD), basic(PASSWORD), `Bearer ${WRONG_TOKEN}`, `Bearer ${TOKEN}`]) {
      statuses.push((await httpCall(test.agent.httpAddress!, '/api/groups', { headers: { authorization } })).status);
    }
    expect(statuses).to.deep.equal([401, 200, 401, 200]);

    const text = logged.join('');
    // The failures are there (so this capture sees the auth paths), with user and mechanism only.
    const failures = text
      .split('\n')
      .filter((line) => line.includes('"authentication failed"'))
      .map((line) => JSON.parse(line) as { user?: string; mechanism: string });
    expect(failures.map((f) => [f.user, f.mechanism])).to.deep.equal([
      ['alice', 'PLAIN'],
      ['alice', 'SCRAM-SHA-256'],
      ['alice', 'SCRAM-SHA-512'],
      ['alice', 'bearer token'],
      ['alice', 'PLAIN'],
      ['alice', 'bearer token'],
    ]);
    const secrets = [
      PASSWORD,
      WRONG_PASSWORD,
      TOKEN,
      WRONG_TOKEN,
      TOKEN.split('.')[1]!,
      WRONG_TOKEN.split('.')[1]!,
      Buffer.from(`alice:${PASSWORD}`).toString('base64'),
      Buffer.from(`alice:${WRONG_PASSWORD}`).toString('base64'),
      Buffer.from(PASSWORD).toString('base64'),
      Buffer.from(PASSWORD).toString('hex'),
    ];
    for (const secret of secrets) expect(text, secret).not.to.include(secret);
  });
});
