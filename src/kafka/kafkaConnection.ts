/**
 * One Kafka client connection: cuts the byte stream into size-prefixed
 * frames, decodes each request with its API's generated reader, runs the
 * handler, and writes the answers in request order (Kafka's rule per
 * connection).
 *
 * Frame: `size int32 · header · body`. A size below the smallest header or
 * above `maxFrameBytes` closes the connection before anything is allocated
 * for it; so does a frame that does not decode, an unknown API key or an
 * unsupported version (except ApiVersions, which answers UNSUPPORTED_VERSION
 * with the versions supported, in its v0 layout, as Kafka brokers do).
 * Reading pauses while `maxInFlightRequests` requests or `maxInFlightBytes`
 * bytes of requests are unanswered, or while the socket's send buffer is full.
 *
 * With an authenticator (saslSession.ts), a connection not yet authenticated
 * where it must be may send only ApiVersions and the SASL APIs, in frames of
 * at most MAX_PRE_AUTH_FRAME_BYTES, for at most `saslTimeoutMs`; any other
 * request closes it, and a failed authentication closes it after its answer.
 * A verified TLS client certificate counts as authenticated.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { KafkaApi } from './api.js';
import type { KafkaContext } from './kafkaContext.js';
import { KafkaReader } from './wire/kafkaReader.js';
import { KafkaWriter } from './wire/kafkaWriter.js';
import { readRequestHeader } from './generated/requestHeader.js';
import { writeResponseHeader } from './generated/responseHeader.js';
import { writeApiVersionsResponse } from './generated/apiVersionsResponse.js';
import { KafkaErrorCode } from './kafkaErrors.js';
import { SaslSession } from './saslSession.js';
import { DEFAULT_SASL_TIMEOUT_MS } from '../auth/authOptions.js';
import { chargeQuota } from './kafkaQuotas.js';

export type ConnectionLimits = {
  maxFrameBytes: number;
  maxInFlightRequests: number;
  maxInFlightBytes: number;
};

/** api key, api version, correlation id. */
const MIN_HEADER_BYTES = 8;
const API_VERSIONS_KEY = 18;
const SEND_BUFFER_PAUSE_BYTES = 8 * 1024 * 1024;
/** Largest frame before authentication: SASL messages are small, an anonymous peer gets no large buffers. */
export const MAX_PRE_AUTH_FRAME_BYTES = 64 * 1024;

type Slot = { chunks: Buffer[] | undefined; done: boolean; bytes: number };

