/**
 * SCRAM and the stored secrets: RFC 7677's SCRAM-SHA-256 exchange as a
 * golden vector, PLAIN and tokens against derived secrets, and hostile
 * client messages (each a typed UNAUTHENTICATED, never a crash).
 */
import { expect } from 'chai';
import { Authenticator } from '../../src/auth/authenticator.js';
import { resolveAuthOptions } from '../../src/auth/authOptions.js';
import { mintToken, scramCredential, tokenSha256, tokenUserName, verifyPassword } from '../../src/auth/credentials.js';
import { ScramServer } from '../../src/auth/scramServer.js';
import type { UserRecord } from '../../src/metadata/users.js';
import { UnauthenticatedError } from '../../src/protocol/errors.js';

const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

async function rfcUser(): Promise<UserRecord> {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  return {
    name: 'user',
    scram: { 'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', 'pencil', 4096, salt) },
    createdAt: 0,
  };
}

async function unauthenticated(work: () => unknown): Promise<UnauthenticatedError> {
  try {
    await work();
  } catch (error) {
    expect(error).to.be.instanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).retriable).to.equal(false);
    return error as UnauthenticatedError;
  }
  throw new Error('expected UnauthenticatedError');
}

describe('SCRAM and stored credentials', () => {
  it('runs the RFC 7677 SCRAM-SHA-256 exchange byte for byte', async () => {
    const user = await rfcUser();
    const server = new ScramServer(
      'SCRAM-SHA-256',
      async (name) => (name === 'user' ? user : undefined),
      () => SERVER_NONCE,
    );
    expect((await server.first(Buffer.from(CLIENT_FIRST))).toString()).to.equal(SERVER_FIRST);
    const { user: name, response } = server.final(Buffer.from(CLIENT_FINAL));
    expect([name, response.toString()]).to.deep.equal(['user', SERVER_FINAL]);
  });

  it('refuses a wrong proof, a changed nonce or channel binding, and a second final message', async () => {
    const user = await rfcUser();
    const lookup = async () => user;
    const cases = [
      CLIENT_FINAL.replace('p=dHzb', 'p=eHzb'),
      CLIENT_FINAL.replace('r=rOpr', 'r=xOpr'),
      CLIENT_FINAL.replace('c=biws', 'c=eSws'),
      'c=biws,r=x',
      '',
    ];
    for (const final of cases) {
      const server = new ScramServer('SCRAM-SHA-256', lookup, () => SERVER_NONCE);
      await server.first(Buffer.from(CLIENT_FIRST));
      await unauthenticated(() => server.final(Buffer.from(final)));
      await unauthenticated(() => server.final(Buffer.from(CLIENT_FINAL)));
    }
  });

  it('answers an unknown user with a stable made-up salt and fails only at the proof', async () => {
    const lookup = async () => undefined;
    const a = new ScramServer('SCRAM-SHA-512', lookup, () => 'n1');
    const b = new ScramServer('SCRAM-SHA-512', lookup, () => 'n1');
    const first = (await a.first(Buffer.from('n,,n=ghost,r=abc'))).toString();
    expect(first).to.equal((await b.first(Buffer.from('n,,n=ghost,r=abc'))).toString());
    expect(first).to.match(/^r=abcn1,s=[A-Za-z0-9+/]{43}=,i=4096$/);
    const error = await unauthenticated(() =>
      a.final(Buffer.from(`c=biws,r=abcn1,p=${Buffer.alloc(64).toString('base64')}`)),
    );
    expect(error.message).to.equal('authentication failed for user ghost');
  });

  it('refuses hostile client-first messages with UNAUTHENTICATED', async () => {
    const hostile = [
      'p=tls-server-end-point,,n=user,r=abc',
      'n,a=other,n=user,r=abc',
      'n,,n=us=er,r=abc',
      'n,,n=,r=abc',
      'n,,r=abc,n=user',
      'n,,n=user,r=a,b',
      'n,,n=user,r=abc,tokenauth=true',
      'n,,n=user,r=ab\u0001c',
      '\u0000\u0000\u0000',
      'x'.repeat(10_000),
    ];
    for (const message of hostile) {
      const server = new ScramServer('SCRAM-SHA-256', async () => undefined);
      await unauthenticated(() => server.first(Buffer.from(message)));
    }
  });

  it('checks PLAIN passwords against the SCRAM-derived secret, and tokens against their hash', async () => {
    const token = mintToken('alice');
    const alice: UserRecord = {
      name: 'alice',
      scram: { 'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'correct horse') },
      tokenSha256: tokenSha256(token),
      createdAt: 0,
    };
    expect(await verifyPassword(alice, 'correct horse')).to.equal(true);
    expect(await verifyPassword(alice, 'correct horsE')).to.equal(false);
    expect(await verifyPassword(undefined, 'correct horse')).to.equal(false);
    expect(tokenUserName(token)).to.equal('alice');
    const auth = new Authenticator(resolveAuthOptions({ mode: 'required', users: [alice] }), undefined);
    expect(await auth.authenticateToken(token)).to.equal('alice');
    expect(await auth.authenticatePlain(Buffer.from('\0alice\0correct horse'))).to.equal('alice');
    expect(await auth.authenticatePlain(Buffer.from('alice\0alice\0correct horse'))).to.equal('alice');
    const bad = [
      `${token.slice(0, -1)}A`,
      mintToken('alice'),
      mintToken('nobody'),
      'not-a-token',
      `${token}.x`,
      'x'.repeat(2000),
    ];
    for (const t of bad) await unauthenticated(() => auth.authenticateToken(t));
    for (const plain of ['\0alice\0wrong', 'bob\0alice\0correct horse', '\0\0', 'no separators', '\0alice\0a\0b']) {
      await unauthenticated(() => auth.authenticatePlain(Buffer.from(plain)));
    }
    await unauthenticated(() => auth.authenticatePlain(Buffer.alloc(5000)));
  });
});

describe('password checks under a flood', () => {
  it('runs at most 2 at once, queues 64 more and refuses the rest at once, then recovers', async () => {
    const alice: UserRecord = {
      name: 'alice',
      scram: { 'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', 'pw') },
      createdAt: 0,
    };
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () =>
        verifyPassword(alice, 'pw').then(
          (ok) => (ok ? 'ok' : 'wrong'),
          (error: Error) => error.message,
        ),
      ),
    );
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    expect(Object.fromEntries(counts)).to.deep.equal({
      ok: 66,
      'too many authentication attempts at once: try again later': 34,
    });
    expect(await verifyPassword(alice, 'pw')).to.equal(true);
  });
});
