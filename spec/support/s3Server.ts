/**
 * A real S3-compatible server for tests and benchmarks: s3rver on
 * 127.0.0.1 with an ephemeral port, backed by a fresh temp directory that
 * `stop()` removes, with one bucket created up front.
 *
 * s3rver runs in a child Node process started with `--openssl-legacy-provider`:
 * it builds ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node
 * 17+) refuses by default, so in-process every truncated listing fails with
 * InternalError. Object events come back over the IPC channel.
 *
 * s3rver checks request signatures against the fixed key pair below; use
 * {@link S3TestServer.storeOptions}. Found by running it (s3rver 3.7.1,
 * @aws-sdk/client-s3 3.1173): the SDK's default checksum headers
 * (`WHEN_SUPPORTED`) are accepted (ignored), so no checksum option is needed.
 * Deviations from S3 to know about:
 * - no AbortMultipartUpload (answers MethodNotAllowed); S3ObjectStore's abort
 *   is best effort, so only the original failure surfaces;
 * - a ranged GET of an EMPTY object starting at 0 gets a malformed answer
 *   (Content-Length 1, no body) and the SDK reports "aborted", where S3
 *   answers 416; tests avoid that one request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3ObjectStoreOptions } from '../../src/storage/s3ObjectStore.js';

/**
 * One object change seen by the server, e.g. `{ name: 'ObjectCreated:Post', key: 'a/b' }` for a completed multipart
 * upload.
 */
export type S3ObjectEvent = {
  /** `ObjectCreated:Put`, `ObjectCreated:Post` (multipart complete), `ObjectCreated:Copy` or `ObjectRemoved:Delete`. */
  name: string;
  /** Full key in the bucket. */
  key: string;
};

/** A running test server. */
export type S3TestServer = {
  /** e.g. `http://127.0.0.1:41234`. */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** Credentials s3rver accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every object change so far, in order; call {@link S3TestServer.syncEvents} before reading it. */
  events: S3ObjectEvent[];
  /** Resolves once every event of the requests answered so far is in `events`. */
  syncEvents(): Promise<void>;
  /** Options for an S3ObjectStore on this server (path-style, its credentials, optional key prefix). */
  storeOptions(prefix?: string): S3ObjectStoreOptions;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
};

/** Options of {@link startS3Server}. */
export type StartS3ServerOptions = {
  /** Bucket to create. Default `streamhouse-test`. */
  bucket?: string;
  /** Give up starting after this many ms. Default 15 000. */
  startTimeoutMs?: number;
};

/** Messages from the child. */
type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'event'; name: string; key: string }
  | { type: 'pong'; id: number }
  | { type: 'failed'; message: string };

/**
 * The child's program (CommonJS, run with `node -e`): starts s3rver, reports
 * its port and object events, stops on 'stop' or when the parent goes away.
 */
const CHILD_PROGRAM = `
const S3rver = require(process.env.SH_S3RVER_MODULE);
const server = new S3rver(JSON.parse(process.env.SH_S3RVER_OPTIONS));
server.on('event', (event) => {
  for (const r of event.Records) process.send({ type: 'event', name: r.eventName, key: r.s3.object.key });
});
process.on('message', (message) => {
  if (message.type === 'ping') process.send({ type: 'pong', id: message.id });
  if (message.type === 'stop') server.close().catch(() => undefined).then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
server.run().then(
  (address) => process.send({ type: 'ready', port: address.port }),
  (error) => { process.send({ type: 'failed', message: String((error && error.stack) || error) }); process.exit(1); },
);
`;

const require = createRequire(import.meta.url);

/** Starts s3rver on 127.0.0.1:0 in a fresh temp directory, in a child process. */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const { bucket = 'streamhouse-test', startTimeoutMs = 15_000 } = options;
  const directory = await mkdtemp(join(tmpdir(), 'sh-s3rver-'));
  const serverOptions = {
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  };
  const { NODE_OPTIONS: _ignored, ...env } = process.env; // no tsx loader in the child: it runs plain CommonJS
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_PROGRAM], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...env, SH_S3RVER_MODULE: require.resolve('s3rver'), SH_S3RVER_OPTIONS: JSON.stringify(serverOptions) },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const events: S3ObjectEvent[] = [];
  const pongs = new Map<number, () => void>();
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'event') events.push({ name: message.name, key: message.key });
    if (message.type === 'pong') pongs.get(message.id)?.();
  });

  let port: number;
  try {
    port = await waitForReady(child, startTimeoutMs, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  // The child must never keep the test process alive.
  child.unref();
  child.channel?.unref();

  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  let nextPing = 0;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    credentials,
    events,
    syncEvents() {
      const id = nextPing++;
      return new Promise<void>((resolve) => {
        child.channel?.ref(); // an unref'ed channel alone would let the process exit while waiting
        pongs.set(id, () => {
          pongs.delete(id);
          if (pongs.size === 0) child.channel?.unref();
          resolve();
        });
        child.send({ type: 'ping', id });
      });
    },
    storeOptions: (prefix) => ({
      bucket,
      ...(prefix === undefined ? {} : { prefix }),
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    }),
    stop() {
      stopped ??= stopChild(child).finally(() => rm(directory, { recursive: true, force: true }));
      return stopped;
    },
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(`s3rver did not start within ${timeoutMs} ms`), timeoutMs);
    function fail(reason: string): void {
      clearTimeout(timer);
      const output = stderr().trim();
      reject(new Error(output === '' ? reason : `${reason}\n${output}`));
    }
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'failed') {
        fail(`s3rver failed to start: ${message.message}`);
      }
    });
    child.once('error', (error) => fail(`could not start s3rver: ${error.message}`));
    child.once('exit', (code, signal) => fail(`s3rver exited at start (code ${code}, signal ${signal})`));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
