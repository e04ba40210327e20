/**
 * Kafka over mutual TLS with `--auth required`: a verified client certificate
 * authenticates the connection without SASL (its CN is the principal); a
 * client without a certificate must still use SASL, and a SASL exchange begun
 * beside a certificate must still succeed.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { scramCredential } from '../../src/auth/credentials.js';
import type { UserRecord } from '../../src/metadata/users.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { TestCertificates, type Certificate } from '../support/certificates.js';

async function user(name: string, password: string): Promise<UserRecord> {
  return { name, scram: { 'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', password) }, createdAt: 1 };
}

describe('Kafka mTLS with auth required', function () {
  this.timeout(60_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let alice: Certificate;
  let stores: TestStores;
  let agent: TestAgent;

  const kafka = (ssl: KafkaConfig['ssl'], sasl?: SASLOptions) =>
    new Kafka({
      clientId: 'mtls-auth-spec',
      brokers: [agent.agent.kafkaAddress!],
      ssl,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 3000,
      ...(sasl === undefined ? {} : { sasl }),
    });

  before(async () => {
    ca = certs.ca('ma-ca');
    const server = certs.signed(ca, 'ma-server', 'agent.test', 8001, 'server');
    alice = certs.signed(ca, 'ma-alice', 'alice', 8101, 'client');
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, {
      kafkaPort: 0,
      tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile, clientAuth: 'optional' },
      auth: { mode: 'required', users: [await user('bob', 'bob-secret')], saslTimeoutMs: 2000 },
      produceQuotaBytesPerSecond: 1 << 40,
    });
    await agent.metadataStore.createTopic('mtls-t', 1);
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('serves a client with a verified certificate without SASL, as its CN', async () => {
    const producer = kafka({ ca: [ca.cert], cert: alice.cert, key: alice.key, servername: 'localhost' }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'mtls-t', messages: [{ value: 'by-cert' }] });
    } finally {
      await producer.disconnect();
    }
    expect(agent.agent.quotas.produce.usage('alice').bytes).to.be.greaterThan(0);
    expect(agent.agent.quotas.produce.usage('ANONYMOUS').bytes).to.equal(0);
  });

  it('refuses a TLS client without a certificate and without SASL; serves it with SASL', async () => {
    const admin = kafka({ ca: [ca.cert], servername: 'localhost' }).admin();
    const error = await admin
      .connect()
      .then(() => admin.listTopics())
      .catch((e: unknown) => e);
    await admin.disconnect();
    expect(error).to.be.instanceOf(Error);
    const sasl = kafka(
      { ca: [ca.cert], servername: 'localhost' },
      {
        mechanism: 'scram-sha-256',
        username: 'bob',
        password: 'bob-secret',
      },
    ).admin();
    await sasl.connect();
    try {
      expect(await sasl.listTopics()).to.deep.equal(['mtls-t']);
    } finally {
      await sasl.disconnect();
    }
  });

  it('a failed SASL login beside a certificate still fails; the agent keeps serving the certificate', async () => {
    const ssl = { ca: [ca.cert], cert: alice.cert, key: alice.key, servername: 'localhost' };
    const wrong = kafka(ssl, { mechanism: 'plain', username: 'bob', password: 'wrong' }).admin();
    const error = await wrong.connect().catch((e: unknown) => e);
    expect((error as Error).name).to.equal('KafkaJSSASLAuthenticationError');
    await wrong.disconnect();
    const admin = kafka(ssl).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).to.deep.equal(['mtls-t']);
    } finally {
      await admin.disconnect();
    }
  });
});
