/**
 * The server side of one SCRAM exchange (RFC 5802, SHA-256/512 per RFC
 * 7677), without channel binding:
 *
 *   client-first  `n,[a=<authzid>],n=<user>,r=<client nonce>[,<ext>]`
 *   server-first  `r=<client nonce><server nonce>,s=<salt>,i=<iterations>`
 *   client-final  `c=biws,r=[<client nonce>]<nonce>,p=<ClientProof>` (c = base64 of the gs2 header)
 *   server-final  `v=<ServerSignature>`
 *
 * An unknown user gets a salt derived from its name and a server secret, so
 * the exchange fails only at the proof, as a wrong password does.
 */
import { randomBytes } from 'node:crypto';
import type { ScramCredential, ScramMechanism, UserRecord } from '../metadata/users.js';
import { UnauthenticatedError } from '../protocol/errors.js';
import { digest, hmac, safeEqual, scramHash, DEFAULT_SCRAM_ITERATIONS } from './credentials.js';

/** Per-process key of the salts shown for unknown users (stable while the agent runs). */
const FAKE_SALT_KEY = randomBytes(32);
const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export class ScramServer {
  private state: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private gs2Header = '';
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';

  /** The user name the client-first message gave ('' before it). */
  get userName(): string {
    return this.user;
  }

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (name: string) => Promise<UserRecord | undefined>,
    /** The server's part of the nonce (24 random bytes, base64); fixed only in tests. */
    private readonly serverNonce: () => string = () => randomBytes(24).toString('base64'),
  ) {}

  /** Answers the client-first message. Throws UnauthenticatedError when it is malformed. */
  async first(message: Buffer): Promise<Buffer> {
    if (this.state !== 'first') throw fail('SCRAM client-first message out of order');
    this.state = 'final';
    const text = message.toString('utf8');
    const match = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
    if (match === null) throw fail('malformed SCRAM client-first message (channel binding is not supported)');
    this.gs2Header = `${match[1]},${match[2] ?? ''},`;
    this.clientFirstBare = match[3]!;
    const [userAttr, nonceAttr, ...extensions] = this.clientFirstBare.split(',');
    if (userAttr?.startsWith('n=') !== true || nonceAttr?.startsWith('r=') !== true) {
      throw fail('malformed SCRAM client-first message');
    }
    this.user = decodeSaslName(userAttr.slice(2));
    const authzid = match[2] === undefined ? undefined : decodeSaslName(match[2].slice(2));
    if (authzid !== undefined && authzid !== '' && authzid !== this.user) throw fail('SCRAM authzid differs from user');
    const clientNonce = nonceAttr.slice(2);
    if (!PRINTABLE_NONCE.test(clientNonce)) throw fail('malformed SCRAM nonce');
    if (extensions.some((e) => !/^[A-Za-z][A-Za-z0-9]*=/.test(e) || e.startsWith('m='))) {
      throw fail('malformed SCRAM extension');
    }
    // Delegation tokens (Kafka's tokenauth extension) are not supported.
    if (extensions.some((e) => e.startsWith('tokenauth='))) throw fail('SCRAM token authentication is not supported');
    const record = await this.lookup(this.user);
    this.credential = record?.scram[this.mechanism];
    const salt = this.credential?.salt ?? hmac('sha256', FAKE_SALT_KEY, this.user).toString('base64');
    const iterations = this.credential?.iterations ?? DEFAULT_SCRAM_ITERATIONS;
    this.nonce = clientNonce + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${salt},i=${iterations}`;
    return Buffer.from(this.serverFirst, 'utf8');
  }

  /** Checks the client-final message; returns the server-final message and the authenticated user. */
  final(message: Buffer): { user: string; response: Buffer } {
    if (this.state !== 'final') throw fail('SCRAM client-final message out of order');
    this.state = 'done';
    const text = message.toString('utf8');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw fail('malformed SCRAM client-final message');
    const withoutProof = text.slice(0, proofAt);
    const [binding, nonceAttr] = withoutProof.split(',');
    if (binding !== `c=${Buffer.from(this.gs2Header, 'utf8').toString('base64')}`) {
      throw fail('SCRAM channel binding does not match');
    }
    // Ends with, not equals: librdkafka sends its own nonce again in front (Kafka brokers accept that too).
    if (nonceAttr?.startsWith('r=') !== true || !nonceAttr.endsWith(this.nonce))
      throw fail('SCRAM nonce does not match');
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    const { hash } = scramHash(this.mechanism);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const credential = this.credential;
    const storedKey = Buffer.from(credential?.storedKey ?? '', 'base64');
    const clientSignature = hmac(hash, storedKey, authMessage);
    const clientKey = Buffer.alloc(clientSignature.length);
    for (let i = 0; i < clientKey.length; i++) clientKey[i] = (proof[i] ?? 0) ^ clientSignature[i]!;
    const proofOk = proof.length === clientSignature.length && safeEqual(digest(hash, clientKey), storedKey);
    if (!proofOk || credential === undefined) throw fail(`authentication failed for user ${this.user}`);
    const serverSignature = hmac(hash, Buffer.from(credential.serverKey, 'base64'), authMessage);
    return { user: this.user, response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') };
  }
}

/** saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is malformed. */
function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw fail('malformed SCRAM user name');
  const name = text.replace(/=2C/g, ',').replace(/=3D/g, '=');
  if (name.length === 0) throw fail('empty SCRAM user name');
  return name;
}

function fail(message: string): UnauthenticatedError {
  return new UnauthenticatedError(message);
}
