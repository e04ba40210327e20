import { expect } from 'chai';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { HealthResponse_Status } from '../../../src/protocol/index.js';
import { connectAgent } from '../../../src/client/agentClient.js';
import { waitFor } from '../../support/waitFor.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';

/** A raw TCP socket to the agent, connected, that tracks whether the server closed it. */
async function rawSocket(address: string): Promise<{ socket: net.Socket; closed: () => boolean }> {
  const [host, port] = address.split(':');
  const socket = net.connect(Number(port), host);
  socket.on('error', () => undefined);
  // Reading, so that the server's close is seen.
  socket.resume();
  let closed = false;
  socket.on('close', () => (closed = true));
  await once(socket, 'connect');
  return { socket, closed: () => closed };
}

describe('agent: connection limits', function () {
  this.timeout(20_000);
  let stores: TestStores;
  let agent: TestAgent;
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await agent.stop();
    await stores.cleanup();
  });

  const healthy = async (address: string) => {
    const client = connectAgent(address);
    try {
      return (await client.client.health({})).status === HealthResponse_Status.SERVING;
    } finally {
      client.close();
    }
  };

  it('closes connections beyond maxConnections at once and serves again once some close', async () => {
    agent = await startTestAgent(stores, { maxConnections: 4, handshakeTimeoutMs: 60_000 });
    const address = agent.agent.address;
    await agent.connection.client.health({});
    const held = [];
    for (let i = 0; i < 3; i++) {
      held.push(await rawSocket(address));
      sockets.push(held[i]!.socket);
    }
    await waitFor(() => agent.agent.connections.open === 4, 'four open connections');
    const extra = [await rawSocket(address), await rawSocket(address)];
    sockets.push(...extra.map((e) => e.socket));
    await waitFor(() => extra.every((e) => e.closed()), 'the extra connections to be closed');
    expect(agent.agent.connections).to.deep.equal({ open: 4, refused: 2, handshakeTimeouts: 0, refusedPerAddress: 0 });
    expect(held.some((h) => h.closed())).to.equal(false);
    // The connection it had keeps working.
    expect((await agent.connection.client.health({})).status).to.equal(HealthResponse_Status.SERVING);

    for (const h of held) h.socket.destroy();
    await waitFor(() => agent.agent.connections.open === 1, 'the raw connections to close');
    expect(await healthy(address)).to.equal(true);
  });

  it('closes a connection that never completes its HTTP/2 handshake', async () => {
    agent = await startTestAgent(stores, { handshakeTimeoutMs: 200 });
    const address = agent.agent.address;
    const silent = await rawSocket(address);
    const partial = await rawSocket(address);
    partial.socket.write('PRI * HTTP/2.0\r\n');
    sockets.push(silent.socket, partial.socket);
    await waitFor(() => silent.closed() && partial.closed(), 'the silent connections to be closed');
    expect(agent.agent.connections).to.deep.include({ handshakeTimeouts: 2 });
    // A real client completes its handshake and is served.
    expect(await healthy(address)).to.equal(true);
    expect(agent.agent.connections).to.deep.include({ handshakeTimeouts: 2 });
  });

  it('closes a connection idle for connectionIdleTimeoutMs; the client reconnects when it calls again', async () => {
    agent = await startTestAgent(stores, { connectionIdleTimeoutMs: 300 });
    const address = agent.agent.address;
    const session = http2.connect(`http://${address}`);
    session.on('error', () => undefined);
    await once(session, 'remoteSettings');
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    await once(session, 'close');
    expect(goaway).to.equal(true);
    expect(await healthy(address)).to.equal(true);
  });
});
