/**
 * Bounds on the topics of a cluster: at most `maxTopics` topics, at most
 * `maxPartitionsPerTopic` partitions each. The partition bound is checked
 * here before anything is written; the topic count inside the metadata
 * store's create (MetadataStore.createTopic `maxTopics`), in the same atomic
 * step, so agents creating topics at the same moment never pass it together.
 */
import { InvalidConfigError } from '../../protocol/errors.js';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import { tooManyTopicsError, topicExistsError } from '../../metadata/storeErrors.js';

/** Default of AgentOptions.maxTopics. */
export const DEFAULT_MAX_TOPICS = 10_000;
/** Default of AgentOptions.maxPartitionsPerTopic. */
export const DEFAULT_MAX_PARTITIONS_PER_TOPIC = 1000;

export type TopicLimits = { maxTopics: number; maxPartitionsPerTopic: number };

/** Throws InvalidConfigError when a topic `name` of `partitions` partitions passes maxPartitionsPerTopic. */
export function checkPartitionLimit(limits: TopicLimits, name: string, partitions: number): void {
  if (partitions <= limits.maxPartitionsPerTopic) return;
  throw new InvalidConfigError(
    `topic ${name} asks for ${partitions} partitions; this cluster allows at most ${limits.maxPartitionsPerTopic} ` +
      'per topic (--max-partitions-per-topic)',
    { context: { topic: name } },
  );
}

/**
 * What a create would answer for the limits, writing nothing (Kafka validateOnly): the partition bound, then
 * TopicAlreadyExistsError for an existing name, then the topic count as it is now.
 */
export async function checkTopicLimitsWithoutCreating(
  store: MetadataStore,
  limits: TopicLimits,
  name: string,
  partitions: number,
): Promise<void> {
  checkPartitionLimit(limits, name, partitions);
  if ((await store.getTopic(name)) !== undefined) throw topicExistsError(name);
  const count = (await store.listTopics()).length;
  if (count >= limits.maxTopics) throw tooManyTopicsError(name, count, limits.maxTopics);
}
