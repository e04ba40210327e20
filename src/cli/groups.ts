/** `streamhouse groups list|describe|offsets|reset-offsets|delete`. */
import { Command } from 'commander';
import type { StreamHouseClient } from '../client/agentClient.js';
import {
  fromErrorInfo,
  GroupIdNotFoundError,
  InvalidRequestError,
  OffsetOutOfRangeError,
  UnknownTopicOrPartitionError,
} from '../protocol/errors.js';
import { OffsetSpec } from '../protocol/generated/streamhouse.js';
import { MAX_PARTITIONS } from '../metadata/validation.js';
import { clientOptions, withAgent, type ClientFlags } from './agentCall.js';
import { commitOffsets, groupNotEmptyError } from './groupOffsets.js';
import { integerOption } from './integerOption.js';
import { printJson, printTable } from './output.js';

export type OffsetLag = {
  topic: string;
  partition: number;
  committed: number;
  highWatermark: number;
  lag: number;
  metadata: string;
};

/** The group's committed offsets with the high watermark and lag of each partition. */
export async function offsetsWithLag(client: StreamHouseClient, groupId: string): Promise<OffsetLag[]> {
  const { offsets } = await client.fetchOffsets({ groupId, partitions: [] });
  if (offsets.length === 0) return [];
  const topics = [...new Set(offsets.map((o) => o.topic))];
  const { topics: meta } = await client.metadata({ topics });
  const hwm = new Map(
    meta.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partition}`, p.highWatermark] as const)),
  );
  return offsets.map((o) => {
    const high = hwm.get(`${o.topic}/${o.partition}`) ?? o.offset;
    return {
      topic: o.topic,
      partition: o.partition,
      committed: o.offset,
      highWatermark: high,
      lag: Math.max(0, high - o.offset),
      metadata: o.metadata,
    };
  });
}

function totalLag(offsets: readonly OffsetLag[]): number {
  return offsets.reduce((sum, o) => sum + o.lag, 0);
}

/** What a reset moves: which partitions, and exactly one target (the web console's API takes the same). */
export type ResetTarget = {
  topic?: string;
  partition?: number;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toTimestamp?: number;
};

type ResetFlags = ClientFlags & ResetTarget;

/** The one target a reset names; anything but exactly one is refused. */
function resetSpec(o: ResetTarget): { spec: OffsetSpec; timestampMs: number } | { offset: number } {
  const given = [o.toEarliest, o.toLatest, o.toOffset, o.toTimestamp].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new InvalidRequestError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp');
  }
  if (o.toOffset !== undefined) return { offset: o.toOffset };
  if (o.toTimestamp !== undefined) return { spec: OffsetSpec.OFFSET_SPEC_TIMESTAMP, timestampMs: o.toTimestamp };
  return { spec: o.toEarliest ? OffsetSpec.OFFSET_SPEC_EARLIEST : OffsetSpec.OFFSET_SPEC_LATEST, timestampMs: 0 };
}

/** OffsetOutOfRangeError unless `offset` lies in [log start, high watermark] of every partition. */
async function checkInRange(
  client: StreamHouseClient,
  partitions: readonly { topic: string; partition: number }[],
  offset: number,
): Promise<void> {
  const { topics } = await client.metadata({ topics: [...new Set(partitions.map((p) => p.topic))] });
  for (const { topic, partition } of partitions) {
    const p = topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === partition);
    if (p !== undefined && (offset < p.logStartOffset || offset > p.highWatermark)) {
      throw new OffsetOutOfRangeError(
        `offset ${offset} is outside ${topic}/${partition}'s offsets ${p.logStartOffset} to ${p.highWatermark}`,
      );
    }
  }
}

/** Moves an empty group's offsets (IllegalGenerationError while it has members); the offsets before and after. */
export async function resetOffsets(client: StreamHouseClient, groupId: string, o: ResetTarget) {
  const target = resetSpec(o);
  // A group that does not exist yet may be given offsets (with --topic).
  const described = await client.describeGroup({ groupId }).catch((error: unknown) => {
    if (error instanceof GroupIdNotFoundError) return { members: [] };
    throw error;
  });
  if (described.members.length > 0) throw groupNotEmptyError(groupId, described.members.length);
  const current = await offsetsWithLag(client, groupId);
  // Partitions: those named, or every partition the group has committed offsets on.
  let partitions: { topic: string; partition: number }[];
  if (o.topic !== undefined) {
    const { topics } = await client.metadata({ topics: [o.topic] });
    const failure = fromErrorInfo(topics[0]?.error, { topic: o.topic });
    if (failure !== undefined) throw failure;
    const count = topics[0]?.partitions.length ?? 0;
    if (o.partition !== undefined && o.partition >= count) {
      throw new UnknownTopicOrPartitionError(
        `topic ${o.topic} has ${count} partitions; there is no partition ${o.partition}`,
      );
    }
    partitions = (topics[0]?.partitions ?? [])
      .filter((p) => o.partition === undefined || p.partition === o.partition)
      .map((p) => ({ topic: o.topic!, partition: p.partition }));
  } else {
    if (o.partition !== undefined) throw new InvalidRequestError('--partition needs --topic');
    partitions = current.map((c) => ({ topic: c.topic, partition: c.partition }));
  }
  if (partitions.length === 0)
    throw new InvalidRequestError(`group ${groupId} has no committed offsets: name a --topic`);
  let targets: number[];
  if ('offset' in target) {
    await checkInRange(client, partitions, target.offset);
    targets = partitions.map(() => target.offset);
  } else {
    const ask = (spec: OffsetSpec) =>
      client.listOffsets({ partitions: partitions.map((p) => ({ ...p, spec, timestampMs: target.timestampMs })) });
    const [found, latest] = await Promise.all([ask(target.spec), ask(OffsetSpec.OFFSET_SPEC_LATEST)]);
    targets = found.results.map((r, i) => {
      const failure = fromErrorInfo(r.error, { topic: r.topic, partition: r.partition });
      if (failure !== undefined) throw failure;
      // A timestamp after every record resets to the end.
      return r.offset < 0 ? latest.results[i]!.offset : r.offset;
    });
  }
  const reset = partitions.map((p, i) => ({ ...p, offset: targets[i]! }));
  await commitOffsets(client, groupId, reset);
  const previous = new Map(current.map((c) => [`${c.topic}/${c.partition}`, c.committed]));
  return reset.map((r) => ({ ...r, previous: previous.get(`${r.topic}/${r.partition}`) ?? -1 }));
}

