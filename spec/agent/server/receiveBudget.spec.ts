/**
 * The receive phase of large gRPC requests counts against
 * maxInflightRequestBytes: a burst of large requests from many connections,
 * sent only in part (so grpc-js would buffer them with no handler running),
 * holds at most the budget; the streams beyond it are reset at once with
 * REFUSED_STREAM, and the agent serves again once the senders go.
 */
import { expect } from 'chai';
import http2 from 'node:http2';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { waitFor } from '../../support/waitFor.js';

const MiB = 1024 * 1024;

/** Starts a Produce on `session` declaring a `declared`-byte message and sends only its first KiB. */
function partialProduce(session: http2.ClientHttp2Session, declared: number): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/streamhouse.v1.StreamHouse/Produce',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => undefined);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(declared, 1);
  stream.write(Buffer.concat([prefix, Buffer.alloc(1024)]));
  return stream;
}

describe('agent: request bytes being received', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { maxRequestBytes: 8 * MiB, maxInflightRequestBytes: 16 * MiB });
    await agent.connection.client.createTopic({ name: 't', partitions: 1 });
  });
  afterEach(async () => {
    await agent.kill();
    await stores.cleanup();
  });

  it('holds a burst of 20 large requests from 10 connections to the budget, refusing the rest at once', async () => {
    const sessions = Array.from({ length: 10 }, () => http2.connect(`http://${agent.agent.address}`));
    try {
      for (const session of sessions) session.on('error', () => undefined);
      const streams = sessions.flatMap((session) => [
        partialProduce(session, 6 * MiB),
        partialProduce(session, 6 * MiB),
      ]);
      // Two 6 MiB messages fit in 16 MiB; the 18 others are reset without being read.
      await waitFor(() => streams.filter((s) => s.closed).length === 18, '18 streams to be reset');
      expect(streams.filter((s) => s.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM)).to.have.length(18);
      expect(agent.agent.receiveStats.refusedStreams).to.equal(18);
      expect(agent.agent.inflightRequestBytes).to.deep.include({ bytes: 12 * MiB, peakBytes: 12 * MiB });
      // Small calls are not counted and go on being served.
      expect((await agent.connection.client.listTopics({})).names).to.deep.equal(['t']);
    } finally {
      for (const session of sessions) session.destroy();
    }
    await waitFor(() => agent.agent.inflightRequestBytes.bytes === 0, 'the stalled senders to release their bytes');
    expect(await produce(agent.connection, 't', 0, records(1))).to.equal(0);
    expect(agent.agent.inflightRequestBytes.peakBytes).to.equal(12 * MiB);
  });

  it('refuses a declared message larger than the budget left, but serves one that fits', async () => {
    const session = http2.connect(`http://${agent.agent.address}`);
    session.on('error', () => undefined);
    try {
      const first = partialProduce(session, 7 * MiB);
      const second = partialProduce(session, 7 * MiB);
      await waitFor(() => agent.agent.inflightRequestBytes.bytes === 14 * MiB, 'two messages to be counted');
      const third = partialProduce(session, 3 * MiB);
      await new Promise((resolve) => third.once('close', resolve));
      expect(third.rstCode).to.equal(http2.constants.NGHTTP2_REFUSED_STREAM);
      const fourth = partialProduce(session, 2 * MiB);
      await waitFor(() => agent.agent.inflightRequestBytes.bytes === 16 * MiB, 'the fourth message to be counted');
      expect([second.closed, fourth.closed]).to.deep.equal([false, false]);
      first.close();
      await waitFor(() => agent.agent.inflightRequestBytes.bytes === 9 * MiB, 'the closed stream to release');
    } finally {
      session.destroy();
    }
  });

  it('leaves a message declared larger than any request to grpc-js, which refuses it; reserves nothing', async () => {
    const session = http2.connect(`http://${agent.agent.address}`);
    session.on('error', () => undefined);
    try {
      const huge = partialProduce(session, 0xfffffff0);
      const status = new Promise<unknown>((resolve) => {
        huge.once('response', (headers) => headers['grpc-status'] !== undefined && resolve(headers['grpc-status']));
        huge.once('trailers', (trailers) => resolve(trailers['grpc-status']));
      });
      expect(await status).to.equal('8');
      expect(agent.agent.inflightRequestBytes.bytes).to.equal(0);
      expect(agent.agent.receiveStats.refusedStreams).to.equal(0);
      expect((await agent.connection.client.listTopics({})).names).to.deep.equal(['t']);
    } finally {
      session.destroy();
    }
  });
});
