/**
 * The SASL state of one Kafka connection (KIP-43 framing: SaslHandshake v1,
 * then SaslAuthenticate requests carrying the mechanism's messages):
 *
 *   none --handshake--> handshaken --authenticate…--> authenticated
 *                                  \--any failure--> failed (the connection closes after the answer)
 *
 * Until authenticated, a connection in mode `required` (or one that began a
 * handshake) may send only ApiVersions, SaslHandshake and SaslAuthenticate.
 * A verified TLS client certificate authenticates the connection without
 * SASL (as Kafka's SSL listener with client auth); SASL, if begun, still
 * has to succeed and its user then replaces the certificate's CN.
 * One handshake per connection: re-authentication is not offered.
 */
import { UnauthenticatedError } from '../protocol/errors.js';
import { SASL_MECHANISMS, type Authenticator, type SaslMechanism } from '../auth/authenticator.js';
import type { ScramServer } from '../auth/scramServer.js';
import { KafkaErrorCode } from './kafkaErrors.js';

export const API_VERSIONS_KEY = 18;
export const SASL_HANDSHAKE_KEY = 17;
export const SASL_AUTHENTICATE_KEY = 36;
const PRE_AUTH_KEYS = new Set([API_VERSIONS_KEY, SASL_HANDSHAKE_KEY, SASL_AUTHENTICATE_KEY]);

export type SaslAnswer = { errorCode: number; errorMessage: string | null; authBytes: Buffer };

export class SaslSession {
  private state: 'none' | 'handshaken' | 'authenticated' | 'failed' = 'none';
  private mechanism: SaslMechanism | undefined;
  private scram: ScramServer | undefined;
  /** The authenticated user, once there is one. */
  principal: string | undefined;

  constructor(
    private readonly authenticator: Authenticator,
    /** The CN of the connection's verified client certificate: authenticated without SASL. */
    private readonly certificatePrincipal?: string,
  ) {}

  get authenticated(): boolean {
    return this.state === 'authenticated';
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Whether the connection is held to pre-authentication rules (small frames, SASL APIs only). */
  get restricted(): boolean {
    if (this.state === 'authenticated') return false;
    if (this.state !== 'none') return true;
    return this.authenticator.mode === 'required' && this.certificatePrincipal === undefined;
  }

  /** Whether a request of this API may be served now. */
  allows(apiKey: number): boolean {
    return !this.restricted || PRE_AUTH_KEYS.has(apiKey);
  }

  handshake(mechanism: string): { errorCode: number; mechanisms: string[] } {
    const mechanisms = [...SASL_MECHANISMS];
    if (this.state !== 'none') {
      this.state = 'failed';
      return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      return { errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    this.mechanism = mechanism as SaslMechanism;
    this.state = 'handshaken';
    return { errorCode: KafkaErrorCode.NONE, mechanisms };
  }

  /** SaslHandshake v0 (tokens outside Kafka frames): refused, and the connection closes after the answer. */
  refuseLegacyHandshake(): { errorCode: number; mechanisms: string[] } {
    this.state = 'failed';
    return { errorCode: KafkaErrorCode.UNSUPPORTED_VERSION, mechanisms: [...SASL_MECHANISMS] };
  }

  /** One SaslAuthenticate step; any failure leaves the session failed. */
  async authenticate(bytes: Buffer): Promise<SaslAnswer> {
    if (this.state !== 'handshaken' || this.mechanism === undefined) {
      this.state = 'failed';
      return refuse(KafkaErrorCode.ILLEGAL_SASL_STATE, 'SaslAuthenticate before a successful SaslHandshake');
    }
    try {
      return await this.step(this.mechanism, bytes);
    } catch (error) {
      this.state = 'failed';
      // PLAIN failures are logged by the authenticator; SCRAM ones here.
      if (this.scram !== undefined) this.authenticator.logFailure(this.mechanism, this.scram.userName || undefined);
      if (error instanceof UnauthenticatedError)
        return refuse(KafkaErrorCode.SASL_AUTHENTICATION_FAILED, error.message);
      return refuse(KafkaErrorCode.SASL_AUTHENTICATION_FAILED, 'authentication is unavailable: try again later');
    }
  }

  private async step(mechanism: SaslMechanism, bytes: Buffer): Promise<SaslAnswer> {
    if (mechanism === 'PLAIN') {
      this.succeed(await this.authenticator.authenticatePlain(bytes));
      return ok(Buffer.alloc(0));
    }
    if (this.scram === undefined) {
      this.scram = this.authenticator.scram(mechanism);
      return ok(await this.scram.first(bytes));
    }
    const { user, response } = this.scram.final(bytes);
    this.succeed(user);
    return ok(response);
  }

  private succeed(principal: string): void {
    this.principal = principal;
    this.state = 'authenticated';
  }
}

function ok(authBytes: Buffer): SaslAnswer {
  return { errorCode: KafkaErrorCode.NONE, errorMessage: null, authBytes };
}

function refuse(errorCode: number, errorMessage: string): SaslAnswer {
  return { errorCode, errorMessage, authBytes: Buffer.alloc(0) };
}
