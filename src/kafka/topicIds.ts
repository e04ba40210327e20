/**
 * Topic ids on the Kafka wire: 16 bytes there, the hyphenated text our
 * metadata store keeps (see src/metadata/topicIds.ts), and the lookup of a
 * Fetch's or Metadata's ids to names.
 */
import type { MetadataStore } from '../metadata/metadataStore.js';
import { ZERO_UUID } from './wire/fieldHelpers.js';

/** A stored topic id as Kafka's 16 bytes; the zero UUID for '' (no id). */
export function topicIdBytes(id: string): Buffer {
  if (id === '') return ZERO_UUID;
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  if (bytes.length !== 16) throw new RangeError(`not a topic id: ${id}`);
  return bytes;
}

/** Kafka's 16 bytes as the stored text: lower-case, hyphenated 8-4-4-4-12. */
export function topicIdText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isZeroTopicId(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Whether `id` can be a topic's: 16 bytes, not the zero id. */
function namesATopic(id: Uint8Array): boolean {
  return id.length === 16 && !isZeroTopicId(id);
}

/** Options of a TopicIdResolver. */
export type TopicIdResolverOptions = {
  /** How long a looked-up id is trusted before the store is asked again, ms. Default 1000. */
  ttlMs?: number;
  /** Ids kept at most; the cache starts over beyond it. Default 10000. */
  maxEntries?: number;
  /** Default Date.now. */
  clock?: () => number;
};

/**
 * Names the topics Kafka clients give by id. An answer is trusted for
 * `ttlMs`: a topic deleted and created again under its name within that
 * time may still be read by the old id. Unknown ids are remembered too, so
 * a client repeating them costs one store read per id and period; this is
 * safe because a new topic's id is random and never asked for before it
 * exists.
 */
export class TopicIdResolver {
  private readonly cache = new Map<string, { name: string | undefined; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(
    private readonly store: Pick<MetadataStore, 'getTopicById'>,
    options: TopicIdResolverOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 1000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.clock = options.clock ?? Date.now;
  }

  /** The topic named by these 16 bytes; undefined for the zero id and for ids of no topic. */
  async name(id: Uint8Array): Promise<string | undefined> {
    return namesATopic(id) ? this.lookup(topicIdText(id)) : undefined;
  }

  /**
   * The names of `ids` in order, each distinct id looked up once and one
   * after another, so a request naming many unknown ids costs its own
   * connection time, not the store a burst of reads.
   */
  async names(ids: readonly Uint8Array[]): Promise<(string | undefined)[]> {
    const byText = new Map<string, string | undefined>();
    const names: (string | undefined)[] = [];
    for (const id of ids) {
      if (!namesATopic(id)) {
        names.push(undefined);
        continue;
      }
      const text = topicIdText(id);
      if (!byText.has(text)) byText.set(text, await this.lookup(text));
      names.push(byText.get(text));
    }
    return names;
  }

  /** The name of the topic with this stored id, from the cache while it is fresh. */
  private async lookup(text: string): Promise<string | undefined> {
    const now = this.clock();
    const cached = this.cache.get(text);
    if (cached !== undefined && cached.until > now) return cached.name;
    const name = (await this.store.getTopicById(text))?.name;
    this.remember(text, name, now);
    return name;
  }

  private remember(id: string, name: string | undefined, now: number): void {
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(id, { name, until: now + this.ttlMs });
  }
}
