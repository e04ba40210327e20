/**
 * The agent's HTTP routes and health, against a real agent: /healthz,
 * /readyz through start, store failures and graceful stop, the gRPC health
 * service, and what the port refuses (unknown routes, methods, bodies).
 */
import { expect } from 'chai';
import { createChannel, createClient, ClientError, Status } from 'nice-grpc';
import {
  createTestStores,
  startTestAgent,
  nextLongPoll,
  rejection,
  type TestStores,
  type TestAgent,
} from '../support/agentHarness.js';
import { Agent, startAgent } from '../../src/agent/agent.js';
import { resolveAgentOptions } from '../../src/agent/agentOptions.js';
import { HealthDefinition, ServingStatus } from '../../src/agent/server/grpcHealth.js';
import { ReadinessCheck } from '../../src/http/readiness.js';
import { InvalidConfigError } from '../../src/protocol/errors.js';
import type { ObjectStore } from '../../src/storage/objectStore.js';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { isListening } from '../support/faults.js';
import { connect } from 'node:net';
import { once } from 'node:events';
import { HTTP_MAX_CONNECTIONS } from '../../src/http/httpPort.js';
import { waitFor } from '../support/waitFor.js';
import { httpCall } from './support.js';

/** A real object store whose ping fails while `down` is set. */
function pingFaults(inner: ObjectStore): ObjectStore & { down: boolean } {
  const store = Object.create(inner) as ObjectStore & { down: boolean };
  store.down = false;
  store.ping = async () => {
    if (store.down) throw new Error('injected: bucket unreachable');
    await inner.ping?.();
  };
  return store;
}

