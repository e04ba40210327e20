import { expect } from 'chai';
import { once } from 'node:events';
import { copyFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';
import { waitFor } from '../../support/waitFor.js';
import { peerSerial, TestCertificates, type Certificate } from '../../support/certificates.js';
import { connectAgent, type AgentConnection } from '../../../src/client/agentClient.js';
import { createProducer } from '../../../src/client/producer/producer.js';
import { createConsumer } from '../../../src/client/consumer/consumer.js';
import type { ClientTlsOptions } from '../../../src/client/tlsOptions.js';
import type { AgentTlsOptions } from '../../../src/agent/tls/tlsOptions.js';
import { AgentUnavailableError, InvalidConfigError } from '../../../src/protocol/errors.js';

describe('TLS on the gRPC listener', function () {
  this.timeout(20_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let server: Certificate;
  let alice: Certificate;
  let mallory: Certificate;
  let expiredClient: Certificate;
  let expiredServer: Certificate;
  let stores: TestStores;
  let agent: TestAgent | undefined;
  const connections: AgentConnection[] = [];
  let logLines: string[];

  before(() => {
    ca = certs.ca('test-ca');
    const other = certs.ca('other-ca');
    server = certs.signed(ca, 'server', 'agent.test', 1001, 'server');
    alice = certs.signed(ca, 'alice', 'alice', 2001, 'client');
    mallory = certs.signed(other, 'mallory', 'mallory', 3001, 'client');
    expiredClient = certs.expired(ca, 'expired-client', 'old-alice', 'client');
    expiredServer = certs.expired(ca, 'expired-server', 'old-agent', 'server');
  });
  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    logLines = [];
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await agent?.stop();
    agent = undefined;
    await stores.cleanup();
  });

  const start = async (tls: Partial<AgentTlsOptions> = {}) => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    agent = await startTestAgent(stores, {
      tls: { certFile: server.certFile, keyFile: server.keyFile, ...tls },
      logger: pino({ level: 'debug' }, sink),
    });
    return agent.agent.address;
  };
  const connect = (tls: ClientTlsOptions | undefined) => {
    const c = connectAgent(agent!.agent.address, tls === undefined ? {} : { tls });
    connections.push(c);
    return c;
  };
  const listTopics = (c: AgentConnection) => c.client.listTopics({}, { signal: AbortSignal.timeout(3000) });

  it('carries a Producer and a Consumer end to end: records read back exactly', async () => {
    const address = await start();
    const tls = { ca: ca.cert, servername: 'localhost' };
    await connect(tls).client.createTopic({ name: 't', partitions: 1 });
    const producer = await createProducer({ bootstrap: [address], lingerMs: 1, tls });
    try {
      for (const value of ['a', 'b', 'c']) await producer.send({ topic: 't', partition: 0, value });
    } finally {
      await producer.close();
    }
    const consumer = createConsumer({
      bootstrap: [address],
      assignment: [{ topic: 't', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
      tls,
    });
    try {
      const got = await firstValueFrom(consumer.records$.pipe(take(3), toArray()));
      expect(got.map((r) => [r.offset, Buffer.from(r.value!).toString()])).to.deep.equal([
        [0, 'a'],
        [1, 'b'],
        [2, 'c'],
      ]);
    } finally {
      await consumer.close();
    }
  });

  it('refuses a plain-text client within its deadline, and one that does not trust the CA', async () => {
    await start();
    const plain = await listTopics(connect(undefined)).catch((e: unknown) => e);
    expect(plain).to.be.instanceOf(AgentUnavailableError);
    const untrusted = await listTopics(connect({ ca: mallory.cert })).catch((e: unknown) => e);
    expect(untrusted).to.be.instanceOf(AgentUnavailableError);
    // The agent still serves a client that trusts it.
    expect((await listTopics(connect({ ca: ca.cert }))).names).to.deep.equal([]);
  });

  it('with client auth required refuses clients without a certificate or with another CA’s', async () => {
    await start({ caFile: ca.certFile, clientAuth: 'required' });
    const none = await listTopics(connect({ ca: ca.cert })).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(AgentUnavailableError);
    const other = await listTopics(connect({ ca: ca.cert, cert: mallory.cert, key: mallory.key })).catch(
      (e: unknown) => e,
    );
    expect(other).to.be.instanceOf(AgentUnavailableError);
    const expired = await listTopics(connect({ ca: ca.cert, cert: expiredClient.cert, key: expiredClient.key })).catch(
      (e: unknown) => e,
    );
    expect(expired).to.be.instanceOf(AgentUnavailableError);
    expect(principals()).to.deep.equal([]);
    expect((await listTopics(connect({ ca: ca.cert, cert: alice.cert, key: alice.key }))).names).to.deep.equal([]);
    expect(principals()).to.deep.equal(['alice']);
  });

  it('a client refuses an agent whose certificate has expired', async () => {
    await start({ certFile: expiredServer.certFile, keyFile: expiredServer.keyFile });
    const error = await listTopics(connect({ ca: ca.cert })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AgentUnavailableError);
  });

  it('with client auth optional serves clients without a certificate, naming no principal', async () => {
    await start({ caFile: ca.certFile, clientAuth: 'optional' });
    expect((await listTopics(connect({ ca: ca.cert }))).names).to.deep.equal([]);
    expect(principals()).to.deep.equal([]);
    expect((await listTopics(connect({ ca: ca.cert, cert: alice.cert, key: alice.key }))).names).to.deep.equal([]);
    expect(principals()).to.deep.equal(['alice']);
  });

  it('serves replaced certificates to new connections after reloadTls()', async () => {
    const live = { certFile: `${certs.dir}/live.crt`, keyFile: `${certs.dir}/live.key` };
    copyFileSync(server.certFile, live.certFile);
    copyFileSync(server.keyFile, live.keyFile);
    await start(live);
    expect(await peerSerial(agent!.agent.address, ca.cert)).to.equal('03E9'); // 1001
    const renewed = certs.signed(ca, 'server-renewed', 'agent.test', 1002, 'server');
    copyFileSync(renewed.certFile, live.certFile);
    copyFileSync(renewed.keyFile, live.keyFile);
    await agent!.agent.reloadTls();
    expect(await peerSerial(agent!.agent.address, ca.cert)).to.equal('03EA'); // 1002
    expect((await listTopics(connect({ ca: ca.cert }))).names).to.deep.equal([]);
  });

  it('keeps the certificates in use when the reloaded files are unusable', async () => {
    const live = { certFile: `${certs.dir}/broken.crt`, keyFile: `${certs.dir}/broken.key` };
    copyFileSync(server.certFile, live.certFile);
    copyFileSync(server.keyFile, live.keyFile);
    await start(live);
    copyFileSync(alice.keyFile, live.keyFile); // a key that does not match the certificate
    const error = await agent!.agent.reloadTls().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidConfigError);
    expect((error as Error).message).to.contain('broken.key');
    expect(await peerSerial(agent!.agent.address, ca.cert)).to.equal('03E9');
    expect((await listTopics(connect({ ca: ca.cert }))).names).to.deep.equal([]);
  });

  it('keeps the connection limits: a silent socket is closed after handshakeTimeoutMs, counted', async () => {
    agent = await startTestAgent(stores, {
      tls: { certFile: server.certFile, keyFile: server.keyFile },
      handshakeTimeoutMs: 200,
    });
    const [host, port] = agent.agent.address.split(':') as [string, string];
    const silent = createConnection({ host, port: Number(port) });
    silent.on('error', () => undefined);
    await once(silent, 'close');
    await waitFor(() => agent!.agent.connections.open === 0, 'the agent side of the socket to close');
    expect(agent.agent.connections).to.deep.equal({ open: 0, refused: 0, handshakeTimeouts: 1, refusedPerAddress: 0 });
    expect((await listTopics(connect({ ca: ca.cert }))).names).to.deep.equal([]);
    expect(agent.agent.connections).to.deep.include({ open: 1, handshakeTimeouts: 1 });
  });

  it('rejects bad agent and client TLS options with InvalidConfigError', async () => {
    const bad: [Partial<AgentTlsOptions>, string][] = [
      [{ clientAuth: 'required' }, 'needs tls.caFile'],
      [{ clientAuth: 'sometimes' as 'none' }, 'tls.clientAuth must be one of'],
      [{ certFile: '' }, 'tls.certFile must be a file path'],
      [{ keyFile: `${certs.dir}/missing.key` }, 'cannot be read'],
      [{ keyFile: alice.keyFile }, 'are not usable'],
    ];
    for (const [tls, message] of bad) {
      const error = await start(tls).catch((e: unknown) => e);
      expect(error, message).to.be.instanceOf(InvalidConfigError);
      expect((error as Error).message).to.contain(message);
    }
    expect(() => connectAgent('127.0.0.1:1', { tls: { cert: alice.cert } })).to.throw(InvalidConfigError, 'together');
    const producerError = await createProducer({ bootstrap: ['127.0.0.1:1'], tls: { key: alice.key } }).catch(
      (e: unknown) => e,
    );
    expect(producerError).to.be.instanceOf(InvalidConfigError);
    expect((producerError as Error).message).to.contain('together');
    expect(() => connectAgent('127.0.0.1:1', { tls: { ca: ca.cert, cert: alice.cert, key: mallory.key } })).to.throw(
      InvalidConfigError,
      'not usable',
    );
    expect(() => connectAgent('127.0.0.1:1', { tls: { ca: 'not a pem' } })).to.throw(InvalidConfigError, 'not usable');
    expect(() =>
      createConsumer({
        bootstrap: ['127.0.0.1:1'],
        assignment: [{ topic: 't', partition: 0 }],
        tls: { servername: '' },
      }),
    ).to.throw(InvalidConfigError, 'servername');
  });

  function principals(): string[] {
    return logLines
      .map((line) => JSON.parse(line) as { msg: string; principal?: string })
      .filter((entry) => entry.msg === 'call from principal')
      .map((entry) => entry.principal!);
  }
});
