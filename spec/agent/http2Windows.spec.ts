import { expect } from 'chai';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { useHttp2ReceiveWindow } from '../../src/agent/http2Windows.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';

/** The windows a client sees from a server at `port`: per stream (SETTINGS) and for the connection (after WINDOW_UPDATE). */
async function windowsOf(port: number): Promise<{ stream: number; connection: number }> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    await once(client, 'remoteSettings');
    // A ping round trip: every frame the server sent before its answer (its WINDOW_UPDATE) has been read.
    await new Promise<void>((resolve, reject) => client.ping((error) => (error ? reject(error) : resolve())));
    return { stream: client.remoteSettings.initialWindowSize!, connection: client.state.remoteWindowSize! };
  } finally {
    client.close();
  }
}

describe('agent/http2Windows', () => {
  async function serverWindows(options: http2.ServerOptions): Promise<{ stream: number; connection: number }> {
    const server = http2.createServer(options);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      return await windowsOf((server.address() as AddressInfo).port);
    } finally {
      server.close();
    }
  }

  it('makes HTTP/2 servers created afterwards announce the window per stream and grant it per connection', async () => {
    useHttp2ReceiveWindow(4 * 1024 * 1024);
    expect(await serverWindows({ settings: { maxConcurrentStreams: 7 } })).to.deep.equal({ stream: 4 * 1024 * 1024, connection: 4 * 1024 * 1024 });
    useHttp2ReceiveWindow(1024 * 1024);
    expect(await serverWindows({})).to.deep.equal({ stream: 1024 * 1024, connection: 1024 * 1024 });
    // A server asking for more keeps its own; the window never drops below HTTP/2's default.
    expect(await serverWindows({ settings: { initialWindowSize: 2 * 1024 * 1024 } })).to.deep.equal({ stream: 2 * 1024 * 1024, connection: 2 * 1024 * 1024 });
    useHttp2ReceiveWindow(10);
    expect(await serverWindows({})).to.deep.equal({ stream: 65_535, connection: 65_535 });
  });

  describe('an agent', () => {
    let stores: TestStores;
    let a: TestAgent;
    before(async () => {
      stores = await createTestStores('sqlite');
      a = await startTestAgent(stores, { maxRequestBytes: 48 * 1024 * 1024 });
    });
    after(async () => {
      await a.stop();
      await stores.cleanup();
    });

    it('receives with windows as large as the largest request it accepts', async () => {
      const port = Number(a.agent.address.split(':').pop());
      expect(await windowsOf(port)).to.deep.equal({ stream: 48 * 1024 * 1024, connection: 48 * 1024 * 1024 });
    });
  });
});
