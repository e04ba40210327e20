/** The auth options: defaults applied once, bad values refused with INVALID_CONFIG naming the fix. */
import { expect } from 'chai';
import { resolveAuthOptions, type AuthMode } from '../../src/auth/authOptions.js';
import { InvalidConfigError, InvalidRequestError } from '../../src/protocol/errors.js';
import type { UserRecord } from '../../src/metadata/users.js';

const user = (name: string): UserRecord => ({ name, scram: {}, createdAt: 0 });

describe('auth options', () => {
  it('defaults to off, no file users, a 5 s user cache and a 10 s SASL timeout', () => {
    expect(resolveAuthOptions()).to.deep.equal({
      mode: 'off',
      users: new Map(),
      userCacheMs: 5000,
      saslTimeoutMs: 10_000,
    });
    expect([...resolveAuthOptions({ mode: 'required', users: [user('a'), user('b')] }).users.keys()]).to.deep.equal([
      'a',
      'b',
    ]);
  });

  it('refuses an unknown mode, negative or fractional times, and a user listed twice', () => {
    const bad: [() => unknown, typeof InvalidConfigError | typeof InvalidRequestError, string][] = [
      [
        () => resolveAuthOptions({ mode: 'on' as AuthMode }),
        InvalidConfigError,
        'auth mode must be one of off, optional, required',
      ],
      [() => resolveAuthOptions({ userCacheMs: -1 }), InvalidConfigError, 'userCacheMs must be an integer >= 0'],
      [() => resolveAuthOptions({ saslTimeoutMs: 1.5 }), InvalidConfigError, 'saslTimeoutMs must be an integer >= 0'],
      [() => resolveAuthOptions({ users: [user('a'), user('a')] }), InvalidConfigError, 'user a is listed twice'],
      [() => resolveAuthOptions({ users: [user('')] }), InvalidRequestError, 'user name must be 1 to 255 characters'],
    ];
    for (const [resolve, type, message] of bad) expect(resolve).to.throw(type, message);
  });
});
