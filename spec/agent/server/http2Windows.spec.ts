import { expect } from 'chai';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { withHttp2ReceiveWindow } from '../../../src/agent/server/http2Windows.js';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';

/**
 * The windows a client sees from a server at `port`: per stream (SETTINGS) and for the connection (after
 * WINDOW_UPDATE).
 */
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
  /** Windows of a server created and listening inside `around` (or outside any when not given). */
  async function serverWindows(
    options: http2.ServerOptions,
    around?: (start: () => Promise<void>) => Promise<void>,
  ): Promise<{ stream: number; connection: number }> {
    let server: http2.Http2Server | undefined;
    const start = async (): Promise<void> => {
      server = http2.createServer(options);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    };
    await (around === undefined ? start() : around(start));
    try {
      return await windowsOf((server!.address() as AddressInfo).port);
    } finally {
      server!.close();
    }
  }

  const MIB = 1024 * 1024;

  it('gives servers created while an agent starts the per-stream and connection window, and no others', async () => {
    expect(
      await serverWindows({ settings: { maxConcurrentStreams: 7 } }, (start) => withHttp2ReceiveWindow(4 * MIB, start)),
    ).to.deep.equal({ stream: 4 * MIB, connection: 4 * MIB });
    // Outside, before and after: Node's defaults.
    expect(await serverWindows({})).to.deep.equal({ stream: 65_535, connection: 65_535 });
    // A server asking for more keeps its own; the window never drops below HTTP/2's default.
    expect(
      await serverWindows({ settings: { initialWindowSize: 2 * MIB } }, (start) => withHttp2ReceiveWindow(MIB, start)),
    ).to.deep.equal({ stream: 2 * MIB, connection: 2 * MIB });
    expect(await serverWindows({}, (start) => withHttp2ReceiveWindow(10, start))).to.deep.equal({
      stream: 65_535,
      connection: 65_535,
    });
  });

  it('takes the largest window of agents starting at the same time, and forgets each when its start ends', async () => {
    let inner: { stream: number; connection: number } | undefined;
    await withHttp2ReceiveWindow(MIB, async () => {
      await withHttp2ReceiveWindow(3 * MIB, async () => {
        inner = await serverWindows({});
      });
      expect(await serverWindows({})).to.deep.equal({ stream: MIB, connection: MIB });
    });
    expect(inner).to.deep.equal({ stream: 3 * MIB, connection: 3 * MIB });
    expect(await serverWindows({})).to.deep.equal({ stream: 65_535, connection: 65_535 });
    // A failed start is forgotten too.
    await withHttp2ReceiveWindow(5 * MIB, () => Promise.reject(new Error('bind failed'))).catch(() => undefined);
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
