/**
 * TLS on the Kafka listener and the HTTP port, with the gRPC listener's
 * certificates and reload: KafkaJS and kcat over TLS, the client certificate's
 * CN as the Kafka connection's principal, HTTPS /metrics, and refusals of a
 * plain-text client, a client of another CA and an expired certificate.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import {
  createTestStores,
  startTestAgent,
  readAll,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { TestCertificates, type Certificate } from '../../support/certificates.js';
import { connectRaw } from '../../kafka/support/rawKafka.js';
import type { AgentTlsOptions } from '../../../src/agent/tls/tlsOptions.js';
import { connectAgent } from '../../../src/client/agentClient.js';

function hasKcat(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function kcat(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`kcat ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** The serial (hex) of the certificate a new TLS connection (no ALPN) to `address` is shown. */
function peerSerial(address: string, ca: Buffer, client: Certificate): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port: Number(port),
      ca,
      servername: 'localhost',
      cert: client.cert,
      key: client.key,
    });
    socket.setTimeout(3000, () => socket.destroy(new Error('no TLS handshake within 3 s')));
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** GET over HTTPS trusting `ca` (and showing `client`): status and body, or the error. */
function httpsStatus(address: string, path: string, ca: Buffer, client?: Certificate): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(
      `https://${address}${path}`,
      { ca, servername: 'localhost', ...(client === undefined ? {} : { cert: client.cert, key: client.key }) },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve([response.statusCode ?? 0, body]));
      },
    );
    request.setTimeout(5000, () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', reject);
  });
}