export function groupsCommand(): Command {
  const groups = new Command('groups').description('list, describe, reset and delete consumer groups');
  clientOptions(groups.command('list').description('every consumer group, its state and member count')).action(
    async (o: ClientFlags) => {
      const { groups: listed } = await withAgent(o, (c) => c.listGroups({}));
      if (o.json) printJson({ groups: listed });
      else if (listed.length === 0) console.log('no consumer groups');
      else
        printTable(
          ['GROUP', 'STATE', 'MEMBERS'],
          listed.map((g) => [g.groupId, g.state, g.members]),
        );
    },
  );
  clientOptions(
    groups.command('describe <group>').description("a group's state, members, committed offsets and lag"),
  ).action(async (groupId: string, o: ClientFlags) => {
    const [group, offsets] = await withAgent(o, (c) =>
      Promise.all([c.describeGroup({ groupId }), offsetsWithLag(c, groupId)]),
    );
    const members = group.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId }));
    if (o.json) {
      const { groupId: id, state, generation, protocolName, leaderId } = group;
      printJson({
        groupId: id,
        state,
        generation,
        protocolName,
        leaderId,
        members,
        offsets: offsets.map(({ metadata: _, ...rest }) => rest),
        totalLag: totalLag(offsets),
      });
      return;
    }
    console.log(
      `group ${groupId}: ${group.state}, generation ${group.generation}, ${members.length} ` +
        `member${members.length === 1 ? '' : 's'}` +
        (group.protocolName ? `, protocol ${group.protocolName}` : ''),
    );
    if (members.length > 0) {
      console.log('');
      printTable(
        ['MEMBER', 'CLIENT', 'LEADER'],
        members.map((m) => [m.memberId, m.clientId, m.memberId === group.leaderId ? 'yes' : '']),
      );
    }
    console.log('');
    if (offsets.length === 0) {
      console.log('no committed offsets');
      return;
    }
    printTable(
      ['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH WATERMARK', 'LAG'],
      offsets.map((x) => [x.topic, x.partition, x.committed, x.highWatermark, x.lag]),
    );
    console.log(`total lag ${totalLag(offsets)}`);
  });
  clientOptions(
    groups.command('offsets <group>').description("a group's committed offsets, high watermarks and lag per partition"),
  ).action(async (groupId: string, o: ClientFlags) => {
    const offsets = await withAgent(o, (c) => offsetsWithLag(c, groupId));
    if (o.json) {
      printJson({ groupId, offsets, totalLag: totalLag(offsets) });
      return;
    }
    if (offsets.length === 0) {
      console.log(`group ${groupId} has no committed offsets`);
      return;
    }
    for (const x of offsets) {
      console.log(
        `${x.topic}/${x.partition}\tcommitted ${x.committed}\thigh watermark ${x.highWatermark}\tlag ` +
          `${x.lag}${x.metadata ? `\t${x.metadata}` : ''}`,
      );
    }
    console.log(`total lag ${totalLag(offsets)}`);
  });
  clientOptions(
    groups
      .command('reset-offsets <group>')
      .description("move an empty group's committed offsets to the earliest, the latest, an offset or a timestamp"),
  )
    .option('-t, --topic <name>', 'only this topic (default: every topic the group has offsets on)')
    .option(
      '-p, --partition <n>',
      'only this partition (with --topic)',
      integerOption('--partition', { max: MAX_PARTITIONS - 1 }),
    )
    .option('--to-earliest', 'to the earliest offset kept')
    .option('--to-latest', 'to the high watermark')
    .option('--to-offset <n>', 'to this offset', integerOption('--to-offset'))
    .option(
      '--to-timestamp <ms>',
      'to the first record at or after this time (ms since the epoch)',
      integerOption('--to-timestamp'),
    )
    .action(async (groupId: string, o: ResetFlags) => {
      const reset = await withAgent(o, (c) => resetOffsets(c, groupId, o));
      if (o.json) printJson({ groupId, offsets: reset });
      else
        printTable(
          ['TOPIC', 'PARTITION', 'PREVIOUS', 'OFFSET'],
          reset.map((r) => [r.topic, r.partition, r.previous < 0 ? '-' : r.previous, r.offset]),
        );
    });
  clientOptions(groups.command('delete <group>').description('delete an empty group and its committed offsets')).action(
    async (groupId: string, o: ClientFlags) => {
      await withAgent(o, (c) => c.deleteGroup({ groupId }));
      if (o.json) printJson({ deleted: groupId });
      else console.log(`deleted group ${groupId}`);
    },
  );
  return groups;
}
