/**
 * Topic auto-creation on Metadata (`kafkaAutoCreatePartitions` > 0): each
 * missing topic asked for by name is created through the agent's service,
 * so ACLs (`create`) and the topic limits apply as to any CreateTopics.
 */
import { TopicAlreadyExistsError } from '../../protocol/errors.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { kafkaErrorCode } from '../kafkaErrors.js';
import { callContext } from './callService.js';

/** Whether a Metadata request of this version may create topics: always before v4, then when it says so. */
export function mayAutoCreate(ctx: KafkaContext, version: number, allowAutoTopicCreation: boolean): boolean {
  return ctx.autoCreatePartitions > 0 && (version < 4 || allowAutoTopicCreation);
}

/**
 * Creates each of `names` (one at a time, in order) with the configured partition count; returns the Kafka
 * error code of each create that failed. A topic created meanwhile by someone else counts as created.
 */
export async function autoCreateTopics(
  ctx: KafkaContext,
  names: readonly string[],
  info: RequestInfo,
): Promise<Map<string, number>> {
  const failed = new Map<string, number>();
  for (const name of names) {
    try {
      await ctx.service.createTopic(
        { name, partitions: ctx.autoCreatePartitions, config: undefined },
        callContext(info.signal, info.principal),
      );
      ctx.logger?.info({ topic: name, partitions: ctx.autoCreatePartitions }, 'kafka metadata created a topic');
    } catch (error) {
      if (!(error instanceof TopicAlreadyExistsError)) failed.set(name, kafkaErrorCode(error));
    }
  }
  return failed;
}