describe('http: routes and health', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let test: TestAgent;
  let objects: ObjectStore & { down: boolean };

  beforeEach(async () => {
    stores = await createTestStores();
    objects = pingFaults(stores.objectStore);
    test = await startTestAgent(stores, { httpPort: 0, objectStore: objects });
  });
  afterEach(async () => {
    await test.stop();
    await stores.cleanup();
  });

  it('answers /healthz and /readyz with 200 once started, HEAD without a body', async () => {
    const address = test.agent.httpAddress!;
    expect(await httpCall(address, '/healthz')).to.deep.include({ status: 200, body: '{"status":"ok"}\n' });
    expect(await httpCall(address, '/readyz')).to.deep.include({ status: 200, body: '{"status":"ready"}\n' });
    expect(await httpCall(address, '/readyz?verbose=1')).to.deep.include({ status: 200 });
    expect(await httpCall(address, '/healthz', { method: 'HEAD' })).to.deep.include({ status: 200, body: '' });
  });

  it('refuses unknown routes (404), other methods (405) and request bodies (400), and keeps serving', async () => {
    const address = test.agent.httpAddress!;
    const missing = await httpCall(address, '/nope');
    expect(missing).to.deep.include({ status: 404, body: '{"error":"no route /nope"}\n' });
    const post = await httpCall(address, '/metrics', { method: 'POST', body: 'x' });
    expect(post).to.deep.include({ status: 405, body: '{"error":"method POST not allowed on /metrics"}\n' });
    expect(post.headers['allow']).to.equal('GET, HEAD');
    const withBody = await httpCall(address, '/readyz', { body: 'x'.repeat(10_000) });
    expect(withBody).to.deep.include({ status: 400, body: '{"error":"a GET request carries no body"}\n' });
    const chunked = await httpCall(address, '/healthz', {
      headers: { 'Transfer-Encoding': 'chunked' },
      body: 'x',
    });
    expect(chunked).to.deep.include({ status: 400, body: '{"error":"a GET request carries no body"}\n' });
    expect((await httpCall(address, '/healthz')).status).to.equal(200);
  });

  it('closes a connection streaming a refused body past the bound, and keeps serving', async () => {
    const address = test.agent.httpAddress!;
    const socket = connect(Number(address.split(':')[1]), '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 120);
    // Writes until the agent closes the connection (past MAX_DISCARDED_BYTES).
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk));
      if (!socket.destroyed) socket.once('drain', pump);
    };
    pump();
    await closed;
    expect((await httpCall(address, '/healthz')).status).to.equal(200);
  });

  it(`closes connections beyond ${HTTP_MAX_CONNECTIONS} at once, and serves again once they go`, async () => {
    const port = Number(test.agent.httpAddress!.split(':')[1]);
    const open = () => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      return socket;
    };
    // Each held connection is answered once, so the agent has accepted (and counts) it.
    const held = [];
    for (let i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
      const socket = open();
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const [answer] = (await once(socket, 'data')) as [Buffer];
      expect(answer.toString()).to.match(/^HTTP\/1\.1 200 /);
      held.push(socket);
    }
    const extra = open();
    await once(extra, 'close');
    for (const socket of held) socket.destroy();
    await waitFor(
      async () => (await httpCall(`127.0.0.1:${port}`, '/healthz').catch(() => undefined))?.status === 200,
      'serving again',
    );
  });

  it('is not ready while a store does not answer its ping, and ready again once it does', async () => {
    const address = test.agent.httpAddress!;
    objects.down = true;
    const down = await httpCall(address, '/readyz');
    expect(down.status).to.equal(503);
    expect(JSON.parse(down.body)).to.deep.equal({
      status: 'not ready',
      reason: 'object store unreachable: injected: bucket unreachable',
    });
    expect((await httpCall(address, '/healthz')).status).to.equal(200);
    objects.down = false;
    expect((await httpCall(address, '/readyz')).status).to.equal(200);
  });

  it('turns not ready and NOT_SERVING at the start of a graceful stop, and closes the port at its end', async () => {
    const address = test.agent.httpAddress!;
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const channel = createChannel(test.agent.address);
    const health = createClient(HealthDefinition, channel);
    try {
      expect(await health.check({ service: '' })).to.deep.equal({ status: ServingStatus.SERVING });
      const watch = health.watch({ service: 'streamhouse.v1.StreamHouse' })[Symbol.asyncIterator]();
      expect((await watch.next()).value).to.deep.equal({ status: ServingStatus.SERVING });
      // A long-poll in flight keeps the graceful stop under way while it is probed.
      await test.metadataStore.createTopic('t', 1);
      const polling = nextLongPoll(test.agent);
      const fetch = test.connection.client.fetch({
        partitions: [{ topic: 't', partition: 0, offset: 0, maxBytes: 0 }],
        maxWaitMs: 3000,
        minBytes: 1,
        maxBytes: 0,
      });
      await polling;
      const stopped = test.agent.stop();
      const during = await httpCall(address, '/readyz');
      expect(during.status).to.equal(503);
      expect(JSON.parse(during.body)).to.deep.equal({ status: 'not ready', reason: 'shutting down' });
      expect((await httpCall(address, '/healthz')).status).to.equal(200);
      expect((await watch.next()).value).to.deep.equal({ status: ServingStatus.NOT_SERVING });
      expect((await watch.next()).done).to.equal(true);
      await fetch;
      await stopped;
      expect(await isListening(port)).to.equal(false);
    } finally {
      channel.close();
    }
  });

  it('is not ready until the last start step is done', async () => {
    const real = stores.newMetadataStore();
    let register: () => void = () => undefined;
    const registering = new Promise<void>((resolve) => (register = resolve));
    // The real store, holding the agent's registration (its last start step but one) until told.
    const store = new Proxy(real, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (property === 'registerAgent') {
          return async (...args: Parameters<MetadataStore['registerAgent']>) => {
            await registering;
            return target.registerAgent(...args);
          };
        }
        return value.bind(target);
      },
    });
    const agent = new Agent(
      resolveAgentOptions({ objectStore: stores.objectStore, metadataStore: store, httpPort: 0 }),
    );
    const starting = agent.start();
    try {
      await waitFor(() => agent.httpAddress !== undefined, 'the HTTP port');
      const early = await httpCall(agent.httpAddress!, '/readyz');
      expect(early.status).to.equal(503);
      expect(JSON.parse(early.body)).to.deep.equal({ status: 'not ready', reason: 'starting' });
      expect((await httpCall(agent.httpAddress!, '/healthz')).status).to.equal(200);
      register();
      await starting;
      expect((await httpCall(agent.httpAddress!, '/readyz')).status).to.equal(200);
    } finally {
      register();
      await starting.catch(() => undefined);
      await agent.stop();
    }
  });

  it('answers gRPC health Check for the agent, NOT_FOUND for an unknown service', async () => {
    const channel = createChannel(test.agent.address);
    try {
      const health = createClient(HealthDefinition, channel);
      expect(await health.check({ service: 'streamhouse.v1.StreamHouse' })).to.deep.equal({
        status: ServingStatus.SERVING,
      });
      const unknown = await rejection(health.check({ service: 'x'.repeat(10_000) }));
      expect(unknown).to.be.instanceOf(ClientError);
      expect((unknown as ClientError).code).to.equal(Status.NOT_FOUND);
      const watch = health.watch({ service: 'nope' })[Symbol.asyncIterator]();
      expect((await watch.next()).value).to.deep.equal({ status: ServingStatus.SERVICE_UNKNOWN });
      expect((await watch.next()).done).to.equal(true);
    } finally {
      channel.close();
    }
  });

  it('refuses a bad httpPort, and fails to start (nothing left listening) when the port is taken', async () => {
    const { objectStore } = stores;
    const metadataStore = test.metadataStore;
    for (const httpPort of [-1, 65536, 1.5, Number.NaN]) {
      expect(() => resolveAgentOptions({ objectStore, metadataStore, httpPort })).to.throw(
        InvalidConfigError,
        `agent option httpPort must be an integer in [0, 65535], got ${httpPort}`,
      );
    }
    const taken = Number(test.agent.httpAddress!.split(':')[1]);
    const error = await rejection(
      startAgent({ objectStore, metadataStore: stores.newMetadataStore(), httpPort: taken }),
    );
    expect(error).to.have.property('code', 'EADDRINUSE');
  });

  it('serves no HTTP and keeps no metrics without httpPort', async () => {
    const plain = await startTestAgent(stores);
    try {
      expect(plain.agent.httpAddress).to.equal(undefined);
    } finally {
      await plain.stop();
    }
  });
});

describe('http/readiness', () => {
  const metadataStore = { ping: () => Promise.resolve() } as unknown as MetadataStore;
  const objectStore = { ping: () => Promise.resolve() } as unknown as ObjectStore;

  it('is not ready before the agent has started', async () => {
    const check = new ReadinessCheck({ started: () => false, stopping: () => false, metadataStore, objectStore });
    expect(await check.check()).to.deep.equal({ ready: false, reason: 'starting' });
  });

  it('names a store whose ping does not settle within the bound', async () => {
    const hanging = { ping: () => new Promise<void>(() => undefined) } as unknown as MetadataStore;
    const check = new ReadinessCheck({
      started: () => true,
      stopping: () => false,
      metadataStore: hanging,
      objectStore,
      timeoutMs: 50,
    });
    expect(await check.check()).to.deep.equal({
      ready: false,
      reason: 'metadata store did not answer within 50 ms',
    });
  });
});
