/**
 * The console's overview: live agents with the partitions each holds, every
 * topic (the first MAX_OVERVIEW_TOPICS by name) with its records and bytes,
 * and this agent's produce and fetch rates. Only topics the caller may
 * describe (the service's ListTopics, with its ACLs) are shown or counted.
 */
import type { StreamHouseClient } from '../../client/agentClient.js';
import type { MetadataStore, PartitionState } from '../../metadata/metadataStore.js';
import { UnknownTopicOrPartitionError } from '../../protocol/errors.js';
import type { RateHistory, RateSample } from './rateHistory.js';

/** Topics the overview describes; the others are only counted. */
export const MAX_OVERVIEW_TOPICS = 100;

export type OverviewContext = {
  metadataStore: MetadataStore;
  agentId: string;
  agentTtlMs: number;
  rates: RateHistory;
  clock: () => number;
  /** The service as the caller, whose ListTopics leaves out topics it may not describe. */
  client: StreamHouseClient;
};

export type Overview = {
  /** The agent answering. */
  agentId: string;
  agents: { agentId: string; address: string; startedAt: number; uptimeMs: number; partitionsHeld: number }[];
  topics: { name: string; partitions: number; records: number; bytes: number; segments: number }[];
  /** Every topic, described or not. */
  topicCount: number;
  rates: RateSample[];
};

/** Records kept (high watermark minus log start) of partitions, and bytes and count of their segments. */
export async function partitionSizes(
  store: MetadataStore,
  partitions: readonly PartitionState[],
): Promise<{ records: number; bytes: number; segments: number }[]> {
  return Promise.all(
    partitions.map(async (p) => {
      const segments = await store.listSegments(p.topic, p.partition);
      return {
        records: p.highWatermark - p.logStartOffset,
        bytes: segments.reduce((sum, s) => sum + s.sizeBytes, 0),
        segments: segments.length,
      };
    }),
  );
}

export async function overview(ctx: OverviewContext): Promise<Overview> {
  const store = ctx.metadataStore;
  const now = ctx.clock();
  const [agents, all, visible] = await Promise.all([
    store.listLiveAgents(ctx.agentTtlMs),
    store.listTopics(),
    ctx.client.listTopics({}),
  ]);
  const names = new Set(visible.names);
  const topics = all.filter((t) => names.has(t.name));
  const held = new Map<string, number>();
  const described = await Promise.all(
    topics.slice(0, MAX_OVERVIEW_TOPICS).map(async (topic) => {
      const partitions = await store.listPartitions(topic.name).catch((error: unknown) => {
        // Deleted since it was listed.
        if (error instanceof UnknownTopicOrPartitionError) return undefined;
        throw error;
      });
      if (partitions === undefined) return undefined;
      for (const p of partitions) {
        if (p.leaseHolder !== undefined && p.leaseExpiresAt >= now) {
          held.set(p.leaseHolder, (held.get(p.leaseHolder) ?? 0) + 1);
        }
      }
      const sizes = await partitionSizes(store, partitions);
      const sum = (key: 'records' | 'bytes' | 'segments') => sizes.reduce((total, s) => total + s[key], 0);
      return {
        name: topic.name,
        partitions: topic.partitions,
        records: sum('records'),
        bytes: sum('bytes'),
        segments: sum('segments'),
      };
    }),
  );
  return {
    agentId: ctx.agentId,
    agents: agents.map((a) => ({
      agentId: a.agentId,
      address: a.address,
      startedAt: a.startedAt,
      uptimeMs: Math.max(0, now - a.startedAt),
      partitionsHeld: held.get(a.agentId) ?? 0,
    })),
    topics: described.filter((t) => t !== undefined),
    topicCount: topics.length,
    rates: ctx.rates.all(),
  };
}
