/**
 * Committing a group's offsets from the CLI: a commit outside group
 * management, which the agent accepts only while the group has no live
 * members; that refusal is reported in words an operator can act on.
 */
import type { StreamHouseClient } from '../client/agentClient.js';
import { fromErrorInfo, IllegalGenerationError } from '../protocol/errors.js';

export function groupNotEmptyError(groupId: string, members?: number): IllegalGenerationError {
  const who = members === undefined ? 'live members' : `${members} live member${members === 1 ? '' : 's'}`;
  return new IllegalGenerationError(
    `group ${groupId} has ${who}: its offsets can only be changed while it is empty (stop its consumers first)`,
  );
}

/** Commits `offsets` (partition → next offset) of `topic` for `groupId`; throws the first refusal. */
export async function commitGroupOffsets(
  client: StreamHouseClient,
  groupId: string,
  topic: string,
  offsets: ReadonlyMap<number, number>,
): Promise<void> {
  await commitOffsets(
    client,
    groupId,
    [...offsets].map(([partition, offset]) => ({ topic, partition, offset })),
  );
}

export async function commitOffsets(
  client: StreamHouseClient,
  groupId: string,
  offsets: readonly { topic: string; partition: number; offset: number }[],
): Promise<void> {
  if (offsets.length === 0) return;
  const { results } = await client.commitOffsets({
    groupId,
    generationId: -1,
    memberId: '',
    partitions: offsets.map((o) => ({ ...o, metadata: '' })),
  });
  for (const r of results) {
    const failure = fromErrorInfo(r.error, { topic: r.topic, partition: r.partition });
    if (failure instanceof IllegalGenerationError) throw groupNotEmptyError(groupId);
    if (failure !== undefined) throw failure;
  }
}
