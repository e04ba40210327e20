/**
 * ApiVersions, Metadata and DescribeCluster: every live agent is a broker
 * (see brokers.ts); Metadata creates topics only with auto-creation on
 * (autoCreate.ts). Topics carry their ids (v10+) and may be asked for by id.
 */
import { MetadataResponse as ProtoMetadataResponse } from '../../protocol/generated/streamhouse.js';
import type { MetadataRequest } from '../generated/metadataRequest.js';
import type { MetadataResponseInit, MetadataResponseTopicInit } from '../generated/metadataResponse.js';
import type { DescribeClusterResponseInit } from '../generated/describeClusterResponse.js';
import type { ApiVersionsResponseInit } from '../generated/apiVersionsResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { KafkaErrorCode, kafkaErrorCode, kafkaErrorCodeOfInfo } from '../kafkaErrors.js';
import { brokerView, type BrokerView } from '../brokers.js';
import { callContext } from './callService.js';
import { isZeroTopicId, topicIdBytes } from '../topicIds.js';
import { autoCreateTopics, mayAutoCreate } from './autoCreate.js';
import { ZERO_UUID } from '../wire/fieldHelpers.js';

/** The cluster id every agent reports. */
export const CLUSTER_ID = 'streamhouse';
const INT32_MAX = 0x7fffffff;

export function apiVersionsResponse(
  apis: { apiKey: number; minVersion: number; maxVersion: number }[],
): ApiVersionsResponseInit {
  return { errorCode: 0, apiKeys: apis };
}

function controllerOf(view: BrokerView): number {
  return Math.min(...view.brokers.map((b) => b.nodeId));
}

export async function handleMetadata(
  ctx: KafkaContext,
  request: MetadataRequest,
  info: RequestInfo,
): Promise<MetadataResponseInit> {
  const view = await brokerView(ctx);
  // v0: an empty list means every topic; v1+: null means every topic, an empty list none.
  const all = request.topics === null || (info.version === 0 && request.topics.length === 0);
  // Before v12 a topic may not be asked for by id: Kafka refuses the whole request (INVALID_REQUEST, '' for null).
  if (info.version < 12 && request.topics?.some((t) => t.name === null || !isZeroTopicId(t.topicId))) {
    return metadataAnswer(
      view,
      request.topics.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId,
        errorCode: KafkaErrorCode.INVALID_REQUEST,
        partitions: [],
      })),
    );
  }
  // v12+ may name a topic by id instead (name null); an id of no topic answers UNKNOWN_TOPIC_ID.
  const requested = request.topics ?? [];
  const byId = (t: (typeof requested)[number]) => info.version >= 12 && (t.name === null || t.name === '');
  const resolved = await ctx.topicIds.names(requested.filter(byId).map((t) => t.topicId));
  let next = 0;
  const asked = requested.map((t) =>
    byId(t)
      ? { name: resolved[next++], topicId: t.topicId, byId: true }
      : { name: t.name as string | undefined, topicId: t.topicId, byId: false },
  );
  const names = asked.flatMap((t) => (t.name === undefined ? [] : [t.name]));
  let found = all || names.length > 0 ? await describeTopics(ctx, view, all ? [] : names, info) : [];
  if (!all && mayAutoCreate(ctx, info.version, request.allowAutoTopicCreation)) {
    const byNameOnly = new Set(asked.filter((t) => !t.byId).map((t) => t.name));
    const missing = found
      .filter((t) => t.errorCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION && byNameOnly.has(t.name ?? ''))
      .map((t) => t.name!);
    if (missing.length > 0) {
      const distinct = [...new Set(missing)];
      const failed = await autoCreateTopics(ctx, distinct, info);
      const created = distinct.filter((name) => !failed.has(name));
      const answers = new Map(
        created.length === 0 ? [] : (await describeTopics(ctx, view, created, info)).map((t) => [t.name, t]),
      );
      found = found.map((t) => {
        const code = failed.get(t.name ?? '');
        if (code !== undefined) return { ...t, errorCode: code };
        return answers.get(t.name) ?? t;
      });
    }
  }
  const byName = new Map(found.map((t) => [t.name, t]));
  const topics: MetadataResponseTopicInit[] = all
    ? found
    : asked.map((t) => {
        const answer = t.name === undefined ? undefined : byName.get(t.name);
        if (answer === undefined) {
          return { name: null, topicId: t.topicId, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_ID, partitions: [] };
        }
        if (!t.byId) return answer;
        // The name may be a deleted topic's (the resolver trusts an id for a while): only that id's topic answers.
        const gone =
          answer.errorCode === KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
          (answer.errorCode === KafkaErrorCode.NONE && !t.topicId.equals(answer.topicId ?? ZERO_UUID));
        if (gone) return { name: null, topicId: t.topicId, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_ID, partitions: [] };
        // A topic asked for by id keeps its name from a caller who may not describe it.
        const hidden = answer.errorCode === KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;
        return { ...answer, name: hidden ? null : answer.name, topicId: t.topicId };
      });
  return metadataAnswer(view, topics);
}

/** Every topic (`names` empty) or the named ones, as the service describes them; errors per topic. */
async function describeTopics(
  ctx: KafkaContext,
  view: BrokerView,
  names: string[],
  info: RequestInfo,
): Promise<MetadataResponseTopicInit[]> {
  try {
    const response = ProtoMetadataResponse.fromPartial(
      await ctx.service.metadata({ topics: names }, callContext(info.signal, info.principal)),
    );
    return response.topics.map((t) => ({
      name: t.name,
      topicId: topicIdBytes(t.topicId),
      errorCode: kafkaErrorCodeOfInfo(t.error),
      isInternal: false,
      partitions: t.partitions.map((p) => {
        const leader = view.leaderOf(t.name, p.partition, p.leaderAgentId);
        return {
          errorCode: 0,
          partitionIndex: p.partition,
          leaderId: leader,
          leaderEpoch: Math.min(p.leaseEpoch, INT32_MAX),
          replicaNodes: [leader],
          isrNodes: [leader],
          offlineReplicas: [],
        };
      }),
    }));
  } catch (error) {
    const code = kafkaErrorCode(error);
    return names.map((name) => ({ name, errorCode: code, partitions: [] }));
  }
}

function metadataAnswer(view: BrokerView, topics: MetadataResponseTopicInit[]): MetadataResponseInit {
  return {
    brokers: view.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
    clusterId: CLUSTER_ID,
    controllerId: controllerOf(view),
    topics,
    clusterAuthorizedOperations: -2147483648,
  };
}

export async function handleDescribeCluster(
  ctx: KafkaContext,
  _request: unknown,
  info: RequestInfo,
): Promise<DescribeClusterResponseInit> {
  const view = await brokerView(ctx);
  const denied = ctx.authorizer?.clusterError(info.principal, 'admin');
  return {
    errorCode: denied === undefined ? 0 : kafkaErrorCode(denied),
    errorMessage: denied?.message ?? null,
    clusterId: CLUSTER_ID,
    controllerId: controllerOf(view),
    brokers: view.brokers.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: null })),
    clusterAuthorizedOperations: -2147483648,
  };
}
