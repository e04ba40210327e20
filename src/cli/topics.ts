/** `streamhouse topics create|delete|list|describe`. */
import { Command } from 'commander';
import { connectAgent } from '../client/agentClient.js';
import type { TopicMetadata } from '../protocol/generated/streamhouse.js';
import { MAX_MESSAGE_BYTES_LIMIT, MAX_PARTITIONS } from '../metadata/validation.js';
import { agentOption, clientTls, type AgentFlags } from './agentOption.js';
import { integerOption } from './integerOption.js';

async function withAgent<T>(
  flags: AgentFlags,
  fn: (client: ReturnType<typeof connectAgent>['client']) => Promise<T>,
): Promise<T> {
  const tls = clientTls(flags);
  const connection = connectAgent(flags.agent, tls === undefined ? {} : { tls });
  try {
    return await fn(connection.client);
  } finally {
    connection.close();
  }
}

export function printTopic(topic: TopicMetadata): void {
  const c = topic.config;
  console.log(
    `topic ${topic.name}: ${topic.partitions.length} partitions` +
      (c
        ? ` (retention.ms ${c.retentionMs}, retention.bytes ${c.retentionBytes}, segment.bytes ${c.segmentBytes}, max.message.bytes ${c.maxMessageBytes})`
        : ''),
  );
  for (const p of topic.partitions) {
    console.log(
      `  partition ${p.partition}: offsets [${p.logStartOffset}, ${p.highWatermark})  leader ${p.leaderAgentId || '-'} ${p.leaderAddress}  epoch ${p.leaseEpoch}`,
    );
  }
}

export function topicsCommand(): Command {
  const topics = new Command('topics').description('create, delete, list and describe topics');
  topics
    .command('create <name>')
    .description('create a topic')
    .addOption(agentOption())
    .option(
      '-p, --partitions <n>',
      `number of partitions (1 to ${MAX_PARTITIONS})`,
      integerOption('--partitions', { min: 1, max: MAX_PARTITIONS }),
      1,
    )
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
      '--max-message-bytes <bytes>',
      `largest batch accepted (1 to ${MAX_MESSAGE_BYTES_LIMIT})`,
      integerOption('--max-message-bytes', { min: 1, max: MAX_MESSAGE_BYTES_LIMIT }),
    )
    .action(
      async (
        name: string,
        o: AgentFlags & {
          partitions: number;
          retentionMs?: number;
          retentionBytes?: number;
          maxMessageBytes?: number;
        },
      ) => {
        const { topic } = await withAgent(o, (c) =>
          c.createTopic({
            name,
            partitions: o.partitions,
            config: {
              retentionMs: o.retentionMs ?? 0,
              retentionBytes: o.retentionBytes ?? 0,
              segmentBytes: 0,
              maxMessageBytes: o.maxMessageBytes ?? 0,
            },
          }),
        );
        if (topic) printTopic(topic);
      },
    );
  topics
    .command('delete <name>')
    .description('delete a topic and its data')
    .addOption(agentOption())
    .action(async (name: string, o: AgentFlags) => {
      await withAgent(o, (c) => c.deleteTopic({ name }));
      console.log(`deleted topic ${name}`);
    });
  topics
    .command('list')
    .description('list topics')
    .addOption(agentOption())
    .action(async (o: AgentFlags) => {
      const { names } = await withAgent(o, (c) => c.listTopics({}));
      for (const name of names) console.log(name);
    });
  topics
    .command('describe <name>')
    .description('partitions, offsets, leaders and config of a topic')
    .addOption(agentOption())
    .action(async (name: string, o: AgentFlags) => {
      const { topic } = await withAgent(o, (c) => c.describeTopic({ name }));
      if (topic) printTopic(topic);
    });
  return topics;
}

export { withAgent };
