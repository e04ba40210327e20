/**
 * ApiVersions, Metadata and DescribeCluster: every live agent is a broker
 * (see brokers.ts); topics are never created by Metadata.
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
  const names = (request.topics ?? []).map((t) => t.name);
  let topics: MetadataResponseTopicInit[] = [];
  if (all || names.length > 0) {
    const unnamed = names.some((n) => n === null || n === '');
    if (unnamed) {
      topics = names.map((name) => ({
        name,
        errorCode: name === null || name === '' ? KafkaErrorCode.UNKNOWN_TOPIC_ID : KafkaErrorCode.NONE,
        partitions: [],
      }));
    } else {
      try {
        const response = ProtoMetadataResponse.fromPartial(
          await ctx.service.metadata(
            { topics: all ? [] : (names as string[]) },
            callContext(info.signal, info.principal),
          ),
        );
        topics = response.topics.map((t) => ({
          name: t.name,
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
        topics = names.map((name) => ({ name, errorCode: code, partitions: [] }));
      }
    }
  }
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
