/**
 * The agent's service with every call checked against the ACLs: the one place
 * authorisation is enforced for gRPC and for the Kafka listener (whose
 * handlers call this same service). The principal is the call's
 * (principalOf), ANONYMOUS when it has none.
 *
 * Calls about one resource (a topic, a group) fail whole with the typed
 * authorisation error; calls about many partitions answer a denied partition
 * with that error in its result and pass the others on; listings leave out
 * what the principal may not describe. What each method needs:
 *
 * | method | needs |
 * | --- | --- |
 * | Produce | produce on each partition's topic |
 * | Fetch | consume on each partition's topic |
 * | ListOffsets | describe on each partition's topic |
 * | Metadata, ListTopics, DescribeTopic | describe on the topic (all topics: those described) |
 * | CreateTopic | create on the topic, or admin on the cluster |
 * | DeleteTopic / AlterTopicConfig | delete / alter on the topic |
 * | JoinGroup, SyncGroup, Heartbeat, LeaveGroup | read on the group |
 * | CommitOffsets | read on the group, consume on each partition's topic |
 * | FetchOffsets | describe on the group and on each topic named (all: those described) |
 * | ListGroups / DescribeGroup / DeleteGroup | describe (listing: filter) / describe / delete on the group |
 * | InitProducerId | produce on some topic, or admin on the cluster |
 * | Health | nothing |
 */
import type { CallContext } from 'nice-grpc-common';
import type { StreamHouseServiceImplementation } from '../../protocol/generated/streamhouse.js';
import { toErrorInfo, type StreamHouseError } from '../../protocol/errors.js';
import type { TopicOperation } from '../../metadata/aclRules.js';
import { principalOf } from '../tls/principal.js';
import type { Authorizer } from './aclAuthorizer.js';

type Partition = { topic: string; partition: number };

/** Splits partitions into those allowed and the denied ones' errors by index; one check per distinct topic. */
function splitByTopic<P extends Partition>(
  auth: Authorizer,
  principal: string | undefined,
  operation: TopicOperation,
  partitions: readonly P[],
): { allowed: P[]; denied: Map<number, StreamHouseError> } {
  const byTopic = new Map<string, StreamHouseError | undefined>();
  const allowed: P[] = [];
  const denied = new Map<number, StreamHouseError>();
  partitions.forEach((p, i) => {
    let error = byTopic.get(p.topic);
    if (error === undefined && !byTopic.has(p.topic)) {
      error = auth.topicError(principal, operation, p.topic);
      byTopic.set(p.topic, error);
    }
    if (error === undefined) allowed.push(p);
    else denied.set(i, error);
  });
  return { allowed, denied };
}

/** The answers of the allowed partitions (in order) with the denied ones' results put back at their places. */
function merge<R>(
  partitions: readonly Partition[],
  denied: Map<number, StreamHouseError>,
  answered: readonly R[] | undefined,
  deniedResult: (p: Partition, error: StreamHouseError) => R,
): R[] {
  let next = 0;
  return partitions.map((p, i) => {
    const error = denied.get(i);
    return error === undefined ? answered![next++]! : deniedResult(p, error);
  });
}

function throwIf(error: StreamHouseError | undefined): void {
  if (error !== undefined) throw error;
}

