/**
 * A bare Kafka connection for specs: send raw frames or encoded requests, read whole response frames, see when the
 * agent closes.
 */
import { createConnection, type Socket } from 'node:net';
import { KafkaWriter } from '../../../src/kafka/wire/kafkaWriter.js';
import { KafkaReader } from '../../../src/kafka/wire/kafkaReader.js';
import { writeRequestHeader } from '../../../src/kafka/generated/requestHeader.js';

export type RawKafka = {
  socket: Socket;
  /** Writes bytes as they are. */
  send(bytes: Buffer): void;
  /** Writes one request frame: header v1 (v2 when `flexible`) then the body. */
  request(
    apiKey: number,
    version: number,
    correlationId: number,
    body: (w: KafkaWriter) => void,
    flexible?: boolean,
  ): void;
  /** The next response frame (without its size prefix); rejects if the connection closes first. */
  response(): Promise<Buffer>;
  /**
   * One request and its response: `read` gets the body after the response header (v1, with tagged fields, when
   * `flexible`). Rejects when the response answers another correlation id.
   */
  call<T>(
    apiKey: number,
    version: number,
    body: (w: KafkaWriter) => void,
    read: (r: KafkaReader) => T,
    flexible?: boolean,
  ): Promise<T>;
  /** Resolves when the agent closes the connection. */
  closed: Promise<void>;
  close(): void;
};

export async function connectRaw(address: string): Promise<RawKafka> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const socket = createConnection(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let pending = Buffer.alloc(0);
  const frames: Buffer[] = [];
  const waiters: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  let ended = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      frames.push(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
    while (frames.length > 0 && waiters.length > 0) waiters.shift()!.resolve(frames.shift()!);
  });
  void closed.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w.reject(new Error('connection closed'));
  });
  let correlation = 1_000_000;
  const raw: RawKafka = {
    socket,
    closed,
    send: (bytes) => socket.write(bytes),
    async call(apiKey, version, body, read, flexible = false) {
      const id = ++correlation;
      raw.request(apiKey, version, id, body, flexible);
      const frame = await raw.response();
      if (frame.readInt32BE(0) !== id) throw new Error(`response to correlation id ${frame.readInt32BE(0)}, not ${id}`);
      return read(new KafkaReader(frame, flexible ? 5 : 4));
    },
    request(apiKey, version, correlationId, body, flexible = false) {
      const w = new KafkaWriter();
      w.int32(0);
      writeRequestHeader(w, flexible ? 2 : 1, {
        requestApiKey: apiKey,
        requestApiVersion: version,
        correlationId,
        clientId: 'raw-spec',
      });
      body(w);
      const frame = Buffer.concat(w.finish());
      frame.writeInt32BE(frame.length - 4, 0);
      socket.write(frame);
    },
    response() {
      if (frames.length > 0) return Promise.resolve(frames.shift()!);
      if (ended) return Promise.reject(new Error('connection closed'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close: () => socket.destroy(),
  };
  return raw;
}
