/**
 * Server-side request decoding that never throws. grpc-js answers a request
 * whose deserializer throws with INTERNAL and no StreamHouse code; so the
 * agent decodes with {@link decodeOrRefuse}, which turns a failure into an
 * {@link UndecodableRequest}, and its error middleware answers that with the
 * typed error it carries instead of calling the handler. It also notes the
 * encoded size of each request it decodes ({@link encodedSize}).
 */
import { InvalidRequestError, UnsafeIntegerError, type StreamHouseError } from '../errors.js';

/** Stands in for a request whose bytes did not decode; `error` is the answer. */
export class UndecodableRequest {
  constructor(readonly error: StreamHouseError) {}
}

/** Encoded size of each decoded request, for the agent's accounting of request bytes in flight. */
const sizes = new WeakMap<object, number>();

/** The encoded size of a request that decodeOrRefuse decoded, else undefined. */
export function encodedSize(request: unknown): number | undefined {
  return typeof request === 'object' && request !== null ? sizes.get(request) : undefined;
}

/** The messages ts-proto's int64 → number conversion throws (forceLong=number). */
const UNSAFE_INTEGER = /^Value is (larger|smaller) than Number\.(MAX|MIN)_SAFE_INTEGER$/;

/**
 * `decode`, or an UndecodableRequest naming `messageName` when it throws:
 * UnsafeIntegerError for an int64 beyond ±(2^53 - 1), InvalidRequestError
 * for anything else (truncated bytes, a bad wire type or length).
 */
export function decodeOrRefuse<T extends object>(
  messageName: string,
  decode: (input: Uint8Array) => T,
): (input: Uint8Array) => T | UndecodableRequest {
  return (input) => {
    try {
      const message = decode(input);
      sizes.set(message as object, input.length);
      return message;
    } catch (error) {
      return new UndecodableRequest(refusal(messageName, input.length, error));
    }
  };
}

function refusal(messageName: string, size: number, error: unknown): StreamHouseError {
  const reason = error instanceof Error ? error.message : String(error);
  if (UNSAFE_INTEGER.test(reason)) {
    return new UnsafeIntegerError(
      `${messageName} carries an int64 beyond Number.MAX_SAFE_INTEGER (2^53 - 1): offsets, ids and timestamps must ` +
        `be safe integers`,
    );
  }
  return new InvalidRequestError(`${messageName} of ${size} bytes is not a valid protobuf message: ${reason}`, {
    cause: error,
  });
}
