/**
 * The StreamHouse gRPC service definition that the agent and the client hand
 * to nice-grpc: the generated one, with serializers that save a copy of
 * every large message.
 *
 * nice-grpc passes grpc-js `Buffer.from(serialize(value))`. For a Uint8Array
 * that is a copy of the whole encoded message, and for a Produce request
 * carrying a 1 MiB batch, or a Fetch answer of several MiB, copying into
 * freshly mapped memory cost about a tenth of the producer's CPU per record.
 * `Buffer.from` of an ArrayBuffer is a view instead. So these serializers
 * return the encoder's ArrayBuffer itself when the encoded message fills it
 * exactly, as every message over a few KiB does (Node gives such a buffer
 * an ArrayBuffer of its own); smaller ones are returned as they are, their
 * copy being cheap.
 */
import { encodeFetchResponse, ReusedBuffer } from './fetchResponseEncoder.js';
import { isPreEncoded, PRE_ENCODED } from './produceRequestEncoder.js';
import { StreamHouseDefinition, type FetchResponse } from '../generated/streamhouse.js';
import { decodeOrRefuse } from './requestDecoding.js';

/** What nice-grpc uses of a ts-proto message type. */
type MessageType = {
  encode(message: never): { finish(): Uint8Array };
  fromPartial(object: never): unknown;
};

/**
 * The encoded bytes in the form `Buffer.from` does not copy: their
 * ArrayBuffer when they fill it from byte 0 to its end, else the bytes.
 * (An ArrayBuffer where a Uint8Array is declared: nice-grpc only ever passes
 * the value on to `Buffer.from`, which accepts both.)
 */
export function withoutCopy(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer as unknown as Uint8Array;
  }
  return bytes;
}

function copyFreeEncoding<T extends MessageType>(type: T): T {
  return {
    ...type,
    // A request that carries its encoded message (produceRequestEncoder.ts) is sent as it is:
    // nice-grpc calls fromPartial, then encode, then finish.
    fromPartial: (object: never) => (isPreEncoded(object) ? object : type.fromPartial(object)),
    encode: (message: never) => {
      if (isPreEncoded(message)) {
        const bytes = message[PRE_ENCODED];
        return { finish: () => withoutCopy(bytes) };
      }
      const writer = type.encode(message);
      return { finish: () => withoutCopy(writer.finish()) };
    },
  };
}

/**
 * StreamHouseDefinition with copy-free serializers; the same type, so clients and servers keep their generated types.
 */
export const StreamHouseService: typeof StreamHouseDefinition = {
  ...StreamHouseDefinition,
  methods: Object.fromEntries(
    Object.entries(StreamHouseDefinition.methods).map(([name, method]) => [
      name,
      {
        ...method,
        requestType: copyFreeEncoding(method.requestType),
        responseType: copyFreeEncoding(method.responseType),
      },
    ]),
  ) as typeof StreamHouseDefinition.methods,
};

/**
 * The definition an agent serves: StreamHouseService, with Fetch answers
 * encoded by encodeFetchResponse into one reused buffer of up to
 * `maxResponseBytes` (see fetchResponseEncoder.ts for why). Only for a
 * server: its encoded answers are valid until the next one is encoded, which
 * holds because grpc-js copies each into its frame before `serialize`
 * returns. Each call makes a definition with a buffer of its own.
 * Requests that do not decode reach the server's middleware as an
 * UndecodableRequest (see requestDecoding.ts).
 */
export function agentServiceDefinition(
  maxResponseBytes: number,
  /** Called with each Fetch answer once it has been encoded: its records are no longer needed. */
  afterFetchEncoded?: (message: FetchResponse) => void,
): typeof StreamHouseDefinition {
  const buffer = new ReusedBuffer(maxResponseBytes);
  const fetch = StreamHouseService.methods.fetch;
  const responseType = {
    ...fetch.responseType,
    encode: (message: FetchResponse) => ({
      finish: () => {
        const encoded = encodeFetchResponse(message, (size) => buffer.take(size));
        afterFetchEncoded?.(message);
        return withoutCopy(encoded);
      },
    }),
  } as unknown as typeof fetch.responseType;
  const methods = { ...StreamHouseService.methods, fetch: { ...fetch, responseType } };
  for (const [name, method] of Object.entries(methods)) {
    const requestType = {
      ...method.requestType,
      decode: decodeOrRefuse(`${method.name} request`, method.requestType.decode),
    };
    (methods as Record<string, unknown>)[name] = { ...method, requestType };
  }
  return { ...StreamHouseService, methods };
}
