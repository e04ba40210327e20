/**
 * SASL on the Kafka listener: KafkaJS 2.2 with PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512 (right and wrong passwords, none at all), and hostile raw
 * frames before authentication: each closes the connection (after a SASL
 * error code where Kafka answers one) while the agent keeps serving.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { scramCredential } from '../../src/auth/credentials.js';
import { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import { readSaslHandshakeResponse } from '../../src/kafka/generated/saslHandshakeResponse.js';
import { readSaslAuthenticateResponse } from '../../src/kafka/generated/saslAuthenticateResponse.js';
import type { UserRecord } from '../../src/metadata/users.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { connectRaw, type RawKafka } from './support/rawKafka.js';

const METADATA = 3;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

async function user(name: string, password: string): Promise<UserRecord> {
  return {
    name,
    scram: {
      'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', password),
      'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', password),
    },
    createdAt: 1,
  };
}

function handshake(raw: RawKafka, mechanism: string, version = 1, correlationId = 1): void {
  raw.request(SASL_HANDSHAKE, version, correlationId, (w) => w.string(mechanism, false));
}

function authenticate(raw: RawKafka, bytes: Buffer, correlationId = 2): void {
  raw.request(SASL_AUTHENTICATE, 1, correlationId, (w) => w.bytes(bytes, false));
}

async function handshakeAnswer(raw: RawKafka, version = 1) {
  return readSaslHandshakeResponse(new KafkaReader(await raw.response(), 4), version);
}

async function authenticateAnswer(raw: RawKafka) {
  const { errorCode, errorMessage } = readSaslAuthenticateResponse(new KafkaReader(await raw.response(), 4), 1);
  return { errorCode, errorMessage };
}

describe('Kafka listener SASL', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let broker: string;

  const kafka = (sasl?: SASLOptions) =>
    new Kafka({
      clientId: 'sasl-spec',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      ...(sasl === undefined ? {} : { sasl }),
    });

  before(async () => {
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser(await user('alice', 'alice-secret'));
    agent = await startTestAgent(stores, {
      metadataStore,
      kafkaPort: 0,
      auth: { mode: 'required', users: [await user('filed', 'file-secret')], saslTimeoutMs: 500 },
    });
    broker = agent.agent.kafkaAddress!;
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`produces and reads back with KafkaJS over SASL ${mechanism}, users from the store and the file`, async () => {
      const topic = `sasl-${mechanism}`;
      const admin = kafka({ mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions).admin();
      await admin.connect();
      try {
        expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).to.equal(true);
      } finally {
        await admin.disconnect();
      }
      const producer = kafka({ mechanism, username: 'filed', password: 'file-secret' } as SASLOptions).producer();
      await producer.connect();
      try {
        const [ack] = await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
        expect([ack!.errorCode, ack!.baseOffset]).to.deep.equal([0, '0']);
      } finally {
        await producer.disconnect();
      }
      const offsets = await (async () => {
        const a = kafka({ mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions).admin();
        await a.connect();
        try {
          return await a.fetchTopicOffsets(topic);
        } finally {
          await a.disconnect();
        }
      })();
      expect(offsets.map((o) => [o.partition, o.high])).to.deep.equal([[0, '1']]);
    });

    it(`refuses a wrong password and an unknown user over SASL ${mechanism}`, async () => {
      for (const [username, password] of [
        ['alice', 'wrong'],
        ['nobody', 'alice-secret'],
      ]) {
        const admin = kafka({ mechanism, username, password } as SASLOptions).admin();
        const error = await admin.connect().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        await admin.disconnect();
        expect(error?.name).to.equal('KafkaJSSASLAuthenticationError');
      }
    });
  }

  it('closes a connection that sends anything but ApiVersions and SASL before authenticating', async () => {
    const admin = kafka().admin();
    const error = await admin
      .connect()
      .then(() => admin.listTopics())
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    await admin.disconnect();
    expect(error).to.be.instanceOf(Error);
    const raw = await connectRaw(broker);
    raw.request(METADATA, 1, 1, (w) => w.int32(-1));
    await raw.closed;
  });

  it('answers SaslAuthenticate before SaslHandshake with ILLEGAL_SASL_STATE and closes', async () => {
    const raw = await connectRaw(broker);
    authenticate(raw, Buffer.from('\0alice\0alice-secret'));
    expect(await authenticateAnswer(raw)).to.deep.equal({
      errorCode: 34,
      errorMessage: 'SaslAuthenticate before a successful SaslHandshake',
    });
    await raw.closed;
  });

  it('lists its mechanisms for an unknown one, then accepts a second handshake; refuses v0 and a third', async () => {
    const raw = await connectRaw(broker);
    handshake(raw, 'GSSAPI');
    expect(await handshakeAnswer(raw)).to.deep.equal({
      errorCode: 33,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
    });
    handshake(raw, 'PLAIN');
    expect((await handshakeAnswer(raw)).errorCode).to.equal(0);
    handshake(raw, 'PLAIN');
    expect((await handshakeAnswer(raw)).errorCode).to.equal(34);
    await raw.closed;
    const legacy = await connectRaw(broker);
    handshake(legacy, 'PLAIN', 0);
    expect((await handshakeAnswer(legacy, 0)).errorCode).to.equal(35);
    await legacy.closed;
  });

  it('answers malformed PLAIN and SCRAM messages with SASL_AUTHENTICATION_FAILED and closes', async () => {
    const cases: [string, Buffer, string][] = [
      ['PLAIN', Buffer.from('no separators'), 'malformed SASL/PLAIN message'],
      ['PLAIN', Buffer.alloc(5000), 'authentication failed (PLAIN)'],
      [
        'SCRAM-SHA-256',
        Buffer.from('p=x,,n=alice,r=abc'),
        'malformed SCRAM client-first message (channel binding is not supported)',
      ],
      [
        'SCRAM-SHA-512',
        Buffer.from([0xff, 0xfe, 0x00]),
        'malformed SCRAM client-first message (channel binding is not supported)',
      ],
      ['SCRAM-SHA-512', Buffer.from('n,,n=alice,r=abc,tokenauth=true'), 'SCRAM token authentication is not supported'],
    ];
    for (const [mechanism, bytes, message] of cases) {
      const raw = await connectRaw(broker);
      handshake(raw, mechanism);
      expect((await handshakeAnswer(raw)).errorCode).to.equal(0);
      authenticate(raw, bytes);
      expect(await authenticateAnswer(raw)).to.deep.equal({ errorCode: 58, errorMessage: message });
      await raw.closed;
    }
  });

  it('closes a connection that sends a frame over 64 KiB before authenticating, or stays silent', async () => {
    const raw = await connectRaw(broker);
    const head = Buffer.alloc(8);
    head.writeInt32BE(64 * 1024 + 1, 0);
    raw.send(head);
    await raw.closed;
    const silent = await connectRaw(broker);
    const started = Date.now();
    await silent.closed;
    expect(Date.now() - started).to.be.within(300, 5000);
  });

  it('keeps serving authenticated clients after all that', async () => {
    const admin = kafka({ mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).to.include('sasl-plain');
    } finally {
      await admin.disconnect();
    }
  });
});

describe('Kafka listener SASL: optional', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, {
      kafkaPort: 0,
      auth: { mode: 'optional', users: [await user('alice', 'pw')] },
    });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('serves anonymous KafkaJS clients and SASL ones, and refuses a wrong password', async () => {
    const broker = agent.agent.kafkaAddress!;
    const base = { clientId: 'sasl-optional', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 } };
    for (const sasl of [undefined, { mechanism: 'plain', username: 'alice', password: 'pw' }] as const) {
      const admin = new Kafka({ ...base, ...(sasl === undefined ? {} : { sasl }) }).admin();
      await admin.connect();
      expect(await admin.listTopics()).to.deep.equal([]);
      await admin.disconnect();
    }
    const bad = new Kafka({ ...base, sasl: { mechanism: 'plain', username: 'alice', password: 'no' } }).admin();
    const error = await bad.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await bad.disconnect();
    expect(error?.name).to.equal('KafkaJSSASLAuthenticationError');
  });
});
