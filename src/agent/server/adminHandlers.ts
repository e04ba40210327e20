/**
 * Metadata, topic admin, ListOffsets and InitProducerId: thin translations
 * between proto messages and the metadata store.
 */
import type {
  CreateTopicOptions,
  MetadataStore,
  PartitionState,
  TopicConfig,
  TopicInfo,
} from '../../metadata/metadataStore.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import {
  OffsetSpec,
  type AlterTopicConfigRequest,
  type CreateTopicRequest,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ListOffsetsResult,
  type MetadataRequest,
  type MetadataResponse,
  type TopicConfig as ProtoTopicConfig,
  type TopicMetadata,
} from '../../protocol/generated/streamhouse.js';
import { InvalidRequestError, UnknownTopicOrPartitionError, toErrorInfo } from '../../protocol/errors.js';
import type { PartitionReader } from '../read/partitionReader.js';
import { findOffsetForTimestamp } from '../read/timeIndex.js';
import { unknownTopicError } from '../../metadata/storeErrors.js';
import type { SegmentReader } from '../../storage/segmentReader.js';

export type AdminContext = {
  agentId: string;
  metadataStore: MetadataStore;
  objectStore: ObjectStore;
  segments: SegmentReader;
  reader: PartitionReader;
  agentTtlMs: number;
  clock: () => number;
};

/** proto TopicConfig → store config; 0 (proto's unset) means "use the default". */
export function topicConfigFromProto(config: ProtoTopicConfig | undefined): Partial<TopicConfig> {
  const result: Partial<TopicConfig> = {};
  if (config === undefined) return result;
  if (config.retentionMs !== 0) result.retentionMs = config.retentionMs;
  if (config.retentionBytes !== 0) result.retentionBytes = config.retentionBytes;
  if (config.segmentBytes !== 0) result.segmentBytes = config.segmentBytes;
  if (config.maxMessageBytes !== 0) result.maxMessageBytes = config.maxMessageBytes;
  return result;
}

export function topicMetadata(
  topic: TopicInfo,
  partitions: PartitionState[],
  addresses: Map<string, string>,
  now: number,
): TopicMetadata {
  return {
    name: topic.name,
    error: undefined,
    config: { ...topic.config },
    createdAtMs: topic.createdAt,
    topicId: topic.id,
    partitions: partitions.map((p) => {
      const leased = p.leaseHolder !== undefined && p.leaseExpiresAt > now;
      const leader = leased ? p.leaseHolder! : '';
      return {
        partition: p.partition,
        leaderAgentId: leader,
        leaderAddress: leased ? (addresses.get(leader) ?? '') : '',
        leaseEpoch: p.leaseEpoch,
        highWatermark: p.highWatermark,
        logStartOffset: p.logStartOffset,
      };
    }),
  };
}

export async function handleMetadata(ctx: AdminContext, request: MetadataRequest): Promise<MetadataResponse> {
  const agents = await ctx.metadataStore.listLiveAgents(ctx.agentTtlMs);
  const addresses = new Map(agents.map((a) => [a.agentId, a.address]));
  const now = ctx.clock();
  const names = request.topics.length > 0 ? request.topics : (await ctx.metadataStore.listTopics()).map((t) => t.name);
  const topics = await Promise.all(
    names.map(async (name): Promise<TopicMetadata> => {
      const topic = await ctx.metadataStore.getTopic(name);
      if (topic === undefined) {
        return {
          name,
          error: toErrorInfo(new UnknownTopicOrPartitionError(`no topic ${name}`)),
          partitions: [],
          config: undefined,
          createdAtMs: 0,
          topicId: '',
        };
      }
      return topicMetadata(topic, await ctx.metadataStore.listPartitions(name), addresses, now);
    }),
  );
  return {
    topics,
    agentId: ctx.agentId,
    agents: agents.map((a) => ({
      agentId: a.agentId,
      address: a.address,
      startedAtMs: a.startedAt,
      lastHeartbeatMs: a.lastHeartbeat,
    })),
  };
}

