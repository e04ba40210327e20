/**
 * Before an agent listens, its stores must answer: the metadata store a
 * ping, the object store a ping (or a list). A failure that may pass (Redis
 * not up yet, S3 unreachable) is retried with a logged message each attempt
 * until `timeoutMs` from the start; a failure no retry fixes (a bad
 * directory, a missing bucket) fails at once. Either way the error names the
 * store, so an agent starts whole or not at all.
 */
import type { Logger } from 'pino';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { MetadataError, StorageError, StreamHouseError, createError, isRetriable } from '../../protocol/errors.js';
import { withTimeLimit } from './timeLimit.js';

export type StartupCheckOptions = {
  metadataStore: MetadataStore;
  objectStore: ObjectStore;
  /** Retry for at most this long in all, ms (AgentOptions.startupTimeoutMs); 0: one attempt each. */
  timeoutMs: number;
  logger?: Logger | undefined;
};

/** A prefix no object lives under: listing it only proves the store answers. */
const PROBE_PREFIX = 'streamhouse-startup-probe/';
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 2000;

/** Resolves once both stores answered; rejects with the typed error of the store that did not. */
export async function checkStores(options: StartupCheckOptions): Promise<void> {
  const { metadataStore, objectStore } = options;
  const giveUpAt = Date.now() + options.timeoutMs;
  await untilReady(
    'metadata store',
    () => metadataStore.ping(),
    (m, cause) => new MetadataError(m, { cause }),
    giveUpAt,
    options,
  );
  const pingObjects = () =>
    objectStore.ping !== undefined ? objectStore.ping() : objectStore.list(PROBE_PREFIX).then(() => undefined);
  await untilReady(
    `object store ${objectStore.url}`,
    pingObjects,
    (m, cause) => new StorageError(m, { cause }),
    giveUpAt,
    options,
  );
}

async function untilReady(
  what: string,
  check: () => Promise<void>,
  typed: (message: string, cause?: unknown) => StreamHouseError,
  giveUpAt: number,
  options: StartupCheckOptions,
): Promise<void> {
  let last: StreamHouseError | undefined;
  for (let attempt = 1; ; attempt++) {
    let error: StreamHouseError;
    try {
      // An attempt that hangs (a blackholed address) counts against the same bound; then the previous attempt's error
      // says more.
      return await withTimeLimit(check(), giveUpAt - Date.now(), () => last ?? typed(`${what} did not answer`));
    } catch (thrown) {
      error =
        thrown instanceof StreamHouseError
          ? thrown
          : typed(thrown instanceof Error ? thrown.message : String(thrown), thrown);
    }
    last = error;
    const left = giveUpAt - Date.now();
    if (!isRetriable(error) || left <= 0) {
      const bound = isRetriable(error) ? ` within ${options.timeoutMs} ms (startupTimeoutMs)` : '';
      throw createError(error.code, `agent cannot start: ${what} is not usable${bound}: ${error.message}`, {
        cause: error,
      });
    }
    const delay = Math.min(left, RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
    options.logger?.warn({ err: error, attempt, retryInMs: delay }, `waiting for the ${what}: ${error.message}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
