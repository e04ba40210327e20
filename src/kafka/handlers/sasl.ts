/** SaslHandshake and SaslAuthenticate: served only when the agent authenticates (see saslSession.ts). */
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import type { SaslAuthenticateRequest } from '../generated/saslAuthenticateRequest.js';
import type { SaslAuthenticateResponse } from '../generated/saslAuthenticateResponse.js';
import type { SaslHandshakeRequest } from '../generated/saslHandshakeRequest.js';
import type { SaslHandshakeResponse } from '../generated/saslHandshakeResponse.js';
import { KafkaErrorCode } from '../kafkaErrors.js';

export async function handleSaslHandshake(
  _ctx: KafkaContext,
  request: SaslHandshakeRequest,
  info: RequestInfo,
): Promise<SaslHandshakeResponse> {
  if (info.sasl === undefined) return { errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [] };
  if (info.version === 0) return info.sasl.refuseLegacyHandshake();
  return info.sasl.handshake(request.mechanism);
}

export async function handleSaslAuthenticate(
  _ctx: KafkaContext,
  request: SaslAuthenticateRequest,
  info: RequestInfo,
): Promise<SaslAuthenticateResponse> {
  if (info.sasl === undefined) {
    return {
      errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: 'SASL is not enabled',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0,
    };
  }
  return { ...(await info.sasl.authenticate(request.authBytes)), sessionLifetimeMs: 0 };
}