export async function describeTopic(ctx: AdminContext, name: string): Promise<TopicMetadata> {
  const topic = await ctx.metadataStore.getTopic(name);
  if (topic === undefined) throw new UnknownTopicOrPartitionError(`no topic ${name}`, { context: { topic: name } });
  const agents = await ctx.metadataStore.listLiveAgents(ctx.agentTtlMs);
  const addresses = new Map(agents.map((a) => [a.agentId, a.address]));
  return topicMetadata(topic, await ctx.metadataStore.listPartitions(name), addresses, ctx.clock());
}

/** Creates the topic; `options` (e.g. the cluster's maxTopics) are checked by the store in the same step. */
export async function createTopic(
  ctx: AdminContext,
  request: CreateTopicRequest,
  options: CreateTopicOptions = {},
): Promise<TopicMetadata> {
  const config = topicConfigFromProto(request.config);
  await ctx.metadataStore.createTopic(request.name, request.partitions, config, options);
  return describeTopic(ctx, request.name);
}

/** Changes the fields of a topic's config that the request sets; InvalidConfigError changes nothing. */
export async function alterTopicConfig(ctx: AdminContext, request: AlterTopicConfigRequest): Promise<TopicMetadata> {
  await ctx.metadataStore.alterTopicConfig(request.name, topicConfigFromProto(request.config));
  return describeTopic(ctx, request.name);
}

/**
 * Deletes a topic: its objects first, then its metadata, then objects that
 * writers put meanwhile. Objects first, so that deleting a topic frees the
 * disk even when it is full: a SQLite metadata file on the same disk needs
 * room to record the deletion. Throws UnknownTopicOrPartitionError, leaving
 * the objects alone, when there is no such topic.
 */
export async function deleteTopic(ctx: AdminContext, name: string): Promise<void> {
  if ((await ctx.metadataStore.getTopic(name)) === undefined) throw unknownTopicError(name);
  await deleteObjects(ctx, name);
  await ctx.metadataStore.deleteTopic(name);
  await deleteObjects(ctx, name);
}

async function deleteObjects(ctx: AdminContext, topic: string): Promise<void> {
  const objects = await ctx.objectStore.list(`topics/${topic}/`);
  await Promise.all(objects.map((o) => ctx.objectStore.delete(o.key)));
  // A topic created again under the name reuses keys: forget what this agent cached of the old one.
  for (const o of objects) ctx.segments.invalidate(ctx.objectStore, o.key);
}

export async function handleListOffsets(ctx: AdminContext, request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
  const results = await Promise.all(
    request.partitions.map(async (p): Promise<ListOffsetsResult> => {
      const base = { topic: p.topic, partition: p.partition };
      try {
        const bounds = await ctx.reader.bounds(p.topic, p.partition);
        switch (p.spec) {
          case OffsetSpec.OFFSET_SPEC_EARLIEST:
            return { ...base, error: undefined, offset: bounds.logStartOffset, timestampMs: -1 };
          case OffsetSpec.OFFSET_SPEC_LATEST:
            return { ...base, error: undefined, offset: bounds.highWatermark, timestampMs: -1 };
          case OffsetSpec.OFFSET_SPEC_TIMESTAMP: {
            const found = await findOffsetForTimestamp(
              ctx.metadataStore,
              ctx.objectStore,
              ctx.segments,
              p.topic,
              p.partition,
              p.timestampMs,
              bounds,
            );
            return { ...base, error: undefined, offset: found?.offset ?? -1, timestampMs: found?.timestamp ?? -1 };
          }
          default:
            throw new InvalidRequestError(`unknown offset spec ${p.spec}`);
        }
      } catch (error) {
        return { ...base, error: toErrorInfo(error), offset: -1, timestampMs: -1 };
      }
    }),
  );
  return { results };
}

export async function handleInitProducerId(
  ctx: AdminContext,
  request: InitProducerIdRequest,
): Promise<InitProducerIdResponse> {
  if (request.producerId < 0) return ctx.metadataStore.allocateProducerId();
  return ctx.metadataStore.bumpProducerEpoch(request.producerId);
}
