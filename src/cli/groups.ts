/** `streamhouse groups offsets <group>`: committed offsets and lag of a consumer group. */
import { Command } from 'commander';
import { agentOption, type AgentFlags } from './agentOption.js';
import { withAgent } from './topics.js';
import { topicPartitionId } from '../protocol/topicPartition.js';

export function groupsCommand(): Command {
  const groups = new Command('groups').description('inspect consumer groups');
  groups
    .command('offsets <group>')
    .description("a group's committed offsets, high watermarks and lag per partition")
    .addOption(agentOption())
    .action(async (group: string, o: AgentFlags) => {
      await withAgent(o, async (client) => {
        const { offsets } = await client.fetchOffsets({ groupId: group, partitions: [] });
        if (offsets.length === 0) {
          console.log(`group ${group} has no committed offsets`);
          return;
        }
        const topics = [...new Set(offsets.map((o) => o.topic))];
        const { topics: meta } = await client.metadata({ topics });
        const hwm = new Map(
          meta.flatMap((t) =>
            t.partitions.map((p) => [topicPartitionId(t.name, p.partition), p.highWatermark] as const),
          ),
        );
        let total = 0;
        for (const o of offsets) {
          const high = hwm.get(topicPartitionId(o.topic, o.partition)) ?? o.offset;
          const lag = Math.max(0, high - o.offset);
          total += lag;
          console.log(
            `${o.topic}/${o.partition}\tcommitted ${o.offset}\thigh watermark ${high}\tlag ${lag}${o.metadata ? `\t${o.metadata}` : ''}`,
          );
        }
        console.log(`total lag ${total}`);
      });
    });
  return groups;
}
