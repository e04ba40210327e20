/**
 * Deriving and checking secrets with node:crypto: SCRAM credentials from a
 * password (RFC 5802 §3, SHA-256/512 per RFC 7677), bearer tokens and their
 * hashes. Every comparison of secret-derived bytes is constant-time.
 *
 * A token is `<base64url(user name)>.<base64url(32 random bytes)>`: the name
 * finds the user, the SHA-256 of the whole token must match its record.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { ScramCredential, ScramMechanism, UserRecord } from '../metadata/users.js';
import { UnauthenticatedError } from '../protocol/errors.js';

const pbkdf2Async = promisify(pbkdf2);

/** PBKDF2 iterations of new SCRAM credentials (Kafka's default and RFC 7677's minimum). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

/** The hash of a SCRAM mechanism and its output length, bytes. */
export function scramHash(mechanism: ScramMechanism): { hash: 'sha256' | 'sha512'; bytes: number } {
  return mechanism === 'SCRAM-SHA-256' ? { hash: 'sha256', bytes: 32 } : { hash: 'sha512', bytes: 64 };
}

export function hmac(hash: string, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: string, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** SaltedPassword := Hi(Normalize(password), salt, i); passwords are used as their UTF-8 bytes (no SASLprep). */
export async function saltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const { hash, bytes } = scramHash(mechanism);
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, bytes, hash);
}

/** The stored credential for `password`: StoredKey and ServerKey under `salt` (default 32 fresh random bytes). */
export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(32),
): Promise<ScramCredential> {
  const { hash } = scramHash(mechanism);
  const salted = await saltedPassword(mechanism, password, salt, iterations);
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: digest(hash, hmac(hash, salted, 'Client Key')).toString('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

/** Constant-time equality of two byte strings (false, still in constant time for `a`, when lengths differ). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** PBKDF2 runs on libuv's small thread pool, shared with file I/O: at most this many password checks at once. */
export const MAX_CONCURRENT_PASSWORD_CHECKS = 2;
/** Checks waiting beyond this fail at once (UnauthenticatedError): a flood of logins cannot queue without bound. */
export const MAX_WAITING_PASSWORD_CHECKS = 64;

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `work` within the password-check bound. */
async function bounded<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_PASSWORD_CHECKS) {
    if (waiting.length >= MAX_WAITING_PASSWORD_CHECKS) {
      throw new UnauthenticatedError('too many authentication attempts at once: try again later');
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  }
}

/**
 * Whether `password` is the user's: checked against the first SCRAM
 * credential the user has. Without a user (undefined) the same work is done
 * on a dummy credential, so an unknown name takes as long as a wrong password.
 */
export async function verifyPassword(user: UserRecord | undefined, password: string): Promise<boolean> {
  const entry = user === undefined ? undefined : Object.entries(user.scram)[0];
  const [mechanism, credential] = (entry ?? ['SCRAM-SHA-256', DUMMY_CREDENTIAL]) as [ScramMechanism, ScramCredential];
  const { hash } = scramHash(mechanism);
  const salt = Buffer.from(credential.salt, 'base64');
  const salted = await bounded(() => saltedPassword(mechanism, password, salt, credential.iterations));
  const storedKey = digest(hash, hmac(hash, salted, 'Client Key'));
  return safeEqual(storedKey, Buffer.from(credential.storedKey, 'base64')) && entry !== undefined;
}

const DUMMY_CREDENTIAL: ScramCredential = {
  salt: Buffer.alloc(32).toString('base64'),
  iterations: DEFAULT_SCRAM_ITERATIONS,
  storedKey: Buffer.alloc(32).toString('base64'),
  serverKey: Buffer.alloc(32).toString('base64'),
};

/** A new bearer token for `name`. Shown once; only its hash is kept. */
export function mintToken(name: string): string {
  return `${Buffer.from(name, 'utf8').toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}

/** Hex SHA-256 of a token, as records keep it. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Longest token accepted: longer ones are refused before any work. */
export const MAX_TOKEN_LENGTH = 1024;

/** The user name a token claims, or undefined when it is not shaped as a token. */
export function tokenUserName(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (match === null) return undefined;
  const name = Buffer.from(match[1]!, 'base64url').toString('utf8');
  return name.length > 0 ? name : undefined;
}

/** Whether `token` is the user's (constant-time on the hashes). */
export function verifyToken(user: UserRecord | undefined, token: string): boolean {
  const expected = Buffer.from(user?.tokenSha256 ?? '0'.repeat(64), 'hex');
  return safeEqual(Buffer.from(tokenSha256(token), 'hex'), expected) && user?.tokenSha256 !== undefined;
}
