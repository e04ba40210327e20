/** `streamhouse topics create|list|describe|alter|delete`. */
import { Command } from 'commander';
import type { TopicConfig, TopicMetadata } from '../protocol/generated/streamhouse.js';
import {
  MAX_MESSAGE_BYTES_LIMIT,
  MAX_PARTITIONS,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
} from '../metadata/validation.js';
import { InvalidRequestError } from '../protocol/errors.js';
import { clientOptions, withAgent, type ClientFlags } from './agentCall.js';
import { integerOption } from './integerOption.js';
import { printJson } from './output.js';

/** The topic as --json prints it. */
export function topicJson(topic: TopicMetadata): object {
  return {
    name: topic.name,
    id: topic.topicId,
    config: topic.config,
    createdAtMs: topic.createdAtMs,
    partitions: topic.partitions,
  };
}

export function printTopic(topic: TopicMetadata, json = false): void {
  if (json) {
    printJson(topicJson(topic));
    return;
  }
  const c = topic.config;
  console.log(
    `topic ${topic.name}: ${topic.partitions.length} partitions` +
      (c
        ? ` (retention.ms ${c.retentionMs}, retention.bytes ${c.retentionBytes}, segment.bytes ${c.segmentBytes}, ` +
          `max.message.bytes ${c.maxMessageBytes})`
        : ''),
  );
  for (const p of topic.partitions) {
    console.log(
      `  partition ${p.partition}: offsets [${p.logStartOffset}, ${p.highWatermark})  leader ` +
        `${p.leaderAgentId || '-'} ${p.leaderAddress}  epoch ${p.leaseEpoch}`,
    );
  }
}

type ConfigFlags = {
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  maxMessageBytes?: number;
};

/** The config flags shared by create and alter. */
function configOptions(command: Command): Command {
  return command
    .option(
      '--retention-ms <ms>',
      'delete segments older than this (-1 keeps forever)',
      integerOption('--retention-ms', { min: 1, minusOne: 'keep forever' }),
    )
    .option(
      '--retention-bytes <bytes>',
      'per-partition size limit (-1 unlimited)',
      integerOption('--retention-bytes', { min: 1, minusOne: 'unlimited' }),
    )
    .option(
      '--segment-bytes <bytes>',
      `compaction merges objects up to this size (${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES})`,
      integerOption('--segment-bytes', { min: MIN_SEGMENT_BYTES, max: MAX_SEGMENT_BYTES }),
    )
    .option(
      '--max-message-bytes <bytes>',
      `largest batch accepted (1 to ${MAX_MESSAGE_BYTES_LIMIT})`,
      integerOption('--max-message-bytes', { min: 1, max: MAX_MESSAGE_BYTES_LIMIT }),
    );
}

/** Flags → proto config; 0 (unset) keeps the default or the current value. */
function protoConfig(o: ConfigFlags): TopicConfig {
  return {
    retentionMs: o.retentionMs ?? 0,
    retentionBytes: o.retentionBytes ?? 0,
    segmentBytes: o.segmentBytes ?? 0,
    maxMessageBytes: o.maxMessageBytes ?? 0,
  };
}

export function topicsCommand(): Command {
  const topics = new Command('topics').description('create, list, describe, alter and delete topics');
  configOptions(
    clientOptions(topics.command('create <name>').description('create a topic')).option(
      '-p, --partitions <n>',
      `number of partitions (1 to ${MAX_PARTITIONS})`,
      integerOption('--partitions', { min: 1, max: MAX_PARTITIONS }),
      1,
    ),
  ).action(async (name: string, o: ClientFlags & ConfigFlags & { partitions: number }) => {
    const { topic } = await withAgent(o, (c) =>
      c.createTopic({ name, partitions: o.partitions, config: protoConfig(o) }),
    );
    if (topic) printTopic(topic, o.json);
  });
  configOptions(
    clientOptions(topics.command('alter <name>').description("change a topic's settings (the others are kept)")),
  ).action(async (name: string, o: ClientFlags & ConfigFlags) => {
    const config = protoConfig(o);
    if (Object.values(config).every((v) => v === 0)) {
      throw new InvalidRequestError(
        'nothing to alter: give at least one of --retention-ms, --retention-bytes, --segment-bytes, ' +
          '--max-message-bytes',
      );
    }
    const { topic } = await withAgent(o, (c) => c.alterTopicConfig({ name, config }));
    if (topic) printTopic(topic, o.json);
  });
  clientOptions(topics.command('delete <name>').description('delete a topic and its data')).action(
    async (name: string, o: ClientFlags) => {
      await withAgent(o, (c) => c.deleteTopic({ name }));
      if (o.json) printJson({ deleted: name });
      else console.log(`deleted topic ${name}`);
    },
  );
  clientOptions(topics.command('list').description('list topics')).action(async (o: ClientFlags) => {
    const { names } = await withAgent(o, (c) => c.listTopics({}));
    if (o.json) printJson({ topics: names });
    else for (const name of names) console.log(name);
  });
  clientOptions(
    topics.command('describe <name>').description('partitions, offsets, leaders and config of a topic'),
  ).action(async (name: string, o: ClientFlags) => {
    const { topic } = await withAgent(o, (c) => c.describeTopic({ name }));
    if (topic) printTopic(topic, o.json);
  });
  return topics;
}
