/**
 * ListOffsets for the consumer: each partition's log bounds (log start
 * offset and high watermark) and the first offset at or after a timestamp,
 * asked of each partition's agent, one request per agent, retried with
 * backoff.
 */
import { lastValueFrom, type SchedulerLike } from 'rxjs';
import { fromErrorInfo } from '../../protocol/errors.js';
import { OffsetSpec, type ListOffsetsPartition } from '../../protocol/generated/streamhouse.js';
import { fromAbortable } from '../fromAbortable.js';
import type { TopicPartition } from '../offsets/types.js';
import { retryWithBackoff, type RetryPolicy } from '../retryPolicy.js';
import { callAgent, type AgentCallContext } from '../cluster/agentCall.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Where a partition's log stands. */
export type LogBounds = {
  /** First offset still in the log. */
  logStartOffset: number;
  /** Offset the next produced record will get. */
  highWatermark: number;
};

/** What the offset manager needs to know about logs; keys are `topicPartitionId(topic, partition)`. */
export type OffsetBoundsLookup = {
  /** Log bounds of each partition. */
  bounds(partitions: readonly TopicPartition[]): Promise<Map<string, LogBounds>>;
  /** Per partition, the first offset whose record timestamp is >= `timestamp` (ms), -1 when every record is older. */
  offsetsForTimestamp(partitions: readonly TopicPartition[], timestamp: number): Promise<Map<string, number>>;
};

/** Options of {@link OffsetLookup}. */
export type OffsetLookupOptions = AgentCallContext & {
  /** Timeout of one ListOffsets call, ms. */
  requestTimeoutMs: number;
  /** Retries of retriable failures. */
  retry: RetryPolicy;
  /** Backoff timers. */
  scheduler: SchedulerLike;
};

/** ListOffsets against the agents, routed per partition. */
export class OffsetLookup implements OffsetBoundsLookup {
  constructor(private readonly options: OffsetLookupOptions) {}

  async bounds(partitions: readonly TopicPartition[]): Promise<Map<string, LogBounds>> {
    const asked = partitions.flatMap(({ topic, partition }) => [
      { topic, partition, spec: OffsetSpec.OFFSET_SPEC_EARLIEST, timestampMs: 0 },
      { topic, partition, spec: OffsetSpec.OFFSET_SPEC_LATEST, timestampMs: 0 },
    ]);
    const answers = await this.list(asked);
    const result = new Map<string, LogBounds>();
    for (const { topic, partition } of partitions) {
      const key = topicPartitionId(topic, partition);
      result.set(key, {
        logStartOffset: answers.get(`${OffsetSpec.OFFSET_SPEC_EARLIEST}|${key}`)!,
        highWatermark: answers.get(`${OffsetSpec.OFFSET_SPEC_LATEST}|${key}`)!,
      });
    }
    return result;
  }

  async offsetsForTimestamp(partitions: readonly TopicPartition[], timestamp: number): Promise<Map<string, number>> {
    const asked = partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      spec: OffsetSpec.OFFSET_SPEC_TIMESTAMP,
      timestampMs: timestamp,
    }));
    const answers = await this.list(asked);
    const result = new Map<string, number>();
    for (const { topic, partition } of partitions) {
      const key = topicPartitionId(topic, partition);
      result.set(key, answers.get(`${OffsetSpec.OFFSET_SPEC_TIMESTAMP}|${key}`)!);
    }
    return result;
  }

  /**
   * Answers keyed `<spec>|<topicPartitionId>`; any partition's error fails the whole lookup (after retries when
   * retriable).
   */
  private async list(asked: ListOffsetsPartition[]): Promise<Map<string, number>> {
    const byAddress = new Map<string, ListOffsetsPartition[]>();
    for (const entry of asked) {
      const address = this.options.cluster.addressFor(entry.topic, entry.partition);
      const list = byAddress.get(address);
      if (list === undefined) byAddress.set(address, [entry]);
      else list.push(entry);
    }
    const answers = new Map<string, number>();
    await Promise.all(
      [...byAddress.values()].map(async (entries) => {
        const call = fromAbortable(async (signal) => {
          // Routed afresh on each attempt: a retry after AGENT_UNAVAILABLE may go elsewhere.
          const address = this.options.cluster.addressFor(entries[0]!.topic, entries[0]!.partition);
          const { results } = await callAgent(
            this.options,
            address,
            'list offsets',
            this.options.requestTimeoutMs,
            signal,
            (client, combined) => client.listOffsets({ partitions: entries }, { signal: combined }),
          );
          for (const result of results) {
            const error = fromErrorInfo(result.error, { topic: result.topic, partition: result.partition });
            if (error !== undefined) throw error;
          }
          return results;
        });
        const results = await lastValueFrom(
          call.pipe(retryWithBackoff(this.options.retry, { scheduler: this.options.scheduler })),
        );
        results.forEach((result, i) => {
          answers.set(`${entries[i]!.spec}|${topicPartitionId(result.topic, result.partition)}`, result.offset);
        });
      }),
    );
    return answers;
  }
}
