/**
 * What a handler sees as the principal behind the agent's interceptor and
 * auth middleware, on a real nice-grpc server: the token's user, never a
 * principal the client claims in metadata itself.
 */
import { expect } from 'chai';
import { createChannel, createClient, createServer, Metadata, type Server } from 'nice-grpc';
import type { CallContext } from 'nice-grpc-common';
import { Authenticator } from '../../src/auth/authenticator.js';
import { resolveAuthOptions } from '../../src/auth/authOptions.js';
import { mintToken, tokenSha256 } from '../../src/auth/credentials.js';
import { authMiddleware } from '../../src/auth/grpcAuth.js';
import { PRINCIPAL_METADATA_KEY, principalInterceptor, principalOf } from '../../src/agent/tls/principal.js';
import { errorMiddleware } from '../../src/agent/server/errorMiddleware.js';
import { HealthDefinition, type HealthCheckRequest } from '../../src/agent/server/grpcHealth.js';

describe('principal of a gRPC call', () => {
  const token = mintToken('alice');
  const seen: (string | undefined)[] = [];
  let server: Server;
  let address: string;

  before(async () => {
    const users = [{ name: 'alice', scram: {}, tokenSha256: tokenSha256(token), createdAt: 0 }];
    const authenticator = new Authenticator(resolveAuthOptions({ mode: 'optional', users }), undefined);
    server = createServer({ interceptors: [principalInterceptor(undefined)] }).use(errorMiddleware);
    server.with(authMiddleware(authenticator)).add(HealthDefinition, {
      check: async (_request: HealthCheckRequest, context: CallContext) => {
        seen.push(principalOf(context));
        return { status: 1 };
      },
      async *watch() {},
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  });

  after(async () => {
    await server?.shutdown();
  });

  it('is the token user, and a principal the client claims itself is dropped', async () => {
    const channel = createChannel(address);
    const client = createClient(HealthDefinition, channel);
    try {
      const claim = Metadata({ [PRINCIPAL_METADATA_KEY]: Buffer.from('admin') });
      await client.check({ service: '' }, { metadata: claim });
      await client.check({ service: '' }, { metadata: Metadata(claim).set('authorization', `Bearer ${token}`) });
      await client.check({ service: '' });
      expect(seen).to.deep.equal([undefined, 'alice', undefined]);
    } finally {
      channel.close();
    }
  });
});