export class KafkaConnection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly slots: Slot[] = [];
  private inFlightBytes = 0;
  private readonly abort = new AbortController();
  private closed = false;
  /** Answers held back by a quota's throttle; cleared when the connection closes. */
  private readonly throttled = new Set<NodeJS.Timeout>();
  private readonly logger: Logger | undefined;
  private readonly sasl: SaslSession | undefined;
  private saslTimer: NodeJS.Timeout | undefined;
  /** Set after a failed authentication: nothing more is read; the socket ends once the answers are written. */
  private closeWhenFlushed = false;

  constructor(
    private readonly socket: Socket,
    private readonly apis: ReadonlyMap<number, KafkaApi<unknown, unknown>>,
    private readonly ctx: KafkaContext,
    private readonly limits: ConnectionLimits,
    /** The CN of the client certificate the TLS handshake verified; undefined without TLS or certificate. */
    readonly tlsPrincipal: string | undefined,
    readonly onClose: () => void,
  ) {
    this.logger = ctx.logger?.child({ component: 'kafka', peer: `${socket.remoteAddress}:${socket.remotePort}` });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('drain', () => this.resumeIfRoom());
    socket.on('error', (err) => this.logger?.debug({ err }, 'kafka connection error'));
    socket.on('close', () => this.teardown());
    const { authenticator } = ctx;
    if (authenticator !== undefined && authenticator.mode !== 'off') {
      this.sasl = new SaslSession(authenticator, tlsPrincipal);
      if (authenticator.mode === 'required' && tlsPrincipal === undefined) {
        const timeoutMs = ctx.saslTimeoutMs ?? DEFAULT_SASL_TIMEOUT_MS;
        this.saslTimer = setTimeout(() => this.close(`not authenticated within ${timeoutMs} ms`), timeoutMs);
        this.saslTimer.unref();
      }
    }
  }

  /** The connection's principal: the SASL user once authenticated, else the TLS client certificate's CN, else none. */
  get principal(): string | undefined {
    return this.sasl?.principal ?? this.tlsPrincipal;
  }

  /** Closes the connection; unanswered requests are dropped and long polls end. */
  close(reason?: string): void {
    if (reason !== undefined) this.logger?.warn({ reason }, 'closing kafka connection');
    this.teardown();
    this.socket.destroy();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.saslTimer);
    this.abort.abort(new Error('kafka connection closed'));
    for (const timer of this.throttled) clearTimeout(timer);
    this.throttled.clear();
    this.pending = [];
    this.pendingBytes = 0;
    this.onClose();
  }

  private receive(data: Buffer): void {
    if (this.closed || this.closeWhenFlushed) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.drainFrames();
  }

  /** Cuts every complete frame out of what arrived, while there is room for more requests. */
  private drainFrames(): void {
    while (!this.closed && !this.closeWhenFlushed && this.pendingBytes >= 4 && !this.full()) {
      const head = this.pending[0]!.length >= 4 ? this.pending[0]! : this.merge();
      const size = head.readInt32BE(0);
      const maxFrameBytes =
        this.sasl?.restricted === true
          ? Math.min(MAX_PRE_AUTH_FRAME_BYTES, this.limits.maxFrameBytes)
          : this.limits.maxFrameBytes;
      if (size < MIN_HEADER_BYTES || size > maxFrameBytes) {
        this.close(`frame size ${size} outside [${MIN_HEADER_BYTES}, ${maxFrameBytes}]`);
        return;
      }
      if (this.pendingBytes < 4 + size) return;
      const all = this.merge();
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      this.dispatch(frame);
    }
    if (this.full()) this.socket.pause();
  }

  private merge(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
    return this.pending[0]!;
  }

  private full(): boolean {
    return (
      this.slots.length >= this.limits.maxInFlightRequests ||
      this.inFlightBytes >= this.limits.maxInFlightBytes ||
      this.socket.writableLength >= SEND_BUFFER_PAUSE_BYTES
    );
  }

  private resumeIfRoom(): void {
    if (this.closed || this.full()) return;
    this.drainFrames();
    if (!this.full()) this.socket.resume();
  }

  private dispatch(frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const api = this.apis.get(apiKey);
    if (api === undefined) {
      this.close(`unknown api key ${apiKey}`);
      return;
    }
    if (this.sasl !== undefined && !this.sasl.allows(apiKey)) {
      this.close(`${api.name} before SASL authentication`);
      return;
    }
    const supported = version >= api.minVersion && version <= api.maxVersion;
    if (!supported && apiKey !== API_VERSIONS_KEY) {
      this.close(`${api.name} v${version} is not supported (${api.minVersion}-${api.maxVersion})`);
      return;
    }
    const slot: Slot = { chunks: undefined, done: false, bytes: frame.length };
    this.slots.push(slot);
    this.inFlightBytes += frame.length;
    if (!supported) {
      // A newer client than we know: answer in v0 so it can pick a version both sides speak.
      this.complete(
        slot,
        this.encode(correlationId, 0, 0, (w) =>
          writeApiVersionsResponse(w, 0, {
            errorCode: KafkaErrorCode.UNSUPPORTED_VERSION,
            apiKeys: this.apiVersions(),
          }),
        ),
      );
      return;
    }
    const flexible = version >= api.flexibleMin;
    let request: unknown;
    let clientId: string | null;
    try {
      const reader = new KafkaReader(frame);
      clientId = readRequestHeader(reader, flexible ? 2 : 1).clientId;
      request = api.read(reader, version);
      if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes after the ${api.name} request`);
    } catch (error) {
      this.close(`malformed ${api.name} v${version} request: ${(error as Error).message}`);
      return;
    }
    const responseHeaderVersion = flexible && apiKey !== API_VERSIONS_KEY ? 1 : 0;
    const info = { version, clientId, signal: this.abort.signal, principal: this.principal, sasl: this.sasl };
    api.handle(this.ctx, request, info).then(
      (response) => {
        if (this.closed) return;
        if (this.sasl?.failed === true) this.closeWhenFlushed = true;
        if (this.sasl?.authenticated === true) clearTimeout(this.saslTimer);
        const throttleMs = chargeQuota(this.ctx.quotas, this.principal, apiKey, frame.length, response);
        const answer = () =>
          this.complete(
            slot,
            response === undefined
              ? undefined
              : this.encode(correlationId, responseHeaderVersion, version, (w) => api.write(w, version, response)),
          );
        if (throttleMs === 0) return answer();
        this.logger?.debug({ principal: this.principal, api: api.name, throttleMs }, 'kafka answer throttled');
        const timer = setTimeout(() => {
          this.throttled.delete(timer);
          if (!this.closed) answer();
        }, throttleMs);
        this.throttled.add(timer);
      },
      (error: unknown) => {
        if (this.closed) return;
        this.logger?.error({ err: error, api: api.name, version }, 'kafka handler failed');
        this.close(`${api.name} handler failed`);
      },
    );
  }

  /** The ApiVersions list: every API served, with its versions. */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.apis.values()].map((a) => ({ apiKey: a.key, minVersion: a.minVersion, maxVersion: a.maxVersion }));
  }

  private encode(
    correlationId: number,
    headerVersion: number,
    _version: number,
    body: (w: KafkaWriter) => void,
  ): Buffer[] {
    const w = new KafkaWriter();
    w.int32(0);
    writeResponseHeader(w, headerVersion, { correlationId });
    body(w);
    const chunks = w.finish();
    chunks[0]!.writeInt32BE(w.length - 4, 0);
    return chunks;
  }

  private complete(slot: Slot, chunks: Buffer[] | undefined): void {
    slot.chunks = chunks;
    slot.done = true;
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const head = this.slots.shift()!;
      this.inFlightBytes -= head.bytes;
      if (head.chunks === undefined) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const chunk of head.chunks) this.socket.write(chunk);
    }
    if (wrote) this.socket.uncork();
    if (this.closeWhenFlushed && this.slots.length === 0) {
      this.logger?.info('closing kafka connection after failed authentication');
      this.socket.end();
      this.teardown();
      return;
    }
    this.resumeIfRoom();
  }
}
