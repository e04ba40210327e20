/**
 * Users who may authenticate to agents, as the metadata store keeps them
 * (and the `--auth-file` lists them): a name and only derived secrets, never
 * a password or a token.
 *
 * - SCRAM credentials per mechanism (RFC 5802): salt, iteration count,
 *   StoredKey and ServerKey. PLAIN passwords are checked against them.
 * - `tokenSha256`: the SHA-256 of the user's bearer token, which is minted
 *   with 256 random bits, so a fast hash is enough.
 */
import { InvalidRequestError } from '../protocol/errors.js';

/** The SCRAM mechanisms a user can have credentials for. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** RFC 5802 server-side credential: what verifies a password without keeping it. */
export type ScramCredential = {
  /** Base64 salt. */
  salt: string;
  /** PBKDF2 iterations, 4096 to 1,000,000. */
  iterations: number;
  /** Base64 H(ClientKey). */
  storedKey: string;
  /** Base64 HMAC(SaltedPassword, "Server Key"). */
  serverKey: string;
};

export type UserRecord = {
  /** 1 to 255 characters, no control characters. */
  name: string;
  /** Credentials by mechanism; a user without any cannot log in with a password. */
  scram: Partial<Record<ScramMechanism, ScramCredential>>;
  /** Hex SHA-256 of the user's bearer token, when one was minted. */
  tokenSha256?: string;
  /** When the user was added, ms since the epoch. */
  createdAt: number;
};

/** Users in a metadata store, shared by every agent on it. */
export interface UserStore {
  /** Adds the user, or replaces the one of that name. InvalidRequestError for a malformed record. */
  putUser(user: UserRecord): Promise<void>;
  /** The user of that name, or undefined. */
  getUser(name: string): Promise<UserRecord | undefined>;
  /** Every user, sorted by name. */
  listUsers(): Promise<UserRecord[]>;
  /** Removes the user; false when there was none of that name. */
  deleteUser(name: string): Promise<boolean>;
}

export const MAX_USER_NAME_LENGTH = 255;
export const MIN_SCRAM_ITERATIONS = 4096;
export const MAX_SCRAM_ITERATIONS = 1_000_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Throws InvalidRequestError unless `name` is 1..255 characters without control characters. */
export function validateUserName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_USER_NAME_LENGTH) {
    throw new InvalidRequestError(`user name must be 1 to ${MAX_USER_NAME_LENGTH} characters`);
  }
  if (CONTROL_CHARACTERS.test(name)) throw new InvalidRequestError('user name must not contain control characters');
}

/** Checks a record read from JSON (store or auth file); returns it typed or throws InvalidRequestError. */
export function checkUserRecord(value: unknown): UserRecord {
  if (typeof value !== 'object' || value === null) throw new InvalidRequestError('user record must be an object');
  const { name, scram, tokenSha256, createdAt } = value as Record<string, unknown>;
  validateUserName(name);
  if (typeof scram !== 'object' || scram === null)
    throw new InvalidRequestError(`user ${name}: scram must be an object`);
  const credentials: UserRecord['scram'] = {};
  for (const [mechanism, credential] of Object.entries(scram)) {
    if (!(SCRAM_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new InvalidRequestError(`user ${name}: unknown mechanism ${mechanism}`);
    }
    credentials[mechanism as ScramMechanism] = checkCredential(name, credential);
  }
  if (tokenSha256 !== undefined && (typeof tokenSha256 !== 'string' || !HEX_SHA256.test(tokenSha256))) {
    throw new InvalidRequestError(`user ${name}: tokenSha256 must be 64 lowercase hex digits`);
  }
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    throw new InvalidRequestError(`user ${name}: createdAt must be a non-negative integer`);
  }
  return { name, scram: credentials, ...(tokenSha256 === undefined ? {} : { tokenSha256 }), createdAt };
}

function checkCredential(name: string, value: unknown): ScramCredential {
  if (typeof value !== 'object' || value === null) throw new InvalidRequestError(`user ${name}: bad SCRAM credential`);
  const { salt, iterations, storedKey, serverKey } = value as Record<string, unknown>;
  for (const [field, text] of Object.entries({ salt, storedKey, serverKey })) {
    if (typeof text !== 'string' || text.length === 0 || text.length > 1024 || !BASE64.test(text)) {
      throw new InvalidRequestError(`user ${name}: SCRAM ${field} must be base64`);
    }
  }
  if (
    typeof iterations !== 'number' ||
    !Number.isSafeInteger(iterations) ||
    iterations < MIN_SCRAM_ITERATIONS ||
    iterations > MAX_SCRAM_ITERATIONS
  ) {
    throw new InvalidRequestError(
      `user ${name}: SCRAM iterations must be ${MIN_SCRAM_ITERATIONS} to ${MAX_SCRAM_ITERATIONS}`,
    );
  }
  return { salt: salt as string, iterations, storedKey: storedKey as string, serverKey: serverKey as string };
}
