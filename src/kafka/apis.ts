/**
 * Every API the Kafka listener serves, with the versions it answers: those
 * KafkaJS 2.2, librdkafka 2.x and @platformatic/kafka negotiate. Versions
 * stop before a feature we do not have (the new consumer protocol,
 * transactions). Anything else is absent from
 * ApiVersions, so clients never send it.
 */
import * as m from './generated/index.js';
import { defineApi, type KafkaApi } from './api.js';
import { apiVersionsResponse, handleDescribeCluster, handleMetadata } from './handlers/cluster.js';
import { handleProduce } from './handlers/produce.js';
import { handleFetch, handleListOffsets } from './handlers/fetch.js';
import {
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetFetch,
  handleSyncGroup,
} from './handlers/groups.js';
import {
  handleCreateTopics,
  handleDeleteTopics,
  handleDescribeConfigs,
  handleInitProducerId,
} from './handlers/admin.js';
import { handleAlterConfigs, handleIncrementalAlterConfigs } from './handlers/alterConfigs.js';
import { handleSaslAuthenticate, handleSaslHandshake } from './handlers/sasl.js';

/**
 * The APIs served; SaslHandshake and SaslAuthenticate with `sasl`. SaslHandshake v0 is listed because librdkafka
 * looks for it, but answered UNSUPPORTED_VERSION: its unframed tokens are not spoken.
 */
export function createApis(options: { sasl?: boolean } = {}): ReadonlyMap<number, KafkaApi<unknown, unknown>> {
  const apis = new Map<number, KafkaApi<unknown, unknown>>();
  const versions = () =>
    [...apis.values()].map((a) => ({ apiKey: a.key, minVersion: a.minVersion, maxVersion: a.maxVersion }));
  const list = [
    defineApi(
      'Produce',
      m.ProduceRequestSchema,
      // from 0: librdkafka compresses with gzip, snappy and lz4 only when Produce v0 is listed (magic 2 batches only)
      { min: 0, max: 9 },
      m.readProduceRequest,
      m.writeProduceResponse,
      handleProduce,
    ),
    defineApi(
      'Fetch',
      m.FetchRequestSchema,
      // 13+ name topics by id
      { min: 4, max: 17 },
      m.readFetchRequest,
      m.writeFetchResponse,
      handleFetch,
    ),
    defineApi(
      'ListOffsets',
      m.ListOffsetsRequestSchema,
      { min: 1, max: 7 },
      m.readListOffsetsRequest,
      m.writeListOffsetsResponse,
      handleListOffsets,
    ),
    defineApi(
      'Metadata',
      m.MetadataRequestSchema,
      { min: 0, max: 12 },
      m.readMetadataRequest,
      m.writeMetadataResponse,
      handleMetadata,
    ),
    defineApi(
      'OffsetCommit',
      m.OffsetCommitRequestSchema,
      { min: 2, max: 8 },
      m.readOffsetCommitRequest,
      m.writeOffsetCommitResponse,
      handleOffsetCommit,
    ),
    defineApi(
      'OffsetFetch',
      m.OffsetFetchRequestSchema,
      { min: 1, max: 8 },
      m.readOffsetFetchRequest,
      m.writeOffsetFetchResponse,
      handleOffsetFetch,
    ),
    defineApi(
      'FindCoordinator',
      m.FindCoordinatorRequestSchema,
      { min: 0, max: 4 },
      m.readFindCoordinatorRequest,
      m.writeFindCoordinatorResponse,
      handleFindCoordinator,
    ),
    defineApi(
      'JoinGroup',
      m.JoinGroupRequestSchema,
      { min: 0, max: 9 },
      m.readJoinGroupRequest,
      m.writeJoinGroupResponse,
      handleJoinGroup,
    ),
    defineApi(
      'Heartbeat',
      m.HeartbeatRequestSchema,
      { min: 0, max: 4 },
      m.readHeartbeatRequest,
      m.writeHeartbeatResponse,
      handleHeartbeat,
    ),
    defineApi(
      'LeaveGroup',
      m.LeaveGroupRequestSchema,
      { min: 0, max: 5 },
      m.readLeaveGroupRequest,
      m.writeLeaveGroupResponse,
      handleLeaveGroup,
    ),
    defineApi(
      'SyncGroup',
      m.SyncGroupRequestSchema,
      { min: 0, max: 5 },
      m.readSyncGroupRequest,
      m.writeSyncGroupResponse,
      handleSyncGroup,
    ),
    defineApi(
      'DescribeGroups',
      m.DescribeGroupsRequestSchema,
      { min: 0, max: 5 },
      m.readDescribeGroupsRequest,
      m.writeDescribeGroupsResponse,
      handleDescribeGroups,
    ),
    defineApi(
      'ListGroups',
      m.ListGroupsRequestSchema,
      { min: 0, max: 4 },
      m.readListGroupsRequest,
      m.writeListGroupsResponse,
      handleListGroups,
    ),
    defineApi(
      'ApiVersions',
      m.ApiVersionsRequestSchema,
      { min: 0, max: 3 },
      m.readApiVersionsRequest,
      m.writeApiVersionsResponse,
      async () => apiVersionsResponse(versions()),
    ),
    defineApi(
      'CreateTopics',
      m.CreateTopicsRequestSchema,
      { min: 0, max: 7 },
      m.readCreateTopicsRequest,
      m.writeCreateTopicsResponse,
      handleCreateTopics,
    ),
    defineApi(
      'DeleteTopics',
      m.DeleteTopicsRequestSchema,
      { min: 0, max: 6 },
      m.readDeleteTopicsRequest,
      m.writeDeleteTopicsResponse,
      handleDeleteTopics,
    ),
    defineApi(
      'InitProducerId',
      m.InitProducerIdRequestSchema,
      { min: 0, max: 4 },
      m.readInitProducerIdRequest,
      m.writeInitProducerIdResponse,
      handleInitProducerId,
    ),
    defineApi(
      'DescribeConfigs',
      m.DescribeConfigsRequestSchema,
      { min: 0, max: 4 },
      m.readDescribeConfigsRequest,
      m.writeDescribeConfigsResponse,
      handleDescribeConfigs,
    ),
    defineApi(
      'DescribeCluster',
      m.DescribeClusterRequestSchema,
      { min: 0, max: 1 },
      m.readDescribeClusterRequest,
      m.writeDescribeClusterResponse,
      handleDescribeCluster,
    ),
    defineApi(
      'AlterConfigs',
      m.AlterConfigsRequestSchema,
      { min: 0, max: 2 },
      m.readAlterConfigsRequest,
      m.writeAlterConfigsResponse,
      handleAlterConfigs,
    ),
    defineApi(
      'IncrementalAlterConfigs',
      m.IncrementalAlterConfigsRequestSchema,
      { min: 0, max: 1 },
      m.readIncrementalAlterConfigsRequest,
      m.writeIncrementalAlterConfigsResponse,
      handleIncrementalAlterConfigs,
    ),
  ];
  if (options.sasl === true) {
    list.push(
      defineApi(
        'SaslHandshake',
        m.SaslHandshakeRequestSchema,
        { min: 0, max: 1 },
        m.readSaslHandshakeRequest,
        m.writeSaslHandshakeResponse,
        handleSaslHandshake,
      ),
      defineApi(
        'SaslAuthenticate',
        m.SaslAuthenticateRequestSchema,
        { min: 0, max: 2 },
        m.readSaslAuthenticateRequest,
        m.writeSaslAuthenticateResponse,
        handleSaslAuthenticate,
      ),
    );
  }
  for (const api of list) apis.set(api.key, api);
  return apis;
}
