/**
 * CreateTopics, DeleteTopics, DescribeConfigs and InitProducerId. Topic
 * configs map to ours: retention.ms, retention.bytes, segment.bytes,
 * max.message.bytes; any other name answers INVALID_CONFIG (except
 * cleanup.policy=delete, which is what every topic does).
 */
import {
  CreateTopicResponse as ProtoCreateTopicResponse,
  DescribeTopicResponse as ProtoDescribeTopicResponse,
  InitProducerIdResponse as ProtoInitProducerIdResponse,
  type TopicConfig as ProtoTopicConfig,
} from '../../protocol/generated/streamhouse.js';
import { InvalidConfigError, InvalidRequestError } from '../../protocol/errors.js';
import type { CreateTopicsRequest, CreateTopicsRequestCreatableTopic } from '../generated/createTopicsRequest.js';
import type {
  CreateTopicsResponseCreatableTopicResultInit,
  CreateTopicsResponseInit,
} from '../generated/createTopicsResponse.js';
import type { DeleteTopicsRequest } from '../generated/deleteTopicsRequest.js';
import type { DeleteTopicsResponseInit } from '../generated/deleteTopicsResponse.js';
import type { DescribeConfigsRequest } from '../generated/describeConfigsRequest.js';
import type {
  DescribeConfigsResponseDescribeConfigsResultInit,
  DescribeConfigsResponseInit,
} from '../generated/describeConfigsResponse.js';
import type { InitProducerIdRequest } from '../generated/initProducerIdRequest.js';
import type { InitProducerIdResponseInit } from '../generated/initProducerIdResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { KafkaErrorCode, errorMessage, kafkaErrorCode } from '../kafkaErrors.js';
import { callContext } from './callService.js';
import { checkTopicLimitsWithoutCreating } from '../../agent/server/topicLimits.js';
import { isZeroTopicId, topicIdBytes, topicIdText } from '../topicIds.js';
import { ZERO_UUID } from '../wire/fieldHelpers.js';

/** Kafka topic config names and our TopicConfig fields. */
export const CONFIG_NAMES = {
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'segment.bytes': 'segmentBytes',
  'max.message.bytes': 'maxMessageBytes',
} as const satisfies Record<string, keyof ProtoTopicConfig>;

export type ConfigName = keyof typeof CONFIG_NAMES;

export function isConfigName(name: string): name is ConfigName {
  return Object.hasOwn(CONFIG_NAMES, name);
}

/** Kafka config entries → our topic config (0 = the agent's default). */
export function topicConfigFromKafka(configs: readonly { name: string; value: string | null }[]): ProtoTopicConfig {
  const config: ProtoTopicConfig = { retentionMs: 0, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 };
  for (const { name, value } of configs) {
    if (name === 'cleanup.policy' && value === 'delete') continue;
    if (!isConfigName(name))
      throw new InvalidConfigError(
        `unsupported topic config ${name} (supported: ${Object.keys(CONFIG_NAMES).join(', ')})`,
      );
    if (value === null) continue;
    config[CONFIG_NAMES[name]] = configInteger(name, value);
  }
  return config;
}

/** A config value as Kafka writes numbers: decimal digits with an optional minus, a safe integer. */
export function configInteger(name: string, value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidConfigError(`topic config ${name} must be an integer, got '${value}'`);
  return n;
}

async function createOne(
  ctx: KafkaContext,
  topic: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  info: RequestInfo,
): Promise<CreateTopicsResponseCreatableTopicResultInit> {
  const partitions = topic.numPartitions === -1 ? 1 : topic.numPartitions;
  try {
    if (topic.assignments.length > 0)
      throw new InvalidRequestError('replica assignments are not supported: every partition lives in the object store');
    if (partitions < 1) throw new InvalidRequestError(`numPartitions must be at least 1, got ${topic.numPartitions}`);
    const config = topicConfigFromKafka(topic.configs);
    if (validateOnly) {
      // Reads the store itself, so it answers as the service's create would (ACLs, limits, an existing name).
      const denied = ctx.authorizer?.topicError(info.principal, 'create', topic.name);
      if (denied !== undefined) throw denied;
      await checkTopicLimitsWithoutCreating(ctx.metadataStore, ctx.topicLimits, topic.name, partitions);
      return {
        name: topic.name,
        errorCode: 0,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: 1,
        configs: null,
      };
    }
    const created = ProtoCreateTopicResponse.fromPartial(
      await ctx.service.createTopic({ name: topic.name, partitions, config }, callContext(info.signal, info.principal)),
    );
    return {
      name: topic.name,
      topicId: topicIdBytes(created.topic?.topicId ?? ''),
      errorCode: 0,
      errorMessage: null,
      numPartitions: created.topic?.partitions.length ?? partitions,
      replicationFactor: 1,
      configs: null,
    };
  } catch (error) {
    const code =
      error instanceof InvalidRequestError && topic.assignments.length > 0
        ? KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT
        : kafkaErrorCode(error);
    return {
      name: topic.name,
      errorCode: code,
      errorMessage: errorMessage(error),
      numPartitions: -1,
      replicationFactor: -1,
      configs: null,
    };
  }
}

export async function handleCreateTopics(
  ctx: KafkaContext,
  request: CreateTopicsRequest,
  info: RequestInfo,
): Promise<CreateTopicsResponseInit> {
  const repeated = repeatedKeys(request.topics.map((t) => t.name));
  const topics = [];
  for (const topic of request.topics) {
    // As Kafka: a topic named twice in one request is created by neither entry.
    if (repeated.has(topic.name)) {
      topics.push({
        name: topic.name,
        errorCode: KafkaErrorCode.INVALID_REQUEST,
        errorMessage: `topic ${topic.name} is named more than once in the request`,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      });
      continue;
    }
    topics.push(await createOne(ctx, topic, request.validateOnly, info));
  }
  return { topics };
}

