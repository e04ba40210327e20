/** Test support: a TCP port on 127.0.0.1 that nothing listens on right now. */
import { createServer } from 'node:net';

/**
 * Asks the kernel for an ephemeral port and closes it again, so a child
 * process can listen there (and listen there again after a restart).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
