/**
 * principalOf on a real nice-grpc server with the agent's interceptor: the
 * verified client certificate's CN, never a principal the client claims in
 * its own metadata.
 */
import { expect } from 'chai';
import { createChannel, createClient, createServer, Metadata, type Server } from 'nice-grpc';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { principalInterceptor, principalOf, PRINCIPAL_METADATA_KEY } from '../../../src/agent/tls/principal.js';
import { TlsCertificates } from '../../../src/agent/tls/tlsCertificates.js';
import { resolveTlsOptions } from '../../../src/agent/tls/tlsOptions.js';
import { tlsChannel, type ClientTlsOptions } from '../../../src/client/tlsOptions.js';
import { TestCertificates, type Certificate } from '../../support/certificates.js';

const text = {
  serialize: (value: string) => Buffer.from(value),
  deserialize: (bytes: Buffer) => bytes.toString(),
};
const WhoService = {
  who: {
    path: '/test.Who/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: text.serialize,
    responseDeserialize: text.deserialize,
  },
} satisfies ServiceDefinition;

describe('agent/tls/principal', function () {
  this.timeout(20_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let server: Certificate;
  let alice: Certificate;
  let running: Server | undefined;

  before(() => {
    ca = certs.ca('principal-ca');
    server = certs.signed(ca, 'principal-server', 'agent.test', 5001, 'server');
    alice = certs.signed(ca, 'principal-alice', 'alice', 5002, 'client');
  });
  afterEach(() => running?.forceShutdown());

  /** A server answering each call with its principal (or `-`), over TLS with client auth when `tls`. */
  const serve = async (tls: boolean): Promise<number> => {
    running = createServer({ interceptors: [principalInterceptor(undefined)] });
    running.add(WhoService, { who: async (_request: Buffer, context) => principalOf(context) ?? '-' });
    const credentials = tls
      ? (
          await TlsCertificates.load(
            resolveTlsOptions({
              certFile: server.certFile,
              keyFile: server.keyFile,
              caFile: ca.certFile,
              clientAuth: 'optional',
            }),
          )
        ).credentials()
      : undefined;
    return running.listen('127.0.0.1:0', credentials);
  };
  const who = async (port: number, tls: ClientTlsOptions | undefined, claimed?: string): Promise<string> => {
    const secure = tls === undefined ? undefined : tlsChannel(tls);
    const channel = createChannel(`127.0.0.1:${port}`, secure?.credentials, secure?.options);
    try {
      const metadata = new Metadata();
      if (claimed !== undefined) metadata.set(PRINCIPAL_METADATA_KEY, Buffer.from(claimed));
      return await createClient(WhoService, channel).who(Buffer.alloc(0), { metadata });
    } finally {
      channel.close();
    }
  };

  it('is the CN of the verified client certificate, whatever the client claims', async () => {
    const port = await serve(true);
    const mtls = { ca: ca.cert, cert: alice.cert, key: alice.key };
    expect(await who(port, mtls)).to.equal('alice');
    expect(await who(port, mtls, 'root')).to.equal('alice');
    expect(await who(port, { ca: ca.cert })).to.equal('-');
    expect(await who(port, { ca: ca.cert }, 'root')).to.equal('-');
  });

  it('is undefined without TLS, even when the client claims one', async () => {
    const port = await serve(false);
    expect(await who(port, undefined, 'root')).to.equal('-');
  });
});
