/**
 * The web console's JSON API against a real agent (real stores, real HTTP
 * port): exact answers after known traffic, and typed errors for bad input,
 * oversize or cross-site requests, with nothing written and the agent serving.
 */
import { expect } from 'chai';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import { MAX_JSON_BODY_BYTES } from '../../../src/http/jsonBody.js';
import { MAX_PAGE_BYTES } from '../../../src/http/console/recordsApi.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { httpCall } from '../support.js';

/** Bytes of every segment object the agent wrote (the object store is a directory). */
async function objectBytes(dir: string): Promise<number> {
  const files = await readdir(join(dir, 'objects'), { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(
    files.filter((f) => f.isFile()).map(async (f) => (await stat(join(f.parentPath, f.name))).size),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

describe('http: console API with ACLs on', function () {
  this.timeout(30_000);

  it('calls the service as ANONYMOUS: refused with a typed 403 unless the ACLs allow it', async () => {
    const stores = await createTestStores();
    const test = await startTestAgent(stores, { httpPort: 0, authorizer: { superUsers: [] } });
    try {
      await test.metadataStore.createTopic('orders', 1);
      const address = test.agent.httpAddress!;
      const topic = await httpCall(address, '/api/topics/orders');
      expect(topic.status).to.equal(403);
      expect(JSON.parse(topic.body).error).to.deep.include({ code: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
      const produced = await httpCall(address, '/api/topics/orders/records', {
        method: 'POST',
        body: '{"value":"x","partition":0}',
        headers: { 'Content-Type': 'application/json' },
      });
      expect(produced.status).to.equal(403);
      expect((await test.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(0);
    } finally {
      await test.stop();
      await stores.cleanup();
    }
  });
});

describe('http: console API', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let test: TestAgent;
  let address: string;
  const get = async (path: string) => {
    const answer = await httpCall(address, path);
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };
  const send = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const answer = await httpCall(address, path, {
      method,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...headers },
    });
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };
  const typed = (code: string, retriable = false) => ({ code, retriable });

  beforeEach(async () => {
    stores = await createTestStores();
    test = await startTestAgent(stores, { httpPort: 0, groupInitialRebalanceDelayMs: 0 });
    address = test.agent.httpAddress!;
    await test.metadataStore.createTopic('orders', 2);
    await produce(test.connection, 'orders', 0, records(3, 'a'));
    await produce(test.connection, 'orders', 1, records(2, 'b'));
  });
  afterEach(async () => {
    await test.stop();
    await stores.cleanup();
  });

  it('GET /api/overview: live agents with partitions held, topics with records, bytes and segments', async () => {
    const { status, body } = await get('/api/overview');
    expect(status).to.equal(200);
    expect(body['agentId']).to.equal(test.agent.agentId);
    const agents = body['agents'] as { agentId: string; address: string; partitionsHeld: number }[];
    expect(agents.map((a) => [a.agentId, a.address, a.partitionsHeld])).to.deep.equal([
      [test.agent.agentId, test.agent.address, 2],
    ]);
    const bytes = await objectBytes(stores.dir);
    expect(bytes).to.be.greaterThan(
      encodeRecordBatch(records(3, 'a')).length + encodeRecordBatch(records(2, 'b')).length,
    );
    expect(body['topics']).to.deep.equal([{ name: 'orders', partitions: 2, records: 5, bytes, segments: 2 }]);
    expect(body['topicCount']).to.equal(1);
    expect(body['rates']).to.be.an('array');
  });

  it('GET /api/topics/:topic: partitions with offsets, lease and segments, and the settings', async () => {
    const { status, body } = await get('/api/topics/orders');
    expect(status).to.equal(200);
    expect(body['id']).to.equal((await test.metadataStore.getTopic('orders'))!.id);
    expect(body['config']).to.deep.equal({
      retentionMs: -1,
      retentionBytes: -1,
      segmentBytes: 64 * 1024 * 1024,
      maxMessageBytes: 1024 * 1024,
    });
    const partitions = body['partitions'] as Record<string, unknown>[];
    expect(
      partitions.map((p) => [p['partition'], p['logStartOffset'], p['highWatermark'], p['segments']]),
    ).to.deep.equal([
      [0, 0, 3, 1],
      [1, 0, 2, 1],
    ]);
    expect(partitions[0]!['leaderAgentId']).to.equal(test.agent.agentId);
    expect(partitions[0]!['leaseEpoch']).to.equal(1);
    const sizes = partitions.map((p) => p['bytes'] as number);
    expect(sizes[0]! + sizes[1]!).to.equal(await objectBytes(stores.dir));
    expect(sizes[0]! - sizes[1]!).to.equal(
      encodeRecordBatch(records(3, 'a')).length - encodeRecordBatch(records(2, 'b')).length,
    );
    const missing = await get('/api/topics/nope');
    expect(missing.status).to.equal(404);
    expect(missing.body['error']).to.deep.include(typed('UNKNOWN_TOPIC_OR_PARTITION'));
  });

  it('PUT /api/topics/:topic/config changes the settings given and refuses bad ones', async () => {
    const changed = await send('PUT', '/api/topics/orders/config', { retentionMs: 60_000 });
    expect(changed.status).to.equal(200);
    expect(changed.body['config']).to.deep.include({ retentionMs: 60_000, retentionBytes: -1 });
    expect((await test.metadataStore.getTopic('orders'))!.config.retentionMs).to.equal(60_000);
    for (const bad of [
      {},
      { retentionMs: 0 },
      { retentionMs: 1.5 },
      { segmentBytes: 'x' },
      { color: 1 },
      [1],
      'null',
    ]) {
      const refused = await send('PUT', '/api/topics/orders/config', bad);
      expect(refused.status, JSON.stringify(bad)).to.equal(400);
      expect(refused.body['error']).to.have.property('retriable', false);
    }
    const tooSmall = await send('PUT', '/api/topics/orders/config', { segmentBytes: 1 });
    expect(tooSmall).to.deep.include({ status: 400 });
    expect(tooSmall.body['error']).to.deep.include(typed('INVALID_CONFIG'));
    expect((await send('PUT', '/api/topics/nope/config', { retentionMs: 5 })).status).to.equal(404);
    expect((await test.metadataStore.getTopic('orders'))!.config.retentionMs).to.equal(60_000);
  });

  it('GET records: from an offset, a timestamp or the latest, with key, value and headers', async () => {
    await send('POST', '/api/topics/orders/records', {
      key: 'k',
      value: { n: 1 },
      headers: { h: 'x', empty: null },
      partition: 1,
    });
    const page = await get('/api/topics/orders/partitions/1/records?offset=1');
    expect(page.status).to.equal(200);
    expect(page.body).to.deep.include({ logStartOffset: 0, highWatermark: 3, startOffset: 1, nextOffset: 3 });
    const got = page.body['records'] as { offset: number; key: unknown; value: unknown; headers: unknown }[];
    expect(got.map((r) => [r.offset, r.key, r.value])).to.deep.equal([
      [1, { text: 'k1', base64: 'azE=' }, { text: 'b-1', base64: 'Yi0x' }],
      [2, { text: 'k', base64: 'aw==' }, { text: '{"n":1}', base64: Buffer.from('{"n":1}').toString('base64') }],
    ]);
    expect(got[1]!.headers).to.deep.equal([
      { key: 'h', value: { text: 'x', base64: 'eA==' } },
      { key: 'empty', value: null },
    ]);
    const byTime = await get('/api/topics/orders/partitions/0/records?timestamp=1700000000001&limit=1');
    expect((byTime.body['records'] as { offset: number }[]).map((r) => r.offset)).to.deep.equal([1]);
    const latest = await get('/api/topics/orders/partitions/0/records?limit=2');
    expect((latest.body['records'] as { offset: number }[]).map((r) => r.offset)).to.deep.equal([1, 2]);
    const after = await get('/api/topics/orders/partitions/0/records?timestamp=1800000000000');
    expect(after.body).to.deep.include({ startOffset: 3, records: [] });
  });

  it('GET records ends a page at the record reaching MAX_PAGE_BYTES', async () => {
    await test.metadataStore.createTopic('big', 1);
    const value = Buffer.alloc(1_000_000, 120);
    for (let i = 0; i < 6; i++) await produce(test.connection, 'big', 0, [{ key: null, value, timestamp: 1 }]);
    const page = await get('/api/topics/big/partitions/0/records?offset=0');
    expect(MAX_PAGE_BYTES).to.be.greaterThan(4_000_000).and.lessThan(5_000_000);
    expect((page.body['records'] as { offset: number }[]).map((r) => r.offset)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(page.body['nextOffset']).to.equal(5);
  });

  it('GET records refuses a bad offset (400), an unknown topic or partition (404)', async () => {
    const cases: [string, number, string][] = [
      ['/api/topics/orders/partitions/0/records?offset=4', 400, 'OFFSET_OUT_OF_RANGE'],
      ['/api/topics/orders/partitions/0/records?offset=-1', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/0/records?offset=abc', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/0/records?offset=1&timestamp=1', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/0/records?limit=0', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/0/records?limit=501', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/x/records', 400, 'INVALID_REQUEST'],
      ['/api/topics/orders/partitions/2/records', 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['/api/topics/nope/partitions/0/records', 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['/api/topics/%E0%A4%A/partitions/0/records', 400, 'INVALID_REQUEST'],
      ['/api/nothing', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await get(path);
      expect([answer.status, (answer.body['error'] as { code: string }).code], path).to.deep.equal([status, code]);
    }
    expect((await get('/api/topics/orders')).status).to.equal(200);
  });

  it('POST records produces one record durably, by key or to the partition given', async () => {
    const landed = await send('POST', '/api/topics/orders/records', { value: 'hello', partition: 0 });
    expect(landed).to.deep.equal({ status: 200, body: { topic: 'orders', partition: 0, offset: 3 } });
    const keyed = await send('POST', '/api/topics/orders/records', { key: 'k1', value: 'x' });
    expect(keyed.status).to.equal(200);
    expect(keyed.body['partition']).to.be.oneOf([0, 1]);
    const bad: [unknown, number, string][] = [
      [{ value: 'x', partition: 2 }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [{ value: 'x', partition: -1 }, 400, 'INVALID_REQUEST'],
      [{ key: 5, value: 'x' }, 400, 'INVALID_RECORD'],
      [{ value: 'x', headers: { h: 1 } }, 400, 'INVALID_RECORD'],
      [{ value: 'x', extra: 1 }, 400, 'INVALID_REQUEST'],
      ['{not json', 400, 'INVALID_REQUEST'],
    ];
    for (const [body, status, code] of bad) {
      const answer = await send('POST', '/api/topics/orders/records', body);
      expect([answer.status, (answer.body['error'] as { code: string }).code], JSON.stringify(body)).to.deep.equal([
        status,
        code,
      ]);
    }
    expect((await send('POST', '/api/topics/nope/records', { value: 'x' })).status).to.equal(404);
    // Nothing else was written.
    const partitions = await test.metadataStore.listPartitions('orders');
    expect(partitions.reduce((sum, p) => sum + p.highWatermark, 0)).to.equal(7);
  });

  it('refuses an oversize body (413), another content type (415), a foreign origin (403); writes nothing', async () => {
    const path = '/api/topics/orders/records';
    const huge = JSON.stringify({ value: 'x'.repeat(MAX_JSON_BODY_BYTES) });
    const oversize = await send('POST', path, huge);
    expect(oversize.status).to.equal(413);
    expect(oversize.body['error']).to.deep.include(typed('PAYLOAD_TOO_LARGE'));
    const chunked = await httpCall(address, path, {
      method: 'POST',
      body: huge,
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    });
    expect(chunked.status).to.equal(413);
    const form = await httpCall(address, path, {
      method: 'POST',
      body: 'value=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect([form.status, JSON.parse(form.body).error.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const foreign = await send('POST', path, { value: 'x' }, { Origin: 'http://evil.example' });
    expect([foreign.status, (foreign.body['error'] as { code: string }).code]).to.deep.equal([403, 'FORBIDDEN']);
    const crossSite = await send('POST', path, { value: 'x' }, { 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).to.equal(403);
    const sameOrigin = await send('POST', path, { value: 'x', partition: 0 }, { Origin: `http://${address}` });
    expect(sameOrigin.status).to.equal(200);
    const wrongMethod = await send('DELETE', '/api/topics/orders', {});
    expect(wrongMethod.status).to.equal(405);
    const getWithBody = await httpCall(address, '/api/overview', { body: 'x' });
    expect(getWithBody.status).to.equal(400);
    const partitions = await test.metadataStore.listPartitions('orders');
    expect(partitions.map((p) => p.highWatermark)).to.deep.equal([4, 2]);
    expect((await get('/api/overview')).status).to.equal(200);
  });

  it('GET /api/groups and /api/groups/:group: members, assignments, committed offsets and lag', async () => {
    await test.metadataStore.commitOffsets('billing', -1, '', [
      { topic: 'orders', partition: 0, offset: 1, metadata: '' },
      { topic: 'orders', partition: 1, offset: 2, metadata: '' },
    ]);
    expect(await get('/api/groups')).to.deep.equal({
      status: 200,
      body: { groups: [{ groupId: 'billing', state: 'empty', members: 0 }] },
    });
    const { body } = await get('/api/groups/billing');
    expect(body).to.deep.include({ groupId: 'billing', state: 'empty', members: [], totalLag: 2 });
    expect(body['offsets']).to.deep.equal([
      { topic: 'orders', partition: 0, committed: 1, highWatermark: 3, lag: 2 },
      { topic: 'orders', partition: 1, committed: 2, highWatermark: 2, lag: 0 },
    ]);
    const missing = await get('/api/groups/nobody');
    expect([missing.status, (missing.body['error'] as { code: string }).code]).to.deep.equal([
      404,
      'GROUP_ID_NOT_FOUND',
    ]);
  });

  it('POST reset-offsets moves an empty group, and refuses a group with members (409)', async () => {
    await test.metadataStore.commitOffsets('billing', -1, '', [
      { topic: 'orders', partition: 0, offset: 1, metadata: '' },
    ]);
    const path = '/api/groups/billing/reset-offsets';
    expect((await send('POST', path, { to: 'latest' })).body).to.deep.equal({
      groupId: 'billing',
      offsets: [{ topic: 'orders', partition: 0, offset: 3, previous: 1 }],
    });
    const toOffset = await send('POST', path, { to: 'offset', offset: 2, topic: 'orders' });
    expect(toOffset.body['offsets']).to.deep.equal([
      { topic: 'orders', partition: 0, offset: 2, previous: 3 },
      { topic: 'orders', partition: 1, offset: 2, previous: -1 },
    ]);
    const byTime = await send('POST', path, {
      to: 'timestamp',
      timestampMs: 1_700_000_000_001,
      topic: 'orders',
      partition: 0,
    });
    expect(byTime.body['offsets']).to.deep.equal([{ topic: 'orders', partition: 0, offset: 1, previous: 2 }]);
    const bad: [unknown, number, string][] = [
      [{ to: 'middle' }, 400, 'INVALID_REQUEST'],
      [{ to: 'offset' }, 400, 'INVALID_REQUEST'],
      [{ to: 'earliest', offset: 1 }, 400, 'INVALID_REQUEST'],
      [{ to: 'offset', offset: 9 }, 400, 'OFFSET_OUT_OF_RANGE'],
      [{ to: 'earliest', topic: 'nope' }, 404, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ];
    for (const [body, status, code] of bad) {
      const answer = await send('POST', path, body);
      expect([answer.status, (answer.body['error'] as { code: string }).code], JSON.stringify(body)).to.deep.equal([
        status,
        code,
      ]);
    }
    await test.connection.client.joinGroup({
      groupId: 'billing',
      memberId: '',
      clientId: 'c',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    const live = await send('POST', path, { to: 'earliest' });
    expect(live.status).to.equal(409);
    expect(live.body['error']).to.deep.include(typed('ILLEGAL_GENERATION'));
    const kept = await test.metadataStore.fetchOffsets('billing');
    expect(kept.map((o) => [o.partition, o.offset])).to.deep.equal([
      [0, 1],
      [1, 2],
    ]);
  });

  it('serves the console page and its assets, and nothing else under /console', async () => {
    const page = await httpCall(address, '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).to.contain("default-src 'self'");
    expect(page.body).to.contain('<script type="module" src="/console/app.js"></script>');
    const uplot = await httpCall(address, '/console/vendor/uPlot.esm.js');
    expect([uplot.status, uplot.headers['content-type']]).to.deep.equal([200, 'text/javascript; charset=utf-8']);
    expect((await httpCall(address, '/console/../package.json')).status).to.equal(404);
    expect((await httpCall(address, '/console/nope.js')).status).to.equal(404);
    expect((await httpCall(address, '/', { method: 'POST', body: '{}' })).status).to.equal(405);
  });
});
