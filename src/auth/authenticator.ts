/**
 * Turns credentials into principals for both listeners: bearer tokens (gRPC),
 * PLAIN and SCRAM (Kafka SASL). Users come from the auth file first, then
 * from the metadata store, whose answers (found or not) are kept for
 * `userCacheMs`. A principal is the user's name.
 */
import type { Logger } from 'pino';
import { UnauthenticatedError } from '../protocol/errors.js';
import type { ScramMechanism, UserRecord, UserStore } from '../metadata/users.js';
import { tokenUserName, verifyPassword, verifyToken } from './credentials.js';
import { ScramServer } from './scramServer.js';
import type { AuthMode, ResolvedAuthOptions } from './authOptions.js';

/** SASL mechanisms offered on the Kafka listener. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Cached lookups beyond this are dropped all at once (bounded memory under many unknown names). */
const MAX_CACHED_USERS = 10_000;
/** Longest PLAIN message: user, password and authzid. */
const MAX_PLAIN_BYTES = 4096;

export class Authenticator {
  private readonly cache = new Map<string, { user: UserRecord | undefined; until: number }>();

  constructor(
    private readonly options: ResolvedAuthOptions,
    private readonly store: UserStore | undefined,
    private readonly logger?: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  get mode(): AuthMode {
    return this.options.mode;
  }

  /** The user of that name, or undefined; MetadataError when the store fails. */
  async lookup(name: string): Promise<UserRecord | undefined> {
    const fromFile = this.options.users.get(name);
    if (fromFile !== undefined || this.store === undefined) return fromFile;
    const now = this.clock();
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.until > now) return cached.user;
    const user = await this.store.getUser(name);
    if (this.options.userCacheMs > 0) {
      if (this.cache.size >= MAX_CACHED_USERS) this.cache.clear();
      this.cache.set(name, { user, until: now + this.options.userCacheMs });
    }
    return user;
  }

  /** The principal of a bearer token; UnauthenticatedError when it is not a valid token. */
  async authenticateToken(token: string): Promise<string> {
    const name = tokenUserName(token);
    const user = name === undefined ? undefined : await this.lookup(name);
    if (name === undefined || !verifyToken(user, token)) throw this.failed('bearer token', name);
    return name;
  }

  /** The principal of a SASL/PLAIN message `authzid NUL user NUL password` (RFC 4616). */
  async authenticatePlain(message: Buffer): Promise<string> {
    if (message.length > MAX_PLAIN_BYTES) throw this.failed('PLAIN', undefined);
    const parts = message.toString('utf8').split('\0');
    if (parts.length !== 3) throw new UnauthenticatedError('malformed SASL/PLAIN message');
    const [authzid, name, password] = parts as [string, string, string];
    if (name === '' || (authzid !== '' && authzid !== name)) throw this.failed('PLAIN', name);
    const user = await this.lookup(name);
    if (!(await verifyPassword(user, password))) throw this.failed('PLAIN', name);
    return name;
  }

  /** A new SCRAM exchange on users of this authenticator. */
  scram(mechanism: ScramMechanism): ScramServer {
    return new ScramServer(mechanism, (name) => this.lookup(name));
  }

  /** Logs a failed attempt at info level: user name and mechanism only, never a credential. */
  logFailure(how: string, name: string | undefined): void {
    this.logger?.info({ user: name, mechanism: how }, 'authentication failed');
  }

  private failed(how: string, name: string | undefined): UnauthenticatedError {
    this.logFailure(how, name);
    return new UnauthenticatedError(`authentication failed (${how})`);
  }
}
