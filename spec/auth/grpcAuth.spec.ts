/**
 * Bearer tokens on gRPC against real agents: `required` serves only callers
 * with a valid token (UNAUTHENTICATED, never retriable, otherwise),
 * `optional` serves anonymous callers but still refuses a bad token, and the
 * Producer and Consumer send their token on every call. Users come from the
 * metadata store (shared by agents) and from the auth-file option.
 */
import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { connectAgent } from '../../src/client/agentClient.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';
import { createProducer } from '../../src/client/producer/producer.js';
import { mintToken, tokenSha256 } from '../../src/auth/credentials.js';
import { principalOf } from '../../src/agent/tls/principal.js';
import { callContext } from '../../src/kafka/handlers/callService.js';
import { InvalidConfigError, UnauthenticatedError } from '../../src/protocol/errors.js';
import type { UserRecord } from '../../src/metadata/users.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';

function tokenUser(name: string, token: string): UserRecord {
  return { name, scram: {}, tokenSha256: tokenSha256(token), createdAt: 1 };
}

async function refusal(promise: Promise<unknown>): Promise<UnauthenticatedError> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(UnauthenticatedError);
    expect([(error as UnauthenticatedError).code, (error as UnauthenticatedError).retriable]).to.deep.equal([
      'UNAUTHENTICATED',
      false,
    ]);
    return error as UnauthenticatedError;
  }
  throw new Error('expected UNAUTHENTICATED');
}

describe('gRPC bearer tokens', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  const storeToken = mintToken('alice');
  const fileToken = mintToken('filed');

  before(async () => {
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser(tokenUser('alice', storeToken));
    agent = await startTestAgent(stores, {
      metadataStore,
      auth: { mode: 'required', users: [tokenUser('filed', fileToken)], userCacheMs: 0 },
    });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('serves a caller with a token from the store or the auth file', async () => {
    for (const token of [storeToken, fileToken]) {
      const connection = connectAgent(agent.agent.address, { token });
      try {
        expect((await connection.client.listTopics({})).names).to.deep.equal([]);
      } finally {
        connection.close();
      }
    }
  });

  it('refuses a missing, wrong, malformed or removed token with UNAUTHENTICATED, and keeps serving', async () => {
    const anonymous = await refusal(agent.connection.client.listTopics({}));
    expect(anonymous.message).to.equal('this agent requires authentication: send a bearer token or client certificate');
    for (const token of [`${storeToken.slice(0, -2)}AA`, mintToken('alice'), mintToken('nobody'), 'garbage']) {
      const connection = connectAgent(agent.agent.address, { token });
      try {
        const error = await refusal(connection.client.listTopics({}));
        expect(error.message).to.equal('authentication failed (bearer token)');
      } finally {
        connection.close();
      }
    }
    await agent.metadataStore.putUser(tokenUser('gone', 'unused'));
    const goneToken = mintToken('gone');
    await agent.metadataStore.putUser(tokenUser('gone', goneToken));
    const connection = connectAgent(agent.agent.address, { token: goneToken });
    try {
      expect((await connection.client.listTopics({})).names).to.deep.equal([]);
      await agent.metadataStore.deleteUser('gone');
      await refusal(connection.client.listTopics({}));
    } finally {
      connection.close();
    }
    const good = connectAgent(agent.agent.address, { token: storeToken });
    try {
      expect((await good.client.listTopics({})).names).to.deep.equal([]);
    } finally {
      good.close();
    }
  });

  it('lets the Producer and Consumer work with a token, and refuses them without', async () => {
    const admin = connectAgent(agent.agent.address, { token: storeToken });
    await admin.client.createTopic({ name: 'tokens', partitions: 1, config: undefined });
    admin.close();
    const producer = await createProducer({ bootstrap: [agent.agent.address], lingerMs: 1, token: storeToken });
    try {
      const ack = await producer.sendAndWait({ topic: 'tokens', partition: 0, value: Buffer.from('v0') });
      expect(ack.offset).to.equal(0);
    } finally {
      await producer.close();
    }
    const consumer = createConsumer({
      bootstrap: [agent.agent.address],
      assignment: [{ topic: 'tokens', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
      token: fileToken,
    });
    try {
      const got = await firstValueFrom(consumer.records$.pipe(take(1), toArray()));
      expect(got.map((r) => Buffer.from(r.value!).toString())).to.deep.equal(['v0']);
    } finally {
      await consumer.close();
    }
    await refusal(createProducer({ bootstrap: [agent.agent.address], lingerMs: 1 }).then((p) => p.close()));
  });

  it('refuses tokens that cannot travel as metadata with INVALID_CONFIG', () => {
    for (const token of ['', 'has space', 'tab\t', 'é', 'x'.repeat(1025)]) {
      expect(() => connectAgent(agent.agent.address, { token }), token).to.throw(InvalidConfigError);
    }
  });

  it('hands a Kafka connection principal to the service as gRPC calls carry it', () => {
    const signal = new AbortController().signal;
    expect(principalOf(callContext(signal, 'alice'))).to.equal('alice');
    expect(principalOf(callContext(signal, 'ünï,code'))).to.equal('ünï,code');
    expect(principalOf(callContext(signal))).to.equal(undefined);
  });
});

describe('gRPC authentication: optional', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  const token = mintToken('alice');

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { auth: { mode: 'optional', users: [tokenUser('alice', token)] } });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('serves anonymous callers and valid tokens, and refuses a wrong token', async () => {
    expect((await agent.connection.client.listTopics({})).names).to.deep.equal([]);
    const good = connectAgent(agent.agent.address, { token });
    const bad = connectAgent(agent.agent.address, { token: mintToken('alice') });
    try {
      expect((await good.client.listTopics({})).names).to.deep.equal([]);
      await refusal(bad.client.listTopics({}));
    } finally {
      good.close();
      bad.close();
    }
  });
});
