/**
 * Authentication of the console's JSON API against real agents: with `--auth
 * required` every `/api/` request needs a bearer token, HTTP Basic
 * credentials or (HTTPS) a verified client certificate; refusals are typed
 * 401s with `WWW-Authenticate` and nothing done; the authenticated user is the
 * principal ACLs check; the page and /metrics, /healthz, /readyz stay open.
 */
import { expect } from 'chai';
import { request as httpsRequest } from 'node:https';
import { mintToken, scramCredential, tokenSha256 } from '../../../src/auth/credentials.js';
import { WWW_AUTHENTICATE } from '../../../src/http/console/httpAuth.js';
import type { AclEntry, AclOperation } from '../../../src/metadata/aclRules.js';
import type { UserRecord } from '../../../src/metadata/users.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';
import { TestCertificates, type Certificate } from '../../support/certificates.js';
import { httpCall, type HttpAnswer } from '../support.js';

const ALICE_PASSWORD = 'alice-pass:with colon';
const ALICE_TOKEN = mintToken('alice');

async function alice(): Promise<UserRecord> {
  const scram = { 'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', ALICE_PASSWORD) };
  return { name: 'alice', scram, tokenSha256: tokenSha256(ALICE_TOKEN), createdAt: 1 };
}

function allow(principal: string, operation: AclOperation, topic: string): AclEntry {
  const base = { principal, permission: 'allow', operation, patternType: 'literal' } as const;
  return { ...base, resourceType: 'topic', resourceName: topic };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;

/** GET over HTTPS trusting `ca`, showing `client` when given. */
function httpsCall(address: string, path: string, ca: Buffer, client?: Certificate, headers = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const [host, port] = address.split(':') as [string, string];
    const req = httpsRequest(
      {
        host,
        port: Number(port),
        path,
        ca,
        servername: 'localhost',
        headers,
        agent: false,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('http: console API authentication', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let test: TestAgent;
  let address: string;

  before(async () => {
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser(await alice());
    for (const topic of ['orders', 'secret']) await metadataStore.createTopic(topic, 1);
    await metadataStore.addAcl(allow('alice', 'describe', 'orders'));
    await metadataStore.addAcl(allow('alice', 'produce', 'orders'));
    test = await startTestAgent(stores, {
      metadataStore,
      httpPort: 0,
      auth: { mode: 'required' },
      authorizer: { superUsers: [] },
    });
    address = test.agent.httpAddress!;
  });
  after(async () => {
    await test?.stop();
    await stores?.cleanup();
  });

  const unauthenticated = (answer: HttpAnswer) => {
    expect(answer.status).to.equal(401);
    expect(answer.headers['www-authenticate']).to.equal(WWW_AUTHENTICATE);
    expect(JSON.parse(answer.body).error).to.deep.include({ code: 'UNAUTHENTICATED', retriable: false });
  };

  it('refuses an API request without credentials with a typed 401, and writes nothing', async () => {
    unauthenticated(await httpCall(address, '/api/overview'));
    unauthenticated(await httpCall(address, '/api/groups'));
    const produced = await httpCall(address, '/api/topics/orders/records', {
      method: 'POST',
      body: '{"value":"x","partition":0}',
      headers: { 'Content-Type': 'application/json' },
    });
    unauthenticated(produced);
    expect((await test.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(0);
  });

  it('keeps the page, /metrics, /healthz and /readyz open', async () => {
    for (const path of ['/', '/console/app.js', '/metrics', '/healthz', '/readyz']) {
      expect((await httpCall(address, path)).status, path).to.equal(200);
    }
  });

  it('serves a bearer token or Basic credentials as the user, whose ACLs apply', async () => {
    for (const authorization of [bearer(ALICE_TOKEN), basic('alice', ALICE_PASSWORD)]) {
      const headers = { Authorization: authorization };
      const overview = await httpCall(address, '/api/overview', { headers });
      expect(overview.status).to.equal(200);
      const body = JSON.parse(overview.body) as { topics: { name: string }[]; topicCount: number };
      expect(body.topics.map((t) => t.name)).to.deep.equal(['orders']);
      expect(body.topicCount).to.equal(1);
      expect((await httpCall(address, '/api/topics/orders', { headers })).status).to.equal(200);
      const secret = await httpCall(address, '/api/topics/secret', { headers });
      expect(secret.status).to.equal(403);
      expect(JSON.parse(secret.body).error.message).to.contain('alice');
    }
    const produced = await httpCall(address, '/api/topics/orders/records', {
      method: 'POST',
      body: '{"value":"by-alice","partition":0}',
      headers: { 'Content-Type': 'application/json', Authorization: bearer(ALICE_TOKEN) },
    });
    expect(produced.status).to.equal(200);
    expect((await test.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(1);
  });

  it('refuses wrong or malformed credentials with a typed 401; keeps serving', async () => {
    const wrongToken = `${ALICE_TOKEN.slice(0, -2)}${ALICE_TOKEN.endsWith('AA') ? 'BB' : 'AA'}`;
    const bad = [
      bearer(wrongToken),
      bearer(mintToken('nobody')),
      bearer('not-a-token'),
      basic('alice', 'wrong'),
      basic('nobody', ALICE_PASSWORD),
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':pw').toString('base64')}`,
      'Basic !!!',
      'Digest username="alice"',
      'Bearer',
      bearer('x'.repeat(5000)),
    ];
    for (const authorization of bad) {
      const answer = await httpCall(address, '/api/overview', { headers: { Authorization: authorization } });
      unauthenticated(answer);
      expect(answer.body).not.to.contain(ALICE_PASSWORD);
    }
    const posted = await httpCall(address, '/api/topics/orders/records', {
      method: 'POST',
      body: '{"value":"refused","partition":0}',
      headers: { 'Content-Type': 'application/json', Authorization: basic('alice', 'wrong') },
    });
    unauthenticated(posted);
    // Only the record alice produced in the test before.
    expect((await test.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(1);
    const ok = await httpCall(address, '/api/overview', { headers: { Authorization: bearer(ALICE_TOKEN) } });
    expect(ok.status).to.equal(200);
  });
});

describe('http: console API with auth optional', function () {
  this.timeout(30_000);

  it('serves a request without credentials as ANONYMOUS, checks credentials when sent', async () => {
    const stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser(await alice());
    await metadataStore.createTopic('orders', 1);
    await metadataStore.addAcl(allow('alice', 'describe', 'orders'));
    const test = await startTestAgent(stores, {
      metadataStore,
      httpPort: 0,
      auth: { mode: 'optional' },
      authorizer: { superUsers: [] },
    });
    try {
      const address = test.agent.httpAddress!;
      const anonymous = await httpCall(address, '/api/topics/orders');
      expect(anonymous.status).to.equal(403);
      expect(JSON.parse(anonymous.body).error.message).to.contain('ANONYMOUS');
      const wrong = await httpCall(address, '/api/topics/orders', { headers: { Authorization: basic('alice', 'x') } });
      expect(wrong.status).to.equal(401);
      expect(wrong.headers['www-authenticate']).to.equal(WWW_AUTHENTICATE);
      const right = await httpCall(address, '/api/topics/orders', { headers: { Authorization: bearer(ALICE_TOKEN) } });
      expect(right.status).to.equal(200);
    } finally {
      await test.stop();
      await stores.cleanup();
    }
  });
});

describe('http: console API with mTLS on the HTTP port', function () {
  this.timeout(30_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let aliceCert: Certificate;
  let stores: TestStores;
  let test: TestAgent;

  before(async () => {
    ca = certs.ca('ca-ca');
    const server = certs.signed(ca, 'ca-server', 'agent.test', 9001, 'server');
    aliceCert = certs.signed(ca, 'ca-alice', 'alice', 9101, 'client');
    stores = await createTestStores('sqlite');
    const metadataStore = stores.newMetadataStore();
    await metadataStore.putUser(await alice());
    for (const topic of ['orders', 'secret']) await metadataStore.createTopic(topic, 1);
    await metadataStore.addAcl(allow('alice', 'describe', 'orders'));
    test = await startTestAgent(stores, {
      metadataStore,
      httpPort: 0,
      tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.certFile, clientAuth: 'optional' },
      auth: { mode: 'required' },
      authorizer: { superUsers: [] },
    });
  });
  after(async () => {
    await test?.stop();
    await stores?.cleanup();
  });

  it('takes the client certificate CN as the principal when no header is sent', async () => {
    const address = test.agent.httpAddress!;
    expect((await httpsCall(address, '/api/topics/orders', ca.cert, aliceCert)).status).to.equal(200);
    const secret = await httpsCall(address, '/api/topics/secret', ca.cert, aliceCert);
    expect(secret.status).to.equal(403);
    expect(JSON.parse(secret.body).error.message).to.contain('alice');
    const anonymous = await httpsCall(address, '/api/topics/orders', ca.cert);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers['www-authenticate']).to.equal(WWW_AUTHENTICATE);
    const wrong = await httpsCall(address, '/api/topics/orders', ca.cert, aliceCert, {
      Authorization: basic('alice', 'wrong'),
    });
    expect(wrong.status).to.equal(401);
    expect((await httpsCall(address, '/healthz', ca.cert)).status).to.equal(200);
  });
});
