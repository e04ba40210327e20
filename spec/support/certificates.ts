/**
 * Test support: real certificates made with `openssl` in a temp directory: a
 * CA, server certificates for 127.0.0.1/localhost signed by it, client
 * certificates from it and from another CA, and expired ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';

export type Certificate = { certFile: string; keyFile: string; cert: Buffer; key: Buffer };

export class TestCertificates {
  readonly dir = mkdtempSync(join(tmpdir(), 'sh-tls-'));

  /** A self-signed CA named `name`. */
  ca(name: string): Certificate {
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    openssl('req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`);
    return read(certFile, keyFile);
  }

  /** A certificate for `cn`, signed by `ca`, with `serial`; a server one carries SANs 127.0.0.1 and localhost. */
  signed(ca: Certificate, file: string, cn: string, serial: number, usage: 'server' | 'client'): Certificate {
    const certFile = join(this.dir, `${file}.crt`);
    const keyFile = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const ext = join(this.dir, `${file}.ext`);
    writeFileSync(ext, extensions(usage));
    openssl('req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`);
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-set_serial',
      String(serial),
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      certFile,
    );
    return read(certFile, keyFile);
  }

  /** A certificate for `cn` signed by `ca` that was valid on 1 January 2020 only (`openssl ca -startdate/-enddate`). */
  expired(ca: Certificate, file: string, cn: string, usage: 'server' | 'client'): Certificate {
    const dir = mkdtempSync(join(this.dir, `${file}-`));
    const certFile = join(this.dir, `${file}.crt`);
    const keyFile = join(this.dir, `${file}.key`);
    const csr = join(dir, 'request.csr');
    const ext = join(dir, 'extensions');
    const config = join(dir, 'ca.cnf');
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '2020\n');
    writeFileSync(ext, extensions(usage));
    writeFileSync(
      config,
      `[ca]\ndefault_ca = test\n[test]\ndatabase = ${dir}/index.txt\nnew_certs_dir = ${dir}\nserial = ${dir}/serial\n` +
        'default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n',
    );
    openssl('req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`);
    openssl(
      ...['ca', '-batch', '-notext', '-config', config, '-cert', ca.certFile, '-keyfile', ca.keyFile, '-in', csr],
      ...['-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', ext, '-out', certFile],
    );
    return read(certFile, keyFile);
  }
}

function extensions(usage: 'server' | 'client'): string {
  return usage === 'server'
    ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
    : 'extendedKeyUsage=clientAuth\n';
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function read(certFile: string, keyFile: string): Certificate {
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** The serial (hex) of the certificate a new TLS connection (ALPN h2, SNI localhost) to `address` is shown. */
export function peerSerial(address: string, ca: Buffer): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), ca, ALPNProtocols: ['h2'], servername: 'localhost' });
    socket.setTimeout(3000, () => socket.destroy(new Error('no TLS handshake within 3 s')));
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