/** `inner` with every call checked by `auth` (see the module comment). */
export function authorizedService(
  inner: StreamHouseServiceImplementation,
  auth: Authorizer,
): StreamHouseServiceImplementation {
  const who = (context: CallContext) => principalOf(context);
  return {
    produce: async (request, context) => {
      const { allowed, denied } = splitByTopic(auth, who(context), 'produce', request.partitions);
      if (denied.size === 0) return inner.produce(request, context);
      const answer = allowed.length === 0 ? {} : await inner.produce({ ...request, partitions: allowed }, context);
      const results = merge(request.partitions, denied, answer.results, (p, error) => ({
        topic: p.topic,
        partition: p.partition,
        error: toErrorInfo(error),
        baseOffset: -1,
        logStartOffset: -1,
      }));
      return { results };
    },
    fetch: async (request, context) => {
      const { allowed, denied } = splitByTopic(auth, who(context), 'consume', request.partitions);
      if (denied.size === 0) return inner.fetch(request, context);
      // A partition in error answers at once, as the fetch handler does.
      const answer =
        allowed.length === 0 ? {} : await inner.fetch({ ...request, partitions: allowed, maxWaitMs: 0 }, context);
      const results = merge(request.partitions, denied, answer.results, (p, error) => ({
        topic: p.topic,
        partition: p.partition,
        error: toErrorInfo(error),
        highWatermark: -1,
        logStartOffset: -1,
        records: Buffer.alloc(0),
      }));
      return { results };
    },
    listOffsets: async (request, context) => {
      const { allowed, denied } = splitByTopic(auth, who(context), 'describe', request.partitions);
      if (denied.size === 0) return inner.listOffsets(request, context);
      const answer = allowed.length === 0 ? {} : await inner.listOffsets({ partitions: allowed }, context);
      const results = merge(request.partitions, denied, answer.results, (p, error) => ({
        topic: p.topic,
        partition: p.partition,
        error: toErrorInfo(error),
        offset: -1,
        timestampMs: -1,
      }));
      return { results };
    },
    metadata: async (request, context) => {
      const principal = who(context);
      if (request.topics.length === 0) {
        const answer = await inner.metadata(request, context);
        const topics = (answer.topics ?? []).filter((t) => auth.mayTopic(principal, 'describe', t.name ?? ''));
        return { ...answer, topics };
      }
      const errors = request.topics.map((name) => auth.topicError(principal, 'describe', name));
      const allowed = request.topics.filter((_, i) => errors[i] === undefined);
      if (allowed.length === request.topics.length) return inner.metadata(request, context);
      // An empty list asks for every topic: ask for the agents alone by leaving the topics out of the answer.
      const answer = await inner.metadata({ topics: allowed }, context);
      const found = new Map((allowed.length === 0 ? [] : (answer.topics ?? [])).map((t) => [t.name, t]));
      const topics = request.topics.map((name, i) => {
        const error = errors[i];
        return error === undefined ? found.get(name)! : { name, error: toErrorInfo(error), partitions: [] };
      });
      return { ...answer, topics };
    },
    createTopic: async (request, context) => {
      throwIf(auth.topicError(who(context), 'create', request.name));
      return inner.createTopic(request, context);
    },
    deleteTopic: async (request, context) => {
      throwIf(auth.topicError(who(context), 'delete', request.name));
      return inner.deleteTopic(request, context);
    },
    listTopics: async (request, context) => {
      const principal = who(context);
      const answer = await inner.listTopics(request, context);
      const names = (answer.names ?? []).filter((n) => auth.mayTopic(principal, 'describe', n));
      return { names };
    },
    describeTopic: async (request, context) => {
      throwIf(auth.topicError(who(context), 'describe', request.name));
      return inner.describeTopic(request, context);
    },
    alterTopicConfig: async (request, context) => {
      throwIf(auth.topicError(who(context), 'alter', request.name));
      return inner.alterTopicConfig(request, context);
    },
    joinGroup: async (request, context) => {
      throwIf(auth.groupError(who(context), 'read', request.groupId));
      return inner.joinGroup(request, context);
    },
    syncGroup: async (request, context) => {
      throwIf(auth.groupError(who(context), 'read', request.groupId));
      return inner.syncGroup(request, context);
    },
    heartbeat: async (request, context) => {
      throwIf(auth.groupError(who(context), 'read', request.groupId));
      return inner.heartbeat(request, context);
    },
    leaveGroup: async (request, context) => {
      throwIf(auth.groupError(who(context), 'read', request.groupId));
      return inner.leaveGroup(request, context);
    },
    commitOffsets: async (request, context) => {
      const principal = who(context);
      throwIf(auth.groupError(principal, 'read', request.groupId));
      const { allowed, denied } = splitByTopic(auth, principal, 'consume', request.partitions);
      if (denied.size === 0) return inner.commitOffsets(request, context);
      const answer =
        allowed.length === 0 ? {} : await inner.commitOffsets({ ...request, partitions: allowed }, context);
      const results = merge(request.partitions, denied, answer.results, (p, error) => ({
        topic: p.topic,
        partition: p.partition,
        error: toErrorInfo(error),
      }));
      return { results };
    },
    fetchOffsets: async (request, context) => {
      const principal = who(context);
      throwIf(auth.groupError(principal, 'describe', request.groupId));
      for (const p of request.partitions) throwIf(auth.topicError(principal, 'describe', p.topic));
      const answer = await inner.fetchOffsets(request, context);
      if (request.partitions.length > 0) return answer;
      const offsets = (answer.offsets ?? []).filter((o) => auth.mayTopic(principal, 'describe', o.topic ?? ''));
      return { offsets };
    },
    listGroups: async (request, context) => {
      const principal = who(context);
      const answer = await inner.listGroups(request, context);
      const groups = (answer.groups ?? []).filter((g) => auth.mayGroup(principal, 'describe', g.groupId ?? ''));
      return { groups };
    },
    describeGroup: async (request, context) => {
      throwIf(auth.groupError(who(context), 'describe', request.groupId));
      return inner.describeGroup(request, context);
    },
    deleteGroup: async (request, context) => {
      throwIf(auth.groupError(who(context), 'delete', request.groupId));
      return inner.deleteGroup(request, context);
    },
    initProducerId: async (request, context) => {
      const principal = who(context);
      if (!auth.mayProduceSomewhere(principal)) throwIf(auth.clusterError(principal, 'admin'));
      return inner.initProducerId(request, context);
    },
    health: (request, context) => inner.health(request, context),
  };
}
