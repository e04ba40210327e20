/**
 * A self-signed CA and a server certificate for 127.0.0.1/localhost signed by
 * it, made with `openssl` in a temporary directory, for the benches' TLS runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type BenchCertificates = {
  /** The agent's `serve` flags: `--tls-cert <file> --tls-key <file>`. */
  agentArgs: string[];
  /** The clients' `tls` option: trust the CA, check the name `localhost`. */
  clientTls: { ca: Buffer; servername: string };
  remove(): void;
};

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeBenchCertificates(): BenchCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'sh-bench-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=ca',
  );
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(
    'req',
    '-new',
    ...EC_KEY,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=localhost',
  );
  openssl(
    ...['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')],
    ...['-set_serial', '1', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.crt')],
  );
  return {
    agentArgs: ['--tls-cert', file('server.crt'), '--tls-key', file('server.key')],
    clientTls: { ca: readFileSync(file('ca.crt')), servername: 'localhost' },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
