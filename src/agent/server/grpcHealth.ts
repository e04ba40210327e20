/**
 * The standard gRPC health service, `grpc.health.v1.Health`, for load
 * balancers and Kubernetes probes: SERVING while the agent serves,
 * NOT_SERVING from the start of a graceful stop. The service names known
 * are "" (the whole agent) and `streamhouse.v1.StreamHouse`.
 */
import { EventEmitter, on } from 'node:events';
import { type CallContext, ServerError, Status } from 'nice-grpc';
import _m0 from 'protobufjs/minimal.js';

export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  SERVICE_UNKNOWN = 3,
}

export type HealthCheckRequest = { service: string };
export type HealthCheckResponse = { status: ServingStatus };

/** Longest service name accepted, bytes. */
const MAX_SERVICE_NAME = 256;

export const HealthCheckRequest = {
  encode(message: HealthCheckRequest, writer: _m0.Writer = _m0.Writer.create()): _m0.Writer {
    if (message.service !== '') writer.uint32(10).string(message.service);
    return writer;
  },
  decode(input: _m0.Reader | Uint8Array, length?: number): HealthCheckRequest {
    const reader = input instanceof _m0.Reader ? input : _m0.Reader.create(input);
    const end = length === undefined ? reader.len : reader.pos + length;
    const message: HealthCheckRequest = { service: '' };
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (tag === 10) message.service = reader.string();
      else reader.skipType(tag & 7);
    }
    return message;
  },
  fromPartial(object: Partial<HealthCheckRequest>): HealthCheckRequest {
    return { service: object.service ?? '' };
  },
};

export const HealthCheckResponse = {
  encode(message: HealthCheckResponse, writer: _m0.Writer = _m0.Writer.create()): _m0.Writer {
    if (message.status !== ServingStatus.UNKNOWN) writer.uint32(8).int32(message.status);
    return writer;
  },
  decode(input: _m0.Reader | Uint8Array, length?: number): HealthCheckResponse {
    const reader = input instanceof _m0.Reader ? input : _m0.Reader.create(input);
    const end = length === undefined ? reader.len : reader.pos + length;
    const message: HealthCheckResponse = { status: ServingStatus.UNKNOWN };
    while (reader.pos < end) {
      const tag = reader.uint32();
      if (tag === 8) message.status = reader.int32() as ServingStatus;
      else reader.skipType(tag & 7);
    }
    return message;
  },
  fromPartial(object: Partial<HealthCheckResponse>): HealthCheckResponse {
    return { status: object.status ?? ServingStatus.UNKNOWN };
  },
};

export const HealthDefinition = {
  name: 'Health',
  fullName: 'grpc.health.v1.Health',
  methods: {
    check: {
      name: 'Check',
      requestType: HealthCheckRequest,
      requestStream: false,
      responseType: HealthCheckResponse,
      responseStream: false,
      options: {},
    },
    watch: {
      name: 'Watch',
      requestType: HealthCheckRequest,
      requestStream: false,
      responseType: HealthCheckResponse,
      responseStream: true,
      options: {},
    },
  },
} as const;

const KNOWN_SERVICES = new Set(['', 'streamhouse.v1.StreamHouse']);

/** The agent's serving status, and the health service that reports it. */
export class GrpcHealth {
  private status = ServingStatus.SERVING;
  private readonly changes = new EventEmitter();

  constructor() {
    this.changes.setMaxListeners(0);
  }

  /** From now on NOT_SERVING; Watch calls send it and end (so they do not hold up the server's shutdown). */
  notServing(): void {
    this.status = ServingStatus.NOT_SERVING;
    this.changes.emit('change');
  }

  implementation() {
    return {
      check: async (request: HealthCheckRequest): Promise<HealthCheckResponse> => {
        if (!KNOWN_SERVICES.has(request.service)) {
          throw new ServerError(Status.NOT_FOUND, `unknown service '${request.service.slice(0, MAX_SERVICE_NAME)}'`);
        }
        return { status: this.status };
      },
      watch: (request: HealthCheckRequest, context: CallContext) => this.watch(request, context.signal),
    };
  }

  private async *watch(request: HealthCheckRequest, signal: AbortSignal): AsyncIterable<HealthCheckResponse> {
    if (!KNOWN_SERVICES.has(request.service)) {
      yield { status: ServingStatus.SERVICE_UNKNOWN };
      return;
    }
    // Listening before the first answer: a change while it is sent is queued, not missed.
    const changes = on(this.changes, 'change', { signal });
    try {
      yield { status: this.status };
      if (this.status !== ServingStatus.SERVING) return;
      for await (const _ of changes) {
        yield { status: this.status };
        if (this.status !== ServingStatus.SERVING) return;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      await changes.return?.();
    }
  }
}
