/**
 * Bounds on the topics of a cluster, checked by CreateTopic before anything
 * is written: at most `maxTopics` topics, at most `maxPartitionsPerTopic`
 * partitions each. The topic count is read before the create, so agents
 * creating topics at the same moment may pass it by the number of such creates.
 */
import { InvalidConfigError } from '../../protocol/errors.js';
import type { MetadataStore } from '../../metadata/metadataStore.js';

/** Default of AgentOptions.maxTopics. */
export const DEFAULT_MAX_TOPICS = 10_000;
/** Default of AgentOptions.maxPartitionsPerTopic. */
export const DEFAULT_MAX_PARTITIONS_PER_TOPIC = 1000;

export type TopicLimits = { maxTopics: number; maxPartitionsPerTopic: number };

/** Throws InvalidConfigError (nothing written) when creating `name` with `partitions` would pass a limit. */
export async function checkTopicLimits(
  store: MetadataStore,
  limits: TopicLimits,
  name: string,
  partitions: number,
): Promise<void> {
  if (partitions > limits.maxPartitionsPerTopic) {
    throw new InvalidConfigError(
      `topic ${name} asks for ${partitions} partitions; this cluster allows at most ${limits.maxPartitionsPerTopic} ` +
        'per topic (--max-partitions-per-topic)',
      { context: { topic: name } },
    );
  }
  const count = (await store.listTopics()).length;
  if (count >= limits.maxTopics && (await store.getTopic(name)) === undefined) {
    throw new InvalidConfigError(
      `topic ${name} not created: the cluster has ${count} topics, at most ${limits.maxTopics} allowed (--max-topics)`,
      { context: { topic: name } },
    );
  }
}
