import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, ServeProcess } from './cliSupport.js';
import { peerSerial, TestCertificates, type Certificate } from '../support/certificates.js';
import { waitFor } from '../support/waitFor.js';

describe('cli: serve and the client commands over TLS', function () {
  this.timeout(60_000);
  const certs = new TestCertificates();
  let ca: Certificate;
  let alice: Certificate;
  let dataDir: string;
  let serve: ServeProcess | undefined;
  const live = { cert: join(certs.dir, 'serve.crt'), key: join(certs.dir, 'serve.key') };

  before(() => {
    ca = certs.ca('cli-ca');
    const server = certs.signed(ca, 'cli-server', 'agent.test', 4001, 'server');
    alice = certs.signed(ca, 'cli-alice', 'alice', 4002, 'client');
    copyFileSync(server.certFile, live.cert);
    copyFileSync(server.keyFile, live.key);
    dataDir = mkdtempSync(join(tmpdir(), 'sh-serve-tls-'));
  });
  after(async () => {
    await serve?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves mutual TLS; clients with --tls-* flags produce and consume; SIGHUP reloads the certificate', async () => {
    serve = await ServeProcess.start([
      ...['--port', '0', '--no-kafka', '--http-port', '0', '--data-dir', dataDir],
      ...['--tls-cert', live.cert, '--tls-key', live.key, '--tls-ca', ca.certFile, '--tls-client-auth', 'required'],
    ]);
    const address = serve.address;
    // The banner says how to reach a TLS agent: https addresses and the client's CA flag on every hint.
    expect(serve.stdout).to.contain('\n  tls:      every port (clients need its CA)\n');
    expect(serve.stdout).to.match(/\n {2}console: {2}https:\/\/127\.0\.0\.1:\d+\/\n/);
    expect(serve.stdout).to.contain(`consume demo --from-beginning --agent ${address} --tls-ca <ca.crt>\n`);
    const tls = ['--agent', address, '--tls-ca', ca.certFile, '--tls-cert', alice.certFile, '--tls-key', alice.keyFile];
    expect((await runCli(['topics', 'create', 'secure', ...tls])).code).to.equal(0);
    expect((await runCli(['produce', 'secure', ...tls], { input: 'hello\nworld\n' })).code).to.equal(0);
    const consumed = await runCli(['consume', 'secure', '--from-beginning', '-n', '2', ...tls]);
    expect(consumed.stdout).to.equal('hello\nworld\n');

    const plain = await runCli(['topics', 'list', '--agent', address]);
    expect(plain.code).to.equal(1);
    expect(plain.stderr).to.contain('error AGENT_UNAVAILABLE');
    const noCert = await runCli(['topics', 'list', '--agent', address, '--tls-ca', ca.certFile]);
    expect(noCert.code).to.equal(1);
    expect(noCert.stderr).to.contain('error AGENT_UNAVAILABLE');

    expect(await peerSerial(address, ca.cert)).to.equal('0FA1'); // 4001
    const renewed = certs.signed(ca, 'cli-server-renewed', 'agent.test', 4003, 'server');
    copyFileSync(renewed.certFile, live.cert);
    copyFileSync(renewed.keyFile, live.key);
    serve.signal('SIGHUP');
    await waitFor(() => serve!.stderr.includes('TLS certificates reloaded'), 'the reload to be logged');
    expect(await peerSerial(address, ca.cert)).to.equal('0FA3'); // 4003
    expect((await runCli(['topics', 'list', ...tls])).stdout).to.equal('secure\n');
    const stopped = await serve.stop();
    expect(stopped.code).to.equal(0);
  });

  it('refuses incomplete TLS flags with a message naming them', async () => {
    const noKey = await runCli(['serve', '--no-kafka', '--data-dir', dataDir, '--tls-cert', live.cert]);
    expect(noKey.code).to.equal(1);
    expect(noKey.stderr).to.contain('error INVALID_CONFIG: --tls-cert and --tls-key go together');
    const badMode = await runCli(['serve', '--no-kafka', '--data-dir', dataDir, '--tls-client-auth', 'maybe']);
    expect(badMode.code).to.equal(1);
    expect(badMode.stderr).to.contain("argument 'maybe' is invalid");
    const missingCa = await runCli(['topics', 'list', '--tls-ca', join(certs.dir, 'missing.crt')]);
    expect(missingCa.code).to.equal(1);
    expect(missingCa.stderr).to.contain('error INVALID_CONFIG: --tls-ca');
  });
});
