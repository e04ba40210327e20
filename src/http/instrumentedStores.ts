/**
 * The agent's stores with every call counted and timed into its metrics.
 * The wrapped store is the one a user runs; only observation is added.
 */
import type { MetadataStore, GroupRecord } from '../metadata/metadataStore.js';
import type { ObjectData, ObjectInfo, ObjectStore } from '../storage/objectStore.js';
import type { AgentMetrics } from './agentMetrics.js';

type Op = 'put' | 'get' | 'getRange' | 'list' | 'delete' | 'head';

function dataBytes(data: ObjectData): number {
  if (data instanceof Uint8Array) return data.length;
  let bytes = 0;
  for (const part of data) bytes += part.length;
  return bytes;
}

export class InstrumentedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly metrics: AgentMetrics,
  ) {}

  get url(): string {
    return this.inner.url;
  }

  get cachedByOs(): boolean | undefined {
    return this.inner.cachedByOs;
  }

  put(key: string, data: ObjectData): Promise<void> {
    return this.timed(
      'put',
      () => this.inner.put(key, data),
      () => dataBytes(data),
    );
  }

  get(key: string): Promise<Buffer> {
    return this.timed(
      'get',
      () => this.inner.get(key),
      (read) => read.length,
    );
  }

  getRange(key: string, start: number, length: number, allocate?: (size: number) => Buffer): Promise<Buffer> {
    return this.timed(
      'getRange',
      () => this.inner.getRange(key, start, length, allocate),
      (read) => read.length,
    );
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.timed('head', () => this.inner.head(key));
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.timed('list', () => this.inner.list(prefix));
  }

  delete(key: string): Promise<void> {
    return this.timed('delete', () => this.inner.delete(key));
  }

  async ping(): Promise<void> {
    await this.inner.ping?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async timed<T>(op: Op, call: () => Promise<T>, bytes?: (value: T) => number): Promise<T> {
    const end = this.metrics.objectStoreSeconds.startTimer({ op });
    try {
      const value = await call();
      end();
      this.metrics.objectStoreOps.inc({ op, result: 'ok' });
      if (bytes !== undefined) this.metrics.objectStoreBytes.inc({ op }, bytes(value));
      return value;
    } catch (error) {
      end();
      this.metrics.objectStoreOps.inc({ op, result: 'error' });
      throw error;
    }
  }
}

/** The MetadataStore calls timed: a fixed set, so the `op` label stays bounded. */
const METADATA_OPS = new Set<string>([
  'createTopic',
  'deleteTopic',
  'getTopic',
  'getTopicById',
  'listTopics',
  'getPartition',
  'listPartitions',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'commitSegment',
  'commitSegments',
  'replaceSegments',
  'deleteSegments',
  'listSegments',
  'allocateProducerId',
  'bumpProducerEpoch',
  'getProducerEpoch',
  'getProducerState',
  'registerAgent',
  'heartbeatAgent',
  'listLiveAgents',
  'deregisterAgent',
  'getGroup',
  'updateGroup',
  'listGroups',
  'commitOffsets',
  'fetchOffsets',
  'ping',
]);

/**
 * The metadata store with each call of METADATA_OPS timed, lease acquisitions
 * counted and group records seen reported. Other members pass through.
 */
export function instrumentMetadataStore(inner: MetadataStore, metrics: AgentMetrics): MetadataStore {
  const wrapped = new Map<string | symbol, unknown>();
  return new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(property);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        const op = typeof property === 'string' && METADATA_OPS.has(property) ? property : undefined;
        fn =
          op === undefined
            ? method.bind(target)
            : (...args: unknown[]) => observe(metrics, op, () => method.apply(target, args) as Promise<unknown>);
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

async function observe(metrics: AgentMetrics, op: string, call: () => Promise<unknown>): Promise<unknown> {
  const end = metrics.metadataStoreSeconds.startTimer({ op });
  try {
    const value = await call();
    end();
    metrics.metadataStoreOps.inc({ op, result: 'ok' });
    if (op === 'acquireLease') metrics.leaseAcquired();
    if ((op === 'getGroup' || op === 'updateGroup') && value !== undefined) metrics.groupSeen(value as GroupRecord);
    return value;
  } catch (error) {
    end();
    metrics.metadataStoreOps.inc({ op, result: 'error' });
    throw error;
  }
}
