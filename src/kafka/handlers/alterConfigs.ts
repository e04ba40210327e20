/**
 * AlterConfigs (replace a topic's whole config) and IncrementalAlterConfigs
 * (SET or DELETE single entries) for the topic configs we have:
 * retention.ms, retention.bytes, segment.bytes, max.message.bytes
 * (cleanup.policy=delete is accepted and changes nothing). Each resource is
 * checked whole and answered on its own: one bad entry changes nothing of
 * its resource and leaves the others alone. Broker configs are fixed when
 * the agent starts, so broker resources answer INVALID_REQUEST.
 */
import { AlterTopicConfigRequest } from '../../protocol/generated/streamhouse.js';
import { InvalidConfigError, InvalidRequestError, UnknownTopicOrPartitionError } from '../../protocol/errors.js';
import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from '../../metadata/metadataStore.js';
import { resolveTopicConfig } from '../../metadata/validation.js';
import type { AlterConfigsRequest } from '../generated/alterConfigsRequest.js';
import type { AlterConfigsResponseInit } from '../generated/alterConfigsResponse.js';
import type { IncrementalAlterConfigsRequest } from '../generated/incrementalAlterConfigsRequest.js';
import type { IncrementalAlterConfigsResponseInit } from '../generated/incrementalAlterConfigsResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { errorMessage, kafkaErrorCode } from '../kafkaErrors.js';
import { callContext } from './callService.js';
import { CONFIG_NAMES, RESOURCE_BROKER, RESOURCE_TOPIC, configInteger, isConfigName } from './admin.js';

/** IncrementalAlterConfigs operations (APPEND and SUBTRACT are for list configs, which we have none of). */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

type Entry = { name: string; value: string | null; operation: number };
type ResourceResult = { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string };

/**
 * The fields an alteration writes: for a whole-config replace every field
 * (unnamed ones back to their defaults), else only the named ones.
 */
function changesOf(entries: readonly Entry[], replace: boolean): Partial<TopicConfig> {
  const changes: Partial<TopicConfig> = replace ? { ...DEFAULT_TOPIC_CONFIG } : {};
  const seen = new Set<string>();
  for (const { name, value, operation } of entries) {
    if (seen.has(name)) throw new InvalidRequestError(`config ${name} is named twice`);
    seen.add(name);
    if (operation < ConfigOperation.SET || operation > ConfigOperation.SUBTRACT)
      throw new InvalidRequestError(`config ${name}: unknown operation ${operation}`);
    if (operation === ConfigOperation.APPEND || operation === ConfigOperation.SUBTRACT)
      throw new InvalidConfigError(`config ${name} is not a list: APPEND and SUBTRACT do not apply`);
    if (operation === ConfigOperation.SET && value === null)
      throw new InvalidRequestError(`config ${name}: a null value (use DELETE to restore the default)`);
    if (name === 'cleanup.policy') {
      if (operation === ConfigOperation.SET && value !== 'delete')
        throw new InvalidConfigError(`cleanup.policy ${value} is not supported: every topic deletes`);
      continue;
    }
    if (!isConfigName(name))
      throw new InvalidConfigError(
        `unsupported topic config ${name} (supported: ${Object.keys(CONFIG_NAMES).join(', ')})`,
      );
    const field = CONFIG_NAMES[name];
    changes[field] = operation === ConfigOperation.DELETE ? DEFAULT_TOPIC_CONFIG[field] : configInteger(name, value!);
  }
  return changes;
}

async function alterOne(
  ctx: KafkaContext,
  resource: { resourceType: number; resourceName: string; entries: Entry[] },
  replace: boolean,
  validateOnly: boolean,
  duplicate: boolean,
  signal: AbortSignal,
): Promise<ResourceResult> {
  const { resourceType, resourceName } = resource;
  const result = (error?: unknown): ResourceResult => ({
    errorCode: error === undefined ? 0 : kafkaErrorCode(error),
    errorMessage: error === undefined ? null : errorMessage(error),
    resourceType,
    resourceName,
  });
  try {
    if (duplicate) throw new InvalidRequestError(`resource ${resourceName} is named twice`);
    if (resourceType === RESOURCE_BROKER)
      throw new InvalidRequestError('broker configs are set when the agent starts (streamhouse serve flags)');
    if (resourceType !== RESOURCE_TOPIC)
      throw new InvalidRequestError(`resource type ${resourceType} is not supported: only topics (2)`);
    const changes = changesOf(resource.entries, replace);
    const topic = await ctx.metadataStore.getTopic(resourceName);
    if (topic === undefined) throw new UnknownTopicOrPartitionError(`no topic ${resourceName}`);
    // Checked here, before the service: its request reads 0 as "unchanged", and 0 is never valid.
    resolveTopicConfig({ ...topic.config, ...changes }, resourceName);
    if (!validateOnly && Object.keys(changes).length > 0) {
      const request = AlterTopicConfigRequest.fromPartial({ name: resourceName, config: changes });
      await ctx.service.alterTopicConfig(request, callContext(signal));
    }
    return result();
  } catch (error) {
    return result(error);
  }
}

/** Resources in request order; a resource named twice answers INVALID_REQUEST each time, as Kafka does. */
async function alterAll(
  ctx: KafkaContext,
  resources: { resourceType: number; resourceName: string; entries: Entry[] }[],
  replace: boolean,
  validateOnly: boolean,
  signal: AbortSignal,
): Promise<ResourceResult[]> {
  const counts = new Map<string, number>();
  const key = (r: { resourceType: number; resourceName: string }) => `${r.resourceType}:${r.resourceName}`;
  for (const r of resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  const results: ResourceResult[] = [];
  for (const r of resources)
    results.push(await alterOne(ctx, r, replace, validateOnly, counts.get(key(r))! > 1, signal));
  return results;
}

export async function handleAlterConfigs(
  ctx: KafkaContext,
  request: AlterConfigsRequest,
  info: RequestInfo,
): Promise<AlterConfigsResponseInit> {
  const resources = request.resources.map((r) => ({
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    entries: r.configs.map((c) => ({ name: c.name, value: c.value, operation: ConfigOperation.SET })),
  }));
  return { throttleTimeMs: 0, responses: await alterAll(ctx, resources, true, request.validateOnly, info.signal) };
}

export async function handleIncrementalAlterConfigs(
  ctx: KafkaContext,
  request: IncrementalAlterConfigsRequest,
  info: RequestInfo,
): Promise<IncrementalAlterConfigsResponseInit> {
  const resources = request.resources.map((r) => ({
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    entries: r.configs.map((c) => ({ name: c.name, value: c.value, operation: c.configOperation })),
  }));
  return { throttleTimeMs: 0, responses: await alterAll(ctx, resources, false, request.validateOnly, info.signal) };
}