/** The keys that occur more than once. */
function repeatedKeys(keys: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const key of keys) (seen.has(key) ? repeated : seen).add(key);
  return repeated;
}

export async function handleDeleteTopics(
  ctx: KafkaContext,
  request: DeleteTopicsRequest,
  info: RequestInfo,
): Promise<DeleteTopicsResponseInit> {
  // v6+ may name a topic by id (name null); it is looked up afresh, not from the resolver's cache.
  const asked =
    info.version >= 6
      ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
      : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const keyOf = (t: { name: string | null; topicId: Uint8Array }) => t.name ?? topicIdText(t.topicId);
  const repeated = repeatedKeys(asked.map(keyOf));
  const responses = [];
  for (const { name: given, topicId } of asked) {
    if (repeated.has(keyOf({ name: given, topicId }))) {
      const errorMessage = 'the topic is named more than once in the request';
      responses.push({ name: given, topicId, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage });
      continue;
    }
    // As Kafka's controller: an entry names its topic by name or by id, exactly one of them.
    const shape =
      given !== null && !isZeroTopicId(topicId)
        ? 'You may not specify both topic name and topic id.'
        : given === null && isZeroTopicId(topicId)
          ? 'Neither topic name nor id were specified.'
          : undefined;
    if (shape !== undefined) {
      responses.push({ name: given, topicId, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: shape });
      continue;
    }
    const name =
      given ??
      (isZeroTopicId(topicId) ? undefined : (await ctx.metadataStore.getTopicById(topicIdText(topicId)))?.name);
    if (name === undefined) {
      responses.push({
        name: null,
        topicId,
        errorCode: KafkaErrorCode.UNKNOWN_TOPIC_ID,
        errorMessage: 'no topic has this id',
      });
      continue;
    }
    try {
      await ctx.service.deleteTopic({ name }, callContext(info.signal, info.principal));
      responses.push({ name, topicId, errorCode: 0, errorMessage: null });
    } catch (error) {
      const errorCode = kafkaErrorCode(error);
      // A topic given by id keeps its name from a caller who may not delete it.
      const shown = given === null && errorCode === KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED ? null : name;
      responses.push({ name: shown, topicId, errorCode, errorMessage: errorMessage(error) });
    }
  }
  return { responses };
}

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
const SOURCE_DYNAMIC_TOPIC = 1;
const SOURCE_DEFAULT = 5;
const CONFIG_TYPE_INT = 3;
const CONFIG_TYPE_LONG = 5;

export async function handleDescribeConfigs(
  ctx: KafkaContext,
  request: DescribeConfigsRequest,
  info: RequestInfo,
): Promise<DescribeConfigsResponseInit> {
  const results: DescribeConfigsResponseDescribeConfigsResultInit[] = [];
  for (const resource of request.resources) {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    if (resource.resourceType === RESOURCE_BROKER) {
      const denied = ctx.authorizer?.clusterError(info.principal, 'admin');
      const errorCode = denied === undefined ? 0 : kafkaErrorCode(denied);
      results.push({ ...base, errorCode, errorMessage: denied?.message ?? null, configs: [] });
      continue;
    }
    if (resource.resourceType !== RESOURCE_TOPIC) {
      results.push({
        ...base,
        errorCode: KafkaErrorCode.INVALID_REQUEST,
        errorMessage: `resource type ${resource.resourceType} is not supported`,
        configs: [],
      });
      continue;
    }
    try {
      const described = ProtoDescribeTopicResponse.fromPartial(
        await ctx.service.describeTopic({ name: resource.resourceName }, callContext(info.signal, info.principal)),
      );
      const config = described.topic?.config;
      const keys = resource.configurationKeys ?? Object.keys(CONFIG_NAMES);
      const configs = keys.filter(isConfigName).map((name) => {
        const field = CONFIG_NAMES[name];
        return {
          name,
          value: String(config?.[field] ?? ''),
          readOnly: false,
          isDefault: false,
          configSource: config === undefined ? SOURCE_DEFAULT : SOURCE_DYNAMIC_TOPIC,
          isSensitive: false,
          synonyms: [],
          configType: field === 'maxMessageBytes' ? CONFIG_TYPE_INT : CONFIG_TYPE_LONG,
          documentation: null,
        };
      });
      results.push({ ...base, errorCode: 0, errorMessage: null, configs });
    } catch (error) {
      results.push({ ...base, errorCode: kafkaErrorCode(error), errorMessage: errorMessage(error), configs: [] });
    }
  }
  return { results };
}

export async function handleInitProducerId(
  ctx: KafkaContext,
  request: InitProducerIdRequest,
  info: RequestInfo,
): Promise<InitProducerIdResponseInit> {
  if (request.transactionalId !== null) {
    return { errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  try {
    const response = ProtoInitProducerIdResponse.fromPartial(
      await ctx.service.initProducerId(
        { producerId: request.producerId, producerEpoch: request.producerEpoch },
        callContext(info.signal, info.principal),
      ),
    );
    return { errorCode: 0, producerId: response.producerId, producerEpoch: response.producerEpoch };
  } catch (error) {
    return { errorCode: kafkaErrorCode(error), producerId: -1, producerEpoch: -1 };
  }
}