describe('TLS on the Kafka listener and the HTTP port', function () {
  this.timeout(60_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let server: Certificate;
  let server2: Certificate;
  let alice: Certificate;
  let mallory: Certificate;
  let expiredClient: Certificate;
  let stores: TestStores;
  let agent: TestAgent | undefined;

  before(() => {
    ca = certs.ca('kh-ca');
    const other = certs.ca('kh-other-ca');
    server = certs.signed(ca, 'kh-server', 'agent.test', 7001, 'server');
    server2 = certs.signed(ca, 'kh-server2', 'agent.test', 7002, 'server');
    alice = certs.signed(ca, 'kh-alice', 'alice', 7101, 'client');
    mallory = certs.signed(other, 'kh-mallory', 'mallory', 7201, 'client');
    expiredClient = certs.expired(ca, 'kh-expired', 'old-alice', 'client');
  });
  beforeEach(async () => {
    stores = await createTestStores('sqlite');
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await stores.cleanup();
  });

  /** An agent serving Kafka and HTTP over TLS; quotas so high they never throttle but count each principal. */
  const start = async (tls: Partial<AgentTlsOptions> = {}) => {
    agent = await startTestAgent(stores, {
      kafkaPort: 0,
      httpPort: 0,
      tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile, clientAuth: 'required', ...tls },
      produceQuotaBytesPerSecond: 1 << 40,
      groupInitialRebalanceDelayMs: 0,
    });
    await agent.metadataStore.createTopic('tls-t', 1);
    return agent.agent;
  };
  const kafkajs = (ssl: KafkaConfig['ssl']) =>
    new Kafka({
      clientId: 'tls-spec',
      brokers: [agent!.agent.kafkaAddress!],
      ssl,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 3000,
    });

  it('KafkaJS with ssl produces over mTLS; the certificate CN is the principal charged', async () => {
    await start();
    const producer = kafkajs({ ca: [ca.cert], cert: alice.cert, key: alice.key, servername: 'localhost' }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'tls-t', messages: [{ value: 'a' }, { value: 'b' }] });
    } finally {
      await producer.disconnect();
    }
    const grpc = connectAgent(agent!.agent.address, {
      tls: { ca: ca.cert, cert: alice.cert, key: alice.key, servername: 'localhost' },
    });
    try {
      expect(await readAll(grpc, 'tls-t', 0)).to.deep.equal([
        [0, 'a'],
        [1, 'b'],
      ]);
    } finally {
      grpc.close();
    }
    expect(agent!.agent.quotas.produce.usage('alice').bytes).to.be.greaterThan(0);
    expect(agent!.agent.quotas.produce.usage('ANONYMOUS').bytes).to.equal(0);
  });

  it('refuses a plain-text Kafka client, another CA’s certificate and an expired one; keeps serving', async () => {
    await start();
    const raw = await connectRaw(agent!.agent.kafkaAddress!);
    // An ApiVersions v0 request in plain text: the TLS handshake fails and the socket closes, unanswered.
    raw.send(Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0, 0]));
    await raw.closed;
    for (const who of [mallory, expiredClient]) {
      const refused = kafkajs({ ca: [ca.cert], cert: who.cert, key: who.key, servername: 'localhost' }).admin();
      const error = await refused.connect().catch((e: unknown) => e);
      expect(error, who.certFile).to.be.instanceOf(Error);
    }
    const untrusting = kafkajs({ ca: [mallory.cert], cert: alice.cert, key: alice.key, servername: 'localhost' });
    expect(
      await untrusting
        .admin()
        .connect()
        .catch((e: unknown) => e),
    ).to.be.instanceOf(Error);
    const admin = kafkajs({ ca: [ca.cert], cert: alice.cert, key: alice.key, servername: 'localhost' }).admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).to.deep.equal(['tls-t']);
    } finally {
      await admin.disconnect();
    }
  });

  it('with client auth optional serves a Kafka client without a certificate as ANONYMOUS', async () => {
    await start({ clientAuth: 'optional' });
    const producer = kafkajs({ ca: [ca.cert], servername: 'localhost' }).producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'tls-t', messages: [{ value: 'x' }] });
    } finally {
      await producer.disconnect();
    }
    expect(agent!.agent.quotas.produce.usage('ANONYMOUS').bytes).to.be.greaterThan(0);
  });

  it('kcat with security.protocol=SSL produces and consumes', async function () {
    if (!hasKcat()) {
      console.warn('    kcat is not installed (apt-get install kcat): skipping');
      this.skip();
    }
    await start();
    const ssl = [
      ...['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${ca.certFile}`],
      ...['-X', `ssl.certificate.location=${alice.certFile}`, '-X', `ssl.key.location=${alice.keyFile}`],
    ];
    const broker = agent!.agent.kafkaAddress!;
    await kcat(['-b', broker, ...ssl, '-P', '-t', 'tls-t', '-p', '0'], 'one\ntwo\n');
    const out = await kcat(['-b', broker, ...ssl, '-C', '-t', 'tls-t', '-p', '0', '-o', 'beginning', '-e', '-q']);
    expect(out).to.equal('one\ntwo\n');
    const refused = await kcat([
      '-b',
      broker,
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${ca.certFile}`,
      '-L',
    ])
      .then(() => 'served')
      .catch(() => 'refused');
    expect(refused).to.equal('refused');
  });

  it('serves /metrics over HTTPS, refusing plain HTTP and clients without a certificate', async () => {
    const started = await start();
    const address = started.httpAddress!;
    const [status, body] = await httpsStatus(address, '/metrics', ca.cert, alice);
    expect(status).to.equal(200);
    expect(body).to.contain('# TYPE');
    const plain = await new Promise<string>((resolve) => {
      const request = httpGet(`http://${address}/healthz`, (response) => resolve(`status ${response.statusCode}`));
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(plain).to.be.oneOf(['ECONNRESET', 'EPIPE']);
    const anonymous = await httpsStatus(address, '/healthz', ca.cert).catch((e: NodeJS.ErrnoException) => e.code);
    expect(anonymous).to.be.a('string');
    expect(await httpsStatus(address, '/healthz', ca.cert, alice)).to.deep.equal([200, '{"status":"ok"}\n']);
  });

  it('reload gives new Kafka and HTTPS connections the new certificate', async () => {
    const files = { certFile: `${certs.dir}/kh-live.crt`, keyFile: `${certs.dir}/kh-live.key` };
    copyFileSync(server.certFile, files.certFile);
    copyFileSync(server.keyFile, files.keyFile);
    const started = await start(files);
    expect(await peerSerial(started.kafkaAddress!, ca.cert, alice)).to.equal('1B59');
    expect(await peerSerial(started.httpAddress!, ca.cert, alice)).to.equal('1B59');
    copyFileSync(server2.certFile, files.certFile);
    copyFileSync(server2.keyFile, files.keyFile);
    await started.reloadTls();
    expect(await peerSerial(started.kafkaAddress!, ca.cert, alice)).to.equal('1B5A');
    expect(await peerSerial(started.httpAddress!, ca.cert, alice)).to.equal('1B5A');
  });
});
