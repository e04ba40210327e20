/**
 * Test support: calls an agent's gRPC method with request bytes as given
 * (malformed protobuf, int64 values a typed client cannot express), and maps
 * the failure as the real client does.
 */
import { createChannel, createClient } from 'nice-grpc';
import { fromGrpcError } from '../../src/protocol/errors.js';

/**
 * Sends `body` as the request of `method` (e.g. 'Produce') and resolves with the answer's bytes, or rejects with the
 * mapped error.
 */
export async function callRaw(address: string, method: string, body: Uint8Array): Promise<Uint8Array> {
  const definition = {
    call: {
      path: `/streamhouse.v1.StreamHouse/${method}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Uint8Array) => value,
      requestDeserialize: (bytes: Uint8Array) => bytes,
      responseSerialize: (value: Uint8Array) => value,
      responseDeserialize: (bytes: Uint8Array) => bytes,
      options: {},
    },
  } as const;
  const channel = createChannel(address);
  try {
    return await createClient(definition, channel).call(body);
  } catch (error) {
    throw fromGrpcError(error);
  } finally {
    channel.close();
  }
}
