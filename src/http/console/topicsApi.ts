/** The console's topic page: partitions with offsets, lease and segments; the topic's settings, and changing them. */
import type { StreamHouseClient } from '../../client/agentClient.js';
import type { MetadataStore } from '../../metadata/metadataStore.js';
import type { TopicConfig } from '../../protocol/generated/streamhouse.js';
import { InvalidRequestError } from '../../protocol/errors.js';
import { integerField, objectBody } from './apiInput.js';
import { partitionSizes } from './overviewApi.js';

export type TopicDetail = {
  name: string;
  /** The topic's id (a UUID), as Kafka clients see it. */
  id: string;
  createdAtMs: number;
  config: TopicConfig;
  partitions: {
    partition: number;
    logStartOffset: number;
    highWatermark: number;
    /** Empty when no agent holds the lease. */
    leaderAgentId: string;
    leaderAddress: string;
    leaseEpoch: number;
    segments: number;
    bytes: number;
  }[];
};

const CONFIG_FIELDS = ['retentionMs', 'retentionBytes', 'segmentBytes', 'maxMessageBytes'] as const;

/** A topic as `topics describe` shows it, with each partition's segment count and bytes. */
export async function topicDetail(client: StreamHouseClient, store: MetadataStore, name: string): Promise<TopicDetail> {
  const { topic } = await client.describeTopic({ name });
  if (topic === undefined || topic.config === undefined) throw new InvalidRequestError(`no description of ${name}`);
  const sizes = await partitionSizes(
    store,
    topic.partitions.map((p) => ({
      topic: name,
      partition: p.partition,
      highWatermark: p.highWatermark,
      logStartOffset: p.logStartOffset,
      leaseHolder: undefined,
      leaseEpoch: p.leaseEpoch,
      leaseExpiresAt: 0,
    })),
  );
  return {
    name: topic.name,
    id: topic.topicId,
    createdAtMs: topic.createdAtMs,
    config: topic.config,
    partitions: topic.partitions.map((p, i) => ({
      partition: p.partition,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
      leaderAgentId: p.leaderAgentId,
      leaderAddress: p.leaderAddress,
      leaseEpoch: p.leaseEpoch,
      segments: sizes[i]!.segments,
      bytes: sizes[i]!.bytes,
    })),
  };
}

/**
 * Changes the settings given (the others are kept), as `topics alter` does: retention -1 (unbounded) or at
 * least 1; the store checks the ranges.
 */
export async function alterTopic(
  client: StreamHouseClient,
  store: MetadataStore,
  name: string,
  body: unknown,
): Promise<TopicDetail> {
  const fields = objectBody(body, CONFIG_FIELDS);
  const config: TopicConfig = { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 };
  for (const field of CONFIG_FIELDS) {
    const value = integerField(fields, field, field.startsWith('retention') ? -1 : 1);
    if (value === 0) throw new InvalidRequestError(`${field} must be -1 or at least 1`);
    if (value !== undefined) config[field] = value;
  }
  if (Object.values(config).every((v) => v === 0)) {
    throw new InvalidRequestError(`nothing to alter: give at least one of ${CONFIG_FIELDS.join(', ')}`);
  }
  await client.alterTopicConfig({ name, config });
  return topicDetail(client, store, name);
}
